"""The access card's QR code reads back as its link: short and long links, the proxy's tg:// link,
and the cached copy of a link drawn before."""

from __future__ import annotations

import pytest

from bot.ui import qr_png
from tests.qr import qr_text

LINKS = [
    "https://shop.example.com/sub/AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "https://vpn.example.org:8443/sub/" + "x" * 120 + "?format=clash",
    "tg://proxy?server=203.0.113.7&port=443&secret=ee" + "0123456789abcdef" * 5 + "676f6f676c652e636f6d",
]


@pytest.mark.parametrize("link", LINKS)
def test_the_code_reads_back_as_its_link(link: str) -> None:
    assert qr_text(qr_png(link)) == link


def test_a_link_drawn_again_is_the_same_code() -> None:
    first = qr_png(LINKS[0] + "-again")
    assert qr_png(LINKS[0] + "-again") is first  # from the cache, not drawn twice
    assert qr_text(first) == LINKS[0] + "-again"

"""`/sub` while PostgreSQL is away (a restart, a failover): the reader says "unavailable", which the
endpoint answers with 503 and Retry-After instead of an unhandled error (tests/test_chaos.py runs
the whole restart)."""

from __future__ import annotations

import pytest

from shop.runtime.temporal import free_port
from shop.subscription.store import PostgresReader, StoreUnavailable


async def test_a_postgres_that_does_not_answer_is_unavailable_not_an_error() -> None:
    reader = PostgresReader(f"postgresql://postgres@127.0.0.1:{free_port()}/vpnshop", "select 1")
    with pytest.raises(StoreUnavailable, match=r"(?i)connect"):
        await reader.find("a" * 22)
    await reader.close()

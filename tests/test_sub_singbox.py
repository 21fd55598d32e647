"""Our sing-box output against the real sing-box core: schema, check, and traffic through a tunnel."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shop.models import PanelClient
from shop.runtime.temporal import free_port
from tests import singbox_core
from tests.conftest import Database
from tests.sub_client import api_client
from tests.sub_data import make_hosts, seed_subscription
from tests.test_sub_endpoint import sub_context

BUILD_LIMIT = re.compile(r"uTLS(, which is required by reality,?)? is not included in this build")


async def singbox_body(database: Database, links: dict[str, str] | None = None) -> dict[str, object]:
    hosts = await make_hosts(database.sessions)
    seeded = await seed_subscription(database.sessions, hosts)
    if links:
        from sqlalchemy import update

        async with database.sessions() as session, session.begin():
            for kind, link in links.items():
                await session.execute(
                    update(PanelClient).where(PanelClient.host_id == hosts[kind]).values(link=link)
                )
    async with api_client(sub_context(database)) as client:
        response = await client.get(f"/sub/{seeded.token}", headers={"User-Agent": "SFA/1.12.0"})
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, object] = response.json()
    return body


async def test_every_field_decodes_in_the_real_core(sqlite_db: Database, tmp_path: Path) -> None:
    config = tmp_path / "sub.json"
    config.write_text(json.dumps(await singbox_body(sqlite_db)), encoding="utf-8")
    decoded = singbox_core.run("format", "-c", str(config))
    assert decoded.returncode == 0, decoded.stderr  # strict decoding: an unknown field fails here
    checked = singbox_core.run("check", "-c", str(config))
    # The PyPI build leaves out uTLS (needed for fingerprints and Reality); the apps' builds include it.
    assert checked.returncode == 0 or BUILD_LIMIT.search(checked.stderr), checked.stderr


async def test_check_passes_in_full_without_fingerprints(sqlite_db: Database, tmp_path: Path) -> None:
    client_id = "b831381d-6324-4d53-ad4f-8cda48b30811"
    no_fingerprint = {
        "ws": f"vless://{client_id}@de1.example.com:443?alpn=h2%2Chttp%2F1.1&encryption=none"
        "&host=cdn.example.com&path=%2Fws&security=tls&sni=de1.example.com&type=ws#x",
        "grpc": f"vless://{client_id}@fi1.example.com:443?authority=&encryption=none&mode=multi"
        "&security=tls&serviceName=grpc&sni=fi1.example.com&type=grpc#x",
        "reality": f"vless://{client_id}@pl2.example.com:80?encryption=none&host=&path=%2Fup"
        "&security=none&type=httpupgrade#x",
    }
    body = await singbox_body(sqlite_db, no_fingerprint)
    vless = [o for o in body["outbounds"] if o["type"] == "vless"]  # type: ignore[attr-defined]
    assert [o["transport"]["type"] for o in vless if "transport" in o] == ["httpupgrade", "ws", "grpc"]
    assert len(vless) == 4  # and the plain TCP one; the XHTTP server has no sing-box form
    config = tmp_path / "sub.json"
    config.write_text(json.dumps(body), encoding="utf-8")
    checked = singbox_core.run("check", "-c", str(config))
    assert checked.returncode == 0, checked.stderr


def make_certificate(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for `name`: the client trusts the CA like a system root."""
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
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


class _Target(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.nonce.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


async def test_http_traffic_passes_through_a_tunnel_built_from_our_output(
    sqlite_db: Database, tmp_path: Path
) -> None:
    client_id = str(uuid.uuid4())
    server_port, proxy_port = free_port(), free_port()
    ca, cert, key = make_certificate(tmp_path, "vpn.test")
    # The sandbox inbound: VLESS over TLS + WebSocket, as a 3x-ui inbound would run it.
    server = {
        "log": {"level": "info"},
        "inbounds": [
            {
                "type": "vless",
                "tag": "vless-in",
                "listen": "127.0.0.1",
                "listen_port": server_port,
                "users": [{"name": "sub", "uuid": client_id}],
                "tls": {
                    "enabled": True,
                    "server_name": "vpn.test",
                    "certificate_path": str(cert),
                    "key_path": str(key),
                },
                "transport": {"type": "ws", "path": "/ws"},
            }
        ],
        "outbounds": [{"type": "direct", "tag": "direct"}],
    }
    link = (
        f"vless://{client_id}@127.0.0.1:{server_port}?encryption=none&host=vpn.test&path=%2Fws"
        "&security=tls&sni=vpn.test&type=ws#Loopback"
    )
    ours = await singbox_body(sqlite_db, {"reality": link})
    [outbound] = [o for o in ours["outbounds"] if o.get("server") == "127.0.0.1"]  # type: ignore[attr-defined]
    # The client: our VLESS outbound verbatim, behind a local proxy port instead of a TUN device.
    client = {
        "log": {"level": "warn"},
        "inbounds": [{"type": "mixed", "tag": "mixed-in", "listen": "127.0.0.1", "listen_port": proxy_port}],
        "outbounds": [outbound],
        "route": {"final": outbound["tag"]},
    }
    target = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    target.nonce = uuid.uuid4().hex  # type: ignore[attr-defined]
    threading.Thread(target=target.serve_forever, daemon=True).start()
    target_url = f"http://127.0.0.1:{target.server_address[1]}/hello"
    try:
        with (
            singbox_core.running(server, tmp_path, "server", server_port),
            singbox_core.running(
                client, tmp_path, "client", proxy_port, {**os.environ, "SSL_CERT_FILE": str(ca)}
            ),
        ):
            async with httpx.AsyncClient(proxy=f"http://127.0.0.1:{proxy_port}", timeout=15) as http:
                response = await http.get(target_url)
    finally:
        target.shutdown()
        target.server_close()
    assert response.status_code == 200
    assert response.text == target.nonce  # type: ignore[attr-defined]
    server_log = (tmp_path / "server.out").read_text(errors="replace")
    assert f"inbound connection to 127.0.0.1:{target.server_address[1]}" in server_log, server_log

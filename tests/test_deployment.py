"""docker-compose.yaml cannot run here (no Docker engine): check it against the code instead."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

from api.app import create_app
from shop.context import AppContext
from shop.runtime.cli import _parser
from shop.search_attributes import ALL as SEARCH_ATTRIBUTES
from shop.settings import Settings, load_settings
from tests.sub_client import app_client

ROOT = Path(__file__).resolve().parent.parent
SHOP_ROLES = {"worker", "api", "bot", "migrate"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def _subcommands() -> set[str]:
    action = next(a for a in _parser()._actions if a.dest == "command")
    return set(action.choices)  # type: ignore[arg-type]


def test_compose_has_the_production_stack() -> None:
    services = _compose()["services"]
    assert {"postgresql", "temporal", "temporal-admin-tools", "temporal-ui"} <= set(services)
    assert set(services) >= SHOP_ROLES
    images = {name: service.get("image", "") for name, service in services.items()}
    assert not any("auto-setup" in image for image in images.values()), "auto-setup is deprecated"
    assert images["temporal-admin-tools"].startswith("temporalio/admin-tools:")
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-ui"].startswith("temporalio/ui:")


def test_shop_services_run_real_commands_with_real_settings() -> None:
    services = _compose()["services"]
    known_settings = {name.upper() for name in Settings.model_fields}
    commands = _subcommands()
    for role in SHOP_ROLES:
        service = services[role]
        assert service.get("build") == ".", f"{role} must be built from the project's Dockerfile"
        assert service["command"][0] in commands, f"{role}: {service['command']} is not a vpnshop command"
        unknown = set(service.get("environment", {})) - known_settings
        assert not unknown, f"{role} sets variables the code does not read: {unknown}"
    for role in SHOP_ROLES - {"migrate"}:
        env = services[role]["environment"]
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233", "scaled roles must use the cluster"
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "migrate" in services[role]["depends_on"]


def test_dockerfile_entrypoint_is_the_cli() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["vpnshop"]' in dockerfile
    copied = set(re.findall(r"^COPY (\w+) ", dockerfile, flags=re.MULTILINE))
    packages = {"shop", "workflows", "activities", "worker", "api", "bot", "sandbox"}
    assert packages <= copied, f"the image lacks {packages - copied}"


def test_namespace_job_registers_the_shops_search_attributes() -> None:
    script = "\n".join(_compose()["services"]["temporal-create-namespace"]["command"])
    assert "--retention 720h" in script
    for key in SEARCH_ATTRIBUTES:
        assert f"{key.name}=" in script, f"search attribute {key.name} is not created in compose"


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert not missing, f".env.example does not document {sorted(missing)}"


def _make_dry_run(target: str, venv: Path) -> list[str]:
    # Run as a fresh top-level make: under `make test` the inherited MAKELEVEL/MAKEFLAGS would add
    # "Entering/Leaving directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    done = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.splitlines()


def test_make_run_installs_the_runtime_only_and_make_test_adds_the_test_tools(tmp_path: Path) -> None:
    venv = tmp_path / "venv"  # a fresh one: make shows every install step
    run, test = _make_dry_run("run", venv), _make_dry_run("test", venv)
    installs = [line for line in run if " install " in line and "--upgrade pip" not in line]
    assert installs == [f"{venv}/bin/pip install -q -e ."], installs
    assert run[-1] == f"{venv}/bin/vpnshop up"
    assert f"{venv}/bin/pip install -q -e '.[test]'" in test
    assert any("/bin/pytest -n 2" in line for line in test)  # in parallel, see README "Testing"
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("make test") < readme.index("owners-guide.md")


async def test_owners_guide_names_only_real_settings_commands_and_routes(tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "owners-guide.md").read_text()
    for topic in (
        "@BotFather",
        "ADMIN_IDS",
        "Caddyfile",
        "nginx",
        "vpnshop migrate",
        "secret.key",
        "/healthz",
    ):
        assert topic in guide, f"the owner's guide does not cover {topic}"
    known_settings = {name.upper() for name in Settings.model_fields}
    named = set(re.findall(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)=", guide))
    assert named and named <= known_settings, f"unknown settings in the guide: {named - known_settings}"
    commands = set(re.findall(r"vpnshop (\w+)", guide)) - {"up"}
    assert commands <= _subcommands(), f"unknown commands in the guide: {commands - _subcommands()}"

    settings = load_settings(
        _env_file=None,
        telegram_bot_token="1:x",
        bot_mode="webhook",
        telegram_webhook_secret="s",
        public_base_url="https://vpn.example.com",
        data_dir=tmp_path,
    )
    ctx = AppContext.open(settings)
    async with app_client(create_app(ctx)) as client:
        for path in re.findall(r"https://vpn\.example\.com(/[a-z]+/[a-z/]+)`", guide):
            answer = await client.post(path, content=b"{}")
            assert answer.status_code not in (404, 405), f"the guide sends providers to {path}: not served"
    await ctx.close()


def test_temporal_ui_and_server_are_published_on_loopback_only() -> None:
    services = _compose()["services"]
    for name in ("temporal-ui", "temporal", "postgresql"):
        for mapping in services[name].get("ports", []):
            published = str(mapping)
            assert published.startswith("127.0.0.1:"), f"{name} publishes {published} beyond loopback"
    assert services["temporal-ui"]["ports"], "the UI stays reachable through a tunnel"


def test_compose_scales_the_stateless_roles_and_keeps_one_bot() -> None:
    services = _compose()["services"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["bot"]["deploy"]["replicas"] == 1, "Telegram hands updates to one poller"
    # Replicas cannot share a host port: the APIs are reached through the load balancer.
    assert "ports" not in services["api"]
    balancer = _compose()["configs"]["api-balancer"]["content"]
    assert "dynamic a api 8080" in balancer and "/healthz" in balancer
    assert services["loadbalancer"]["ports"] == ["8080:8080"]
    for role in ("worker", "api", "bot", "support", "loadbalancer", "postgresql", "temporal"):
        assert services[role]["restart"] == "unless-stopped", role
    for role in ("worker", "api", "bot", "support", "loadbalancer"):
        limits = services[role]["deploy"]["resources"]["limits"]
        assert limits["cpus"] and limits["memory"], role
    health = " ".join(services["api"]["healthcheck"]["test"])
    assert "/healthz" in health

"""docker-compose.yaml cannot run here (no Docker engine): check it against the code instead."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from shop.runtime.cli import _parser
from shop.search_attributes import ALL as SEARCH_ATTRIBUTES
from shop.settings import Settings

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

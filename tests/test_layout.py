"""The layout's import rules (docs/decisions.md, "Rooms"), read from the source with `ast`:

- `shop/` (the domain) never imports `api`, `bot`, `console`, `worker`, `sandbox` or `shop.runtime`;
  `shop/runtime/` may import everything.
- nothing outside `shop/runtime/` (tests and benchmarks aside) imports the runtime;
- `workflows/` import `activities` and `shop` only under `workflow.unsafe.imports_passed_through()`,
  and never a front end or the worker;
- `shop/`'s top level holds only what every capability shares.

Imports inside functions count too: a lazy import breaks a rule as much as one at the top.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FRONT_ENDS_AND_PROCESSES = ("api", "bot", "console", "worker", "sandbox")
SHARED_TOP_LEVEL = {
    "__init__.py",
    "context.py",
    "crypto.py",
    "db.py",
    "http_client.py",
    "models.py",
    "search_attributes.py",
    "settings.py",
    "transitions.py",
}
CAPABILITIES = {
    "access",
    "backups",
    "balance",
    "customers",
    "gifts",
    "messaging",
    "metrics",
    "migrations",
    "money",
    "operators",
    "panel",
    "payments",
    "promo",
    "proxy",
    "runtime",
    "storefront",
    "subscription",
    "support",
}


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    module: str
    passed_through: bool

    def __str__(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line} imports {self.module}"


def _is_pass_through(node: ast.With) -> bool:
    return any(
        isinstance(item.context_expr, ast.Call)
        and ast.unparse(item.context_expr.func).endswith("imports_passed_through")
        for item in node.items
    )


def imports_of(path: Path) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, passed: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(path, child.lineno, alias.name, passed) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                # `from shop import runtime` names a module too: record both spellings.
                found.append(Import(path, child.lineno, child.module, passed))
                found.extend(
                    Import(path, child.lineno, f"{child.module}.{alias.name}", passed)
                    for alias in child.names
                )
            visit(child, passed or (isinstance(child, ast.With) and _is_pass_through(child)))

    visit(ast.parse(path.read_text(), str(path)), False)
    return found


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def under(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def test_the_rules_see_imports() -> None:
    """The checks below are only as good as the reader: it must find both kinds of import."""
    found = {str(i.module) for i in imports_of(ROOT / "workflows" / "payment.py")}
    assert {"activities.ledger", "temporalio.workflow", "workflows.payment_messages"} <= found
    passed = [i for i in imports_of(ROOT / "workflows" / "payment.py") if i.passed_through]
    assert any(i.module == "shop.models" for i in passed)
    runtime = {i.module for f in sources("shop/runtime") for i in imports_of(f)}
    assert any(under(m, "sandbox") for m in runtime), "the demo imports the sandboxes"


def test_domain_never_imports_front_ends_workers_sandboxes_or_the_runtime() -> None:
    broken = [
        str(i)
        for f in sources("shop")
        if "runtime" not in f.relative_to(ROOT / "shop").parts
        for i in imports_of(f)
        if under(i.module, *FRONT_ENDS_AND_PROCESSES, "shop.runtime")
    ]
    assert broken == []


@pytest.mark.parametrize("folder", ["api", "bot", "worker", "activities", "workflows", "sandbox"])
def test_only_the_runtime_uses_the_runtime(folder: str) -> None:
    broken = [str(i) for f in sources(folder) for i in imports_of(f) if under(i.module, "shop.runtime")]
    assert broken == []


def test_workflows_import_activities_and_the_domain_only_passed_through() -> None:
    broken = [
        str(i)
        for f in sources("workflows")
        for i in imports_of(f)
        if (under(i.module, "activities", "shop") and not i.passed_through)
        or under(i.module, *FRONT_ENDS_AND_PROCESSES)
    ]
    assert broken == []


def test_shop_top_level_holds_only_what_every_capability_shares() -> None:
    top = ROOT / "shop"
    modules = {p.name for p in top.glob("*.py")}
    packages = {p.name for p in top.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert modules == SHARED_TOP_LEVEL
    assert packages == CAPABILITIES
    for package in packages - {"migrations"}:
        doc = ast.get_docstring(ast.parse((top / package / "__init__.py").read_text()))
        assert doc and "May use" in doc, f"shop/{package}/__init__.py must say what it owns and may use"

"""The web layer reaches the database only through the page tier's declared transactions."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import proeftuin.web

WEB = Path(proeftuin.web.__file__).parent
RUNNERS = {"run", "run_read", "run_locking", "run_deferred", "transact", "read", "transact_locking"}


def _calls_of_db(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "db"
            and node.attr in RUNNERS
        ):
            found.append(f"{path.name}:{node.lineno} db.{node.attr}")
    return found


def test_no_route_module_runs_a_transaction_of_its_own() -> None:
    modules = sorted(WEB.glob("*.py"))
    assert len(modules) > 10
    found = [call for path in modules for call in _calls_of_db(path)]
    assert found == []


def test_the_check_finds_a_transaction_run_by_hand(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("async def page(r):\n    return await db.run_read(d, f)\n")
    assert _calls_of_db(sample) == ["sample.py:2 db.run_read"]


def _contract(name: str) -> dict[str, object]:
    pyproject = Path(proeftuin.web.__file__).parents[2] / "pyproject.toml"
    contracts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    found = [c for c in contracts["contracts"] if c["name"] == name]
    assert len(found) == 1, name
    contract: dict[str, object] = found[0]
    return contract


def _domain_modules() -> set[str]:
    services = WEB.parent / "services"
    return {f"proeftuin.services.{p.stem}" for p in services.glob("*.py") if p.stem != "__init__"}


def test_the_import_contracts_name_every_domain_module() -> None:
    """A new domain module falls under both contracts: it must be listed in pyproject.toml."""
    domain = _domain_modules()
    assert "proeftuin.services.voting" in domain
    web = _contract("The web layer reaches the domain only through the page tier")
    assert set(web["forbidden_modules"]) >= domain - {"proeftuin.services.permissions"}
    below = _contract("Domain services never import the page tier or the demo")
    assert set(below["source_modules"]) == domain

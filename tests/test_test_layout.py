"""The tests keep their shape: shared helpers live in shared modules (tests/factories.py,
tests/web/clients.py, tests/smtp.py, a conftest.py), never in another test module, and every
domain and page module has its own test file."""

from __future__ import annotations

import ast
from pathlib import Path

import proeftuin.services

TESTS = Path(__file__).parent
SERVICES = Path(proeftuin.services.__file__).parent


def _imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, as absolute dotted names (relative imports resolved)."""
    package = list(path.relative_to(root).parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = ".".join(package[: len(package) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.append((node.lineno, base))
            # ``from tests.web import test_accounts`` imports a test module too
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def imports_of_test_modules(path: Path, root: Path = TESTS.parent) -> list[str]:
    return [
        f"{path.relative_to(root)}:{line} imports {name}"
        for line, name in _imported_modules(path, root)
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    ]


def test_no_test_module_imports_from_another_test_module() -> None:
    modules = sorted(TESTS.rglob("test_*.py"))
    assert len(modules) > 50
    found = [hit for path in modules for hit in imports_of_test_modules(path)]
    assert found == [], "move shared helpers to tests/factories.py or tests/web/clients.py"


def test_the_check_finds_every_way_of_importing_a_test_module(tmp_path: Path) -> None:
    package = tmp_path / "tests" / "web"
    package.mkdir(parents=True)
    sample = package / "test_sample.py"
    sample.write_text(
        "from tests.factories import make_round\n"
        "from tests.web.clients import csrf\n"
        "from tests.web.test_accounts import sign_in\n"
        "import tests.test_mail\n"
        "from tests.services import test_results\n"
        "from .test_browse import add_plan\n"
        "from ..test_jobs import inbox\n"
    )
    assert imports_of_test_modules(sample, tmp_path) == [
        "tests/web/test_sample.py:3 imports tests.web.test_accounts",
        "tests/web/test_sample.py:4 imports tests.test_mail",
        "tests/web/test_sample.py:5 imports tests.services.test_results",
        "tests/web/test_sample.py:6 imports tests.web.test_browse",
        "tests/web/test_sample.py:7 imports tests.test_jobs",
    ]


def _modules(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def test_every_domain_module_has_its_own_test_file() -> None:
    modules = _modules(SERVICES)
    assert "voting" in modules
    missing = [m for m in modules if not (TESTS / "services" / f"test_{m}.py").is_file()]
    assert missing == [], "add tests/services/test_<module>.py"


def test_every_page_module_has_its_own_test_file() -> None:
    modules = _modules(SERVICES / "pages")
    assert "voting" in modules
    missing = [m for m in modules if not (TESTS / "services" / "pages" / f"test_{m}.py").is_file()]
    assert missing == [], "add tests/services/pages/test_<module>.py"

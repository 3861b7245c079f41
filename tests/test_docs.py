"""The repository stands on its own, and its docs say what the code does."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DECISIONS = ROOT / "docs" / "decisions.md"
# Referring to something outside the repository, or to the tracker's numbers.
OUTSIDE = re.compile(r"\.\./shared|DESIGN\.md|\b[Ii]ssues? #?[0-9]+\b")
CITED = re.compile(r"docs/decisions\.md,\s+([A-Z][^.)\n:]*)")


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    skip = (".pb", ".json", ".po", ".pot", ".png", ".jpg", ".lock")
    return [ROOT / n for n in names if not n.endswith(skip) and (ROOT / n).is_file()]


def test_nothing_refers_outside_the_repository_or_to_issue_numbers() -> None:
    found = []
    for path in _tracked_text_files():
        if path == Path(__file__).resolve():
            continue  # its own examples below
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert found == []


def test_the_check_finds_such_a_reference() -> None:
    assert OUTSIDE.search("see ../shared/pabulib") and OUTSIDE.search("(issue 7, row 2)")


def test_every_decision_cited_in_the_code_has_its_heading() -> None:
    headings = set(re.findall(r"^## (.+)$", DECISIONS.read_text(encoding="utf-8"), re.M))
    cited = {}
    for path in _tracked_text_files():
        for match in CITED.finditer(path.read_text(encoding="utf-8", errors="replace")):
            cited[match.group(1).strip()] = path.relative_to(ROOT)
    assert cited, "the code cites decisions"
    missing = {title: str(path) for title, path in cited.items() if title not in headings}
    assert missing == {}

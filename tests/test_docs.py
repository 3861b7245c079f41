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


def test_the_glossary_uses_the_words_of_the_vocabulary() -> None:
    from proeftuin import i18n, vocabulary

    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert "glossary.md" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([^|]+?) \| [^|]+ \| ([^|]+?) \|$", text, flags=re.MULTILINE)
    terms = {term: english for term, english in rows if term not in ("Woord", "-----")}
    named = {
        *vocabulary.PHASE_LABELS.values(),
        *vocabulary.STATUS_LABELS.values(),
        *vocabulary.RULE_NAMES.values(),
    }
    assert set(terms) == named, "the glossary and proeftuin/vocabulary.py name different things"
    for term, english in terms.items():
        assert i18n.gettext(term, "en") == english, term
    # One word for one thing: the timeline names the phases as the phase labels do.
    assert set(vocabulary.TIMELINE_LABELS.values()) <= set(vocabulary.PHASE_LABELS.values())

"""Official outcomes reproduced: per rule kind, the share of Pabulib files whose city outcome the
rule the file names gives, and the time per file.

    python benchmarks/official.py                  # tests/data/pabulib/official
    python benchmarks/official.py FOLDER [FOLDER]  # any folders of .pb files

Time per file is reading the file plus running its rule (``run_official``), the best of a few
runs; files whose outcome differs are listed with the reason the file gives.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

from proeftuin.allocation import read_pb
from proeftuin.allocation.official import OfficialResult, run_official

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pabulib" / "official"
RUNS = 3


def _run(path: Path) -> tuple[OfficialResult, float]:
    best = float("inf")
    result = None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = run_official(read_pb(path))
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return result, best


def _shown(folder: Path) -> str:
    try:
        return str(folder.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[DATA])
    folders = parser.parse_args().folders
    files = sorted(path for folder in folders for path in folder.glob("*.pb"))
    by_rule: dict[str, list[tuple[Path, OfficialResult, float]]] = defaultdict(list)
    for path in files:
        result, seconds = _run(path)
        by_rule[result.rule or "(none)"].append((path, result, seconds))
    print(f"{len(files)} files from {', '.join(_shown(folder) for folder in folders)}\n")
    header = f"{'rule in META':<28} {'files':>5} {'official':>8} {'reproduced':>10} {'share':>7}"
    print(f"{header} {'median ms':>9} {'max ms':>8}")
    compared_all = matched_all = 0
    times_all: list[float] = []
    differing: list[tuple[Path, OfficialResult]] = []
    for rule, rows in sorted(by_rule.items()):
        compared = [r for r in rows if r[1].official is not None]
        matched = sum(bool(r[1].matches) for r in compared)
        times = [seconds for _, _, seconds in rows]
        share = f"{matched / len(compared):.1%}" if compared else "-"
        print(
            f"{rule:<28} {len(rows):>5} {len(compared):>8} {matched:>10} {share:>7} "
            f"{statistics.median(times) * 1000:>9.1f} {max(times) * 1000:>8.1f}"
        )
        compared_all += len(compared)
        matched_all += matched
        times_all += times
        differing += [(path, result) for path, result, _ in compared if not result.matches]
    if compared_all:
        print(
            f"{'all':<28} {len(files):>5} {compared_all:>8} {matched_all:>10} "
            f"{matched_all / compared_all:>7.1%} {statistics.median(times_all) * 1000:>9.1f} "
            f"{max(times_all) * 1000:>8.1f}"
        )
    for path, result in differing:
        why = [result.problem] if result.problem else list(result.reasons)
        print(f"\nnot reproduced: {path.name} ({result.rule})\n  " + "\n  ".join(why))


if __name__ == "__main__":
    main()

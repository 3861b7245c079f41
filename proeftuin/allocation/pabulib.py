"""Read and write Pabulib ``.pb`` files (https://pabulib.org/format), as pabutools 1.2.3 reads them.

A file has three sections, each a keyword line, a header line and semicolon-separated rows:
META (key;value, with ``budget`` and ``vote_type``), PROJECTS (the first column is the id,
``cost`` is required) and VOTES (``vote`` lists project ids separated by commas, ``points`` the
matching points). Like pabutools: lines may end in CRLF, LF or a mix; cells are stripped and a cell
``None`` counts as empty; numbers such as ``400000.0`` or ``2532645,83`` are exact; every VOTES row
is a voter, an empty one too; a project listed twice on a ballot counts once (its first position,
its last points).

Vote types: ``approval`` and ``choose-1`` read as approval; ``cumulative`` and ``scoring`` as
points; ``ordinal`` as rankings (``VoteType.ORDINAL``, never silently approval: the caller chooses
a reading, see ``Election.as_points_by_rank`` and ``as_approval``), with the points of each rank
when the file has a ``points`` column. Other PROJECTS columns (``votes``, ``score``,
``selected``...) are kept as text in ``Election.project_data``. ``num_projects`` and
``num_votes`` in META, when given, must match the rows: a file cut off short is refused. An empty
file is malformed like any other.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from proeftuin.allocation.election import BallotMatrix, Election, Project, VoteType

_SECTIONS = ("meta", "projects", "votes")
_KEYWORD_STARTS = frozenset('mMpPvV"')
_VOTE_TYPES = {
    "approval": VoteType.APPROVAL,
    "choose-1": VoteType.APPROVAL,
    "cumulative": VoteType.POINTS,
    "scoring": VoteType.POINTS,
    "ordinal": VoteType.ORDINAL,
}


class PabulibError(ValueError):
    """A malformed ``.pb`` file; ``line`` is the 1-based line number where it went wrong."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.message = message
        self.line = line


def read_pb(path: str | os.PathLike[str]) -> Election:
    with open(path, "rb") as file:
        return parse_pb(file.read())


def parse_pb(content: str | bytes) -> Election:
    text = _decode(content) if isinstance(content, bytes) else content.removeprefix("\ufeff")
    sections = _split_sections(text)
    meta = _read_meta(sections["meta"])
    projects, project_data = _read_projects(sections["projects"])
    vote_type = _vote_type(meta, sections["meta"])
    matrix = _read_votes(sections["votes"], projects, vote_type)
    budget = _number(meta.values.get("budget"), "budget", meta.lines.get("budget"))
    if budget is None:
        raise PabulibError("META has no budget", sections["meta"].line)
    _check_count(meta, "num_projects", len(projects), "PROJECTS has {count} rows")
    _check_count(meta, "num_votes", matrix.voter_count, "VOTES has {count} rows")
    return Election.from_matrix(budget, projects, matrix, vote_type, meta.values, project_data)


def _check_count(meta: _Meta, key: str, count: int, found: str) -> None:
    """A count in META must match the rows: a file cut off short is refused, not half read."""
    written = meta.values.get(key)
    if written is None or not written:
        return
    try:
        expected = int(written)
    except ValueError:
        raise PabulibError(f"{key} is not a whole number: {written!r}", meta.lines[key]) from None
    if expected != count:
        raise PabulibError(
            f"META says {key} {expected} but {found.format(count=count)} (is the file incomplete?)",
            meta.lines[key],
        )


def format_pb(election: Election) -> str:
    """The election as a ``.pb`` file; the same election always gives the same text.

    Voters get ids 1..n in ballot order. Text is written on one line without surrounding spaces (a
    reader strips cells and splits lines anyway).
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    out.write("META\n")
    writer.writerow(["key", "value"])
    writer.writerows(_meta_rows(election))
    out.write("PROJECTS\n")
    writer.writerow(["project_id", "cost", "name"])
    for project in election.projects:
        _check_id(project.id)
        writer.writerow([project.id, format_decimal(project.cost), _one_line(project.name)])
    out.write("VOTES\n")
    m = election.matrix
    with_points = election.vote_type is VoteType.POINTS or (
        election.vote_type is VoteType.ORDINAL and bool((m.points != 1).any())
    )
    writer.writerow(["voter_id", "vote", "points"] if with_points else ["voter_id", "vote"])
    ids = [project.id for project in election.projects]
    indptr, voted, given = m.indptr.tolist(), m.projects.tolist(), m.points.tolist()
    for voter in range(m.voter_count):
        start, end = indptr[voter], indptr[voter + 1]
        row = [str(voter + 1), ",".join([ids[p] for p in voted[start:end]])]
        if with_points:
            row.append(",".join([str(p) for p in given[start:end]]))
        writer.writerow(row)
    return out.getvalue()


def write_pb(election: Election, path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(format_pb(election))


def format_decimal(value: Fraction) -> str:
    """Exact text for an amount: ``12``, ``2532645.83``, or ``1/3`` when no decimal is exact."""
    if value.denominator == 1:
        return str(value.numerator)
    rest, places = value.denominator, 0
    for prime in (2, 5):
        count = 0
        while rest % prime == 0:
            rest, count = rest // prime, count + 1
        places = max(places, count)
    if rest != 1:
        return f"{value.numerator}/{value.denominator}"
    digits = str(abs(value.numerator) * 10**places // value.denominator).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


@dataclass
class _Section:
    line: int  # of its keyword; the header is the next line, the rows follow it
    lines: list[str]  # header and rows, as text

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) per row after the header, skipping blank rows like pabutools."""
        reader = csv.reader(self.lines, delimiter=";")
        next(reader, None)
        for row in reader:
            if row and (len(row) > 1 or row[0].strip()):
                yield self.line + reader.line_num, row

    @property
    def header(self) -> list[str]:
        first = next(csv.reader(self.lines[:1], delimiter=";"), [])
        return [cell.strip() for cell in first]


@dataclass
class _Meta:
    values: dict[str, str]
    lines: dict[str, int]


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PabulibError("not UTF-8", content[: error.start].count(b"\n") + 1) from None


def _split_sections(text: str) -> dict[str, _Section]:
    lines = text.splitlines()
    if not text.strip():
        raise PabulibError("the file is empty (expected META, PROJECTS and VOTES)", 1)
    starts: list[tuple[str, int]] = []
    for number, line in enumerate(lines):
        # Cheap test first: this runs once per voter.
        if line[:1] in _KEYWORD_STARTS or line.lstrip()[:1] in _KEYWORD_STARTS:
            cells = next(csv.reader([line], delimiter=";"), [""])
            keyword = cells[0].strip().lower()
            if keyword in _SECTIONS:
                starts.append((keyword, number))
    before = lines[: starts[0][1]] if starts else lines
    for number, line in enumerate(before):
        if line.strip():
            raise PabulibError("expected META, PROJECTS or VOTES", number + 1)
    if not starts:
        raise PabulibError("missing META section", len(lines))
    sections: dict[str, _Section] = {}
    ends = [number for _, number in starts[1:]] + [len(lines)]
    for (keyword, number), end in zip(starts, ends, strict=True):
        if keyword in sections:
            raise PabulibError(f"second {keyword.upper()} section", number + 1)
        if keyword == "votes" and len(sections) < 2:
            raise PabulibError("VOTES must come after META and PROJECTS", number + 1)
        if number + 1 >= end:
            raise PabulibError(f"{keyword.upper()} has no header line", number + 1)
        sections[keyword] = _Section(number + 1, lines[number + 1 : end])
    for keyword in _SECTIONS:
        if keyword not in sections:
            raise PabulibError(f"missing {keyword.upper()} section", len(lines))
    return sections


def _read_meta(section: _Section) -> _Meta:
    meta = _Meta({}, {})
    for line, row in section.rows():
        if len(row) < 2:
            raise PabulibError("META rows are key;value", line)
        key = row[0].strip()
        meta.values[key] = row[1].strip()
        meta.lines[key] = line
    return meta


def _read_projects(section: _Section) -> tuple[list[Project], dict[str, dict[str, str]]]:
    """The projects, and per project its other columns (``votes``, ``score``, ``selected``...)."""
    header = section.header
    if "cost" not in header:
        raise PabulibError("PROJECTS has no cost column", section.line + 1)
    cost_column = header.index("cost")
    name_column = header.index("name") if "name" in header else None
    others = [
        (column, key)
        for column, key in enumerate(header)
        if column not in (0, cost_column, name_column) and key
    ]
    projects: list[Project] = []
    data: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    for line, row in section.rows():
        project_id = _cell(row, 0)
        if project_id is None:
            raise PabulibError("project without an id", line)
        if project_id in seen:
            raise PabulibError(f"project {project_id!r} listed twice", line)
        seen.add(project_id)
        cost = _number(_cell(row, cost_column), f"cost of project {project_id!r}", line)
        if cost is None:
            raise PabulibError(f"project {project_id!r} has no cost", line)
        name = _cell(row, name_column) if name_column is not None else None
        projects.append(Project(project_id, cost, name or ""))
        data[project_id] = {key: _cell(row, column) or "" for column, key in others}
    return projects, data


def _vote_type(meta: _Meta, section: _Section) -> VoteType:
    written = meta.values.get("vote_type")
    if written is None:
        raise PabulibError("META has no vote_type", section.line)
    if written not in _VOTE_TYPES:
        raise PabulibError(f"unknown vote_type {written!r}", meta.lines["vote_type"])
    return _VOTE_TYPES[written]


def _read_votes(section: _Section, projects: list[Project], vote_type: VoteType) -> BallotMatrix:
    header = section.header
    if "vote" not in header:
        raise PabulibError("VOTES has no vote column", section.line + 1)
    points_column = header.index("points") if "points" in header else None
    if vote_type is VoteType.POINTS and points_column is None:
        raise PabulibError("VOTES has no points column", section.line + 1)
    if vote_type is VoteType.APPROVAL:
        points_column = None
    cells = _vote_cells(section, header.index("vote"), points_column)
    if vote_type is VoteType.ORDINAL and not any(cells.points):
        points_column = None  # an empty points column: ranks only
    index = {project.id: i for i, project in enumerate(projects)}
    # Ordinal files may give the points of each rank: kept (see Election.as_points_by_rank).
    with_points = points_column is not None
    try:
        return _votes_at_once(cells, index, with_points)
    except (KeyError, ValueError):
        # Unknown ids, odd numbers or a project twice on a ballot: read again row by row, which
        # applies pabutools' rules for repeats and names the line of an error.
        return _votes_row_by_row(cells, index, with_points)


@dataclass
class _VoteCells:
    lines: list[int]
    votes: list[str]
    points: list[str]


def _vote_cells(section: _Section, vote_column: int, points_column: int | None) -> _VoteCells:
    """The vote and points cell of every voter's row, read as ``_cell`` reads them."""
    rows = section.lines[1:]
    if any('"' in row for row in rows):
        numbers, votes, points = [], [], []
        for line, row in section.rows():
            numbers.append(line)
            votes.append(_cell(row, vote_column) or "")
            points.append((_cell(row, points_column) if points_column is not None else "") or "")
        return _VoteCells(numbers, votes, points)
    # Without quotes a row is its text split at ";", several times faster than the csv module.
    first_line = section.line + 2
    kept = [offset for offset, text in enumerate(rows) if text and not text.isspace()]
    texts = rows if len(kept) == len(rows) else [rows[offset] for offset in kept]
    return _VoteCells(
        [first_line + offset for offset in kept],
        _plain_column(texts, vote_column),
        _plain_column(texts, points_column) if points_column is not None else [""] * len(texts),
    )


def _plain_column(texts: list[str], column: int) -> list[str]:
    cells = [
        row[column].strip() if len(row := text.split(";", column + 1)) > column else ""
        for text in texts
    ]
    if any(cell[:1] in ("n", "N") for cell in cells):
        cells = ["" if cell.lower() == "none" else cell for cell in cells]
    return cells


def _votes_at_once(cells: _VoteCells, index: Mapping[str, int], with_points: bool) -> BallotMatrix:
    """Raises KeyError or ValueError for anything but plain rows; then read row by row."""
    lengths = np.array([v.count(",") + 1 if v else 0 for v in cells.votes], dtype=np.int64)
    names = ",".join([v for v in cells.votes if v]).split(",") if lengths.any() else []
    projects = np.array(list(map(index.__getitem__, names)), dtype=np.int64)
    if with_points:
        amounts = ",".join([p for p in cells.points if p]).split(",") if lengths.any() else []
        points = np.array(list(map(int, amounts)), dtype=np.int64)
        if len(points) != len(projects) or (points < 0).any():
            raise ValueError("points do not match votes")
    else:
        points = np.ones(len(projects), dtype=np.int64)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    voter = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    if with_points:
        # A per-row count mismatch could hide behind equal totals.
        counts = np.array([p.count(",") + 1 if p else 0 for p in cells.points], dtype=np.int64)
        if not np.array_equal(counts, lengths):
            raise ValueError("points do not match votes")
    keys = np.sort(voter * max(len(index), 1) + projects)
    if (keys[1:] == keys[:-1]).any():
        raise ValueError("a project twice on one ballot")
    return BallotMatrix(indptr=indptr, projects=projects, points=points)


def _votes_row_by_row(
    cells: _VoteCells, index: Mapping[str, int], with_points: bool
) -> BallotMatrix:
    chosen: list[int] = []
    given: list[int] = []
    lengths: list[int] = []
    for line, vote, points in zip(cells.lines, cells.votes, cells.points, strict=True):
        try:
            if with_points:
                ballot = _points_ballot(vote, points, index)
            else:
                ballot = dict.fromkeys([index[name] for name in vote.split(",") if name], 1)
        except KeyError as error:
            raise PabulibError(f"vote for unknown project {error.args[0]!r}", line) from None
        except ValueError as error:
            raise PabulibError(str(error), line) from None
        chosen.extend(ballot)
        given.extend(ballot.values())
        lengths.append(len(ballot))
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.array(lengths, dtype=np.int64), out=indptr[1:])
    return BallotMatrix(
        indptr=indptr,
        projects=np.array(chosen, dtype=np.int64),
        points=np.array(given, dtype=np.int64),
    )


def _points_ballot(vote: str, points: str, index: Mapping[str, int]) -> dict[int, int]:
    names = vote.split(",") if vote else []
    amounts = points.split(",") if points else []
    if len(names) != len(amounts):
        raise ValueError(f"{len(names)} projects but {len(amounts)} points")
    ballot: dict[int, int] = {}
    for name, amount in zip(names, amounts, strict=True):
        ballot[index[name]] = _points(amount)
    return ballot


def _points(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        number = _number(text.strip(), "points", None)
        if number is None or number.denominator != 1:
            raise ValueError(f"points must be whole numbers, not {text!r}") from None
        value = int(number)
    if value < 0:
        raise ValueError(f"negative points {text!r}")
    return value


def _cell(row: list[str], column: int) -> str | None:
    """A stripped cell; None when it is missing, empty or ``None`` (as pabutools reads it)."""
    if column >= len(row):
        return None
    value = row[column].strip()
    return None if not value or value.lower() == "none" else value


def _number(text: str | None, what: str, line: int | None) -> Fraction | None:
    if text is None:
        return None
    try:
        value = Fraction(text.replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise PabulibError(f"{what} is not a number: {text!r}", line) from None
    if value < 0:
        raise PabulibError(f"{what} is negative: {text!r}", line)
    return value


def _meta_rows(election: Election) -> list[list[str]]:
    written = {
        "num_projects": str(len(election.projects)),
        "num_votes": str(election.matrix.voter_count),
        "budget": format_decimal(election.budget),
        "vote_type": _written_vote_type(election),
    }
    rows = [[key, written.pop(key, _one_line(value))] for key, value in election.meta.items()]
    rows.extend([key, value] for key, value in written.items())
    return rows


def _written_vote_type(election: Election) -> str:
    current = election.meta.get("vote_type", "")
    if _VOTE_TYPES.get(current) is election.vote_type:
        return current  # keeps "scoring" or "choose-1" as the source wrote it
    return {VoteType.APPROVAL: "approval", VoteType.POINTS: "cumulative"}.get(
        election.vote_type, "ordinal"
    )


def _check_id(project_id: str) -> None:
    if not project_id or project_id != project_id.strip() or "," in project_id:
        raise ValueError(f"project id {project_id!r} cannot be written to a .pb file")
    if project_id.lower() in ("none", *_SECTIONS) or _one_line(project_id) != project_id:
        raise ValueError(f"project id {project_id!r} cannot be written to a .pb file")


def _one_line(text: str) -> str:
    return " ".join(text.split()) if any(c in text for c in "\r\n\x0b\x0c") else text.strip()

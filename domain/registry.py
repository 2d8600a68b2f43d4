"""The hub registry's exchange format: CSV or JSON files of hub profiles, read and written.

A CSV file has one hub per line under a header naming the columns of ``COLUMNS`` (any order;
``region``, ``ai_subfields``, ``sectors``, ``competences``, ``languages``, ``infrastructure``
and ``catalogue`` may be missing). Lists are separated by ``;`` (a list whose items hold a ``;``
is written, and may be given, as a JSON array); ``representatives`` and ``catalogue`` hold
JSON arrays. A JSON file is an array of profile objects, as
``dihflow hubs export --format json`` writes it.

Reading never stops at a bad row: each problem is reported with its line (1 = the header in
CSV, the line where the object starts in JSON) and its column (the CSV column's number and
name, or the JSON field), the row is left out and the valid rows are kept. An unknown code is
named with the exact cell it sits in. Pure: text in, profiles and problems out.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from domain.hubs import HubProfile
from domain.taxonomy import vocabulary

COLUMNS = (
    "id",
    "name",
    "short_name",
    "country",
    "region",
    "city",
    "legal_status",
    "organisation_type",
    "founded",
    "staff",
    "funding",
    "services",
    "technologies",
    "ai_subfields",
    "sectors",
    "competences",
    "languages",
    "infrastructure",
    "description",
    "website",
    "email",
    "representatives",
    "catalogue",
)
LIST_COLUMNS = (
    "services",
    "technologies",
    "ai_subfields",
    "sectors",
    "competences",
    "languages",
    "infrastructure",
)
CODE_COLUMNS = {
    "services": "service",
    "technologies": "technology",
    "ai_subfields": "AI subfield",
    "sectors": "sector",
    "competences": "competence",
    "languages": "language",
}
JSON_COLUMNS = ("representatives", "catalogue")
SEPARATOR = ";"


@dataclass(frozen=True)
class Problem:
    """Why one row was left out: where (line, column) and what."""

    line: int
    column: str  # "12 (services)" in CSV, "services" in JSON, "" for the whole row
    message: str
    hub_id: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Row:
    """One row of the file: its profile when valid, else its problems."""

    line: int
    profile: HubProfile | None
    problems: tuple[Problem, ...] = ()


def read_rows(text: str, kind: str) -> Iterator[Row]:
    """Each row of a ``csv`` or ``json`` file, validated. A file that cannot be read at all
    (not CSV with the id column, not a JSON array) yields one row with the problem."""
    if kind == "csv":
        yield from _csv_rows(text)
    elif kind == "json":
        yield from _json_rows(text)
    else:
        raise ValueError(f"unknown file kind {kind!r}; expected csv or json")


def kind_of(filename: str) -> str | None:
    """``csv`` or ``json`` from a file name, None for anything else."""
    lower = filename.lower()
    return "csv" if lower.endswith(".csv") else "json" if lower.endswith(".json") else None


def count_rows(text: str, kind: str) -> int:
    """About how many rows a file holds (for a progress bar; no validation)."""
    if kind == "csv":
        return max(text.count("\n") - 1, 0)
    return text.count('"id"')


# -- CSV --------------------------------------------------------------------------------------
def _csv_rows(text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        yield Row(1, None, (Problem(1, "", "the file is empty"),))
        return
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in ("id", "name") if c not in header]
    if unknown or missing:
        message = "; ".join(
            [f"unknown column {h!r}" for h in unknown] + [f"missing column {m!r}" for m in missing]
        )
        yield Row(1, None, (Problem(1, "", f"{message}; the columns are {', '.join(COLUMNS)}"),))
        return
    position = {name: i + 1 for i, name in enumerate(header)}
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        raw = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}
        yield _row(start, _from_cells(raw), lambda f: _cell(position, f))


def _cell(position: dict[str, int], name: str) -> str:
    return f"{position[name]} ({name})" if name in position else name


def _from_cells(raw: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in raw.items():
        if name in LIST_COLUMNS and not value.startswith("["):
            data[name] = [v.strip() for v in value.split(SEPARATOR) if v.strip()]
        elif name in JSON_COLUMNS or name in LIST_COLUMNS:
            try:
                data[name] = json.loads(value) if value else []
            except json.JSONDecodeError as exc:
                data[name] = _BadJson(str(exc))
        elif value:
            data[name] = value
    return data


class _BadJson(str):
    """A JSON cell that does not parse (kept to be reported with its column)."""


def to_csv(profiles: Iterable[HubProfile]) -> Iterator[str]:
    """CSV text, the header first, then one line per hub (what ``_csv_rows`` reads back)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    for profile in profiles:
        data = profile.model_dump(mode="json")
        cells = []
        for name in COLUMNS:
            value = data.get(name)
            if name in LIST_COLUMNS and not any(
                SEPARATOR in v or v[:1] == "[" for v in value or []
            ):
                cells.append(SEPARATOR.join(value or []))
            elif name in JSON_COLUMNS or name in LIST_COLUMNS:
                cells.append(json.dumps(value or [], ensure_ascii=False, separators=(",", ":")))
            else:
                cells.append("" if value is None else str(value))
        writer.writerow(cells)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# -- JSON -------------------------------------------------------------------------------------
def _json_rows(text: str) -> Iterator[Row]:
    decoder = json.JSONDecoder()
    text = text.lstrip("\ufeff")
    at = _skip_space(text, 0)
    if at >= len(text) or text[at] != "[":
        yield Row(1, None, (Problem(_line(text, at), "", "expected a JSON array of hubs"),))
        return
    at = _skip_space(text, at + 1)
    if at < len(text) and text[at] == "]":
        return
    counted, line = 0, 1  # newlines are counted once, from where the last count stopped
    while at < len(text):
        line += text.count("\n", counted, at)
        counted = at
        try:
            item, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            yield Row(exc.lineno, None, (Problem(exc.lineno, "", f"not JSON: {exc.msg}"),))
            return
        if isinstance(item, dict):
            yield _row(line, item, lambda f: f)
        else:
            yield Row(line, None, (Problem(line, "", "expected an object for a hub"),))
        at = _skip_space(text, at)
        if at < len(text) and text[at] == ",":
            at = _skip_space(text, at + 1)
        elif at < len(text) and text[at] == "]":
            return
        else:
            where = _line(text, at)
            yield Row(where, None, (Problem(where, "", "expected ',' or ']' after a hub"),))
            return


def to_json(profiles: Iterable[HubProfile]) -> Iterator[str]:
    """A JSON array, one hub per line (what ``_json_rows`` reads back)."""
    yield "["
    for i, profile in enumerate(profiles):
        yield ("\n" if i == 0 else ",\n") + profile.model_dump_json(exclude_none=True)
    yield "\n]\n"


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


# -- validation -------------------------------------------------------------------------------
def _row(line: int, data: dict[str, Any], column: Any) -> Row:
    hub_id = str(data.get("id") or "")
    problems = [
        Problem(line, column(name), f"{name} is not valid JSON: {value}", hub_id)
        for name, value in data.items()
        if isinstance(value, _BadJson)
    ]
    problems += _unknown_codes(line, data, column, hub_id)
    if problems:
        return Row(line, None, tuple(problems))
    try:
        return Row(line, HubProfile.model_validate(data))
    except ValidationError as exc:
        return Row(line, None, tuple(_problems(line, exc, column, hub_id)))


def _unknown_codes(line: int, data: dict[str, Any], column: Any, hub_id: str) -> list[Problem]:
    """Every unknown code, named one by one (the model stops at the first of a field)."""
    vocab = vocabulary()
    problems = []
    for name, kind in CODE_COLUMNS.items():
        codes = data.get(name)
        if not isinstance(codes, list):
            continue
        valid: frozenset[str] = getattr(vocab, name)
        for code in codes:
            if isinstance(code, str) and code not in valid:
                message = f"unknown {kind} code {code!r}"
                problems.append(Problem(line, column(name), message, hub_id))
    for name, valid, kind in (
        ("country", vocab.countries, "country"),
        ("organisation_type", vocab.organisation_types, "organisation type"),
    ):
        code = data.get(name)
        if isinstance(code, str) and code not in valid:
            problems.append(Problem(line, column(name), f"unknown {kind} code {code!r}", hub_id))
    return problems


def _problems(line: int, exc: ValidationError, column: Any, hub_id: str) -> Iterator[Problem]:
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        field = loc[0] if loc else ""
        detail = ".".join(loc[1:])
        message = str(error["msg"]).removeprefix("Value error, ")
        if detail:
            message = f"{field}.{detail}: {message}"
        elif field:
            message = f"{field}: {message}"
        yield Problem(line, column(field) if field else "", message, hub_id)

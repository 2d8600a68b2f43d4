"""The registry's exchange format: every field round-trips; problems name line and column."""

from __future__ import annotations

import json

from domain.hubs import HubProfile, load_demo_network
from domain.registry import COLUMNS, read_rows, to_csv, to_json


def _full_profile() -> HubProfile:
    hub = load_demo_network()[0]
    return hub.model_copy(
        update={
            "competences": ["project_management", "ai_regulation"],
            "languages": ["pt", "en"],
            "infrastructure": ["GPU cluster; 8 nodes", 'speech lab, "quiet" room'],
        }
    )


def test_csv_round_trips_every_field_of_every_demo_hub() -> None:
    hubs = [_full_profile(), *load_demo_network()[1:]]
    text = "".join(to_csv(hubs))
    rows = list(read_rows(text, "csv"))
    assert [r.problems for r in rows] == [()] * len(hubs)
    assert [r.profile for r in rows] == hubs


def test_json_round_trips_every_field() -> None:
    hubs = [_full_profile(), *load_demo_network()[1:3]]
    rows = list(read_rows("".join(to_json(hubs)), "json"))
    assert [r.profile for r in rows] == hubs
    assert [r.line for r in rows] == [2, 3, 4]


def test_csv_names_each_unknown_code_with_its_line_and_column_and_keeps_valid_rows() -> None:
    hubs = load_demo_network()[:3]
    lines = "".join(to_csv(hubs)).splitlines()
    column = COLUMNS.index("services") + 1
    lines[2] = lines[2].replace("pilot_production", "pilot_production;teleportation", 1)
    assert "teleportation" in lines[2]
    rows = list(read_rows("\n".join(lines) + "\n", "csv"))
    assert [r.profile.id if r.profile else None for r in rows] == [hubs[0].id, None, hubs[2].id]
    (problem,) = rows[1].problems
    assert (problem.line, problem.column) == (3, f"{column} (services)")
    assert "unknown service code 'teleportation'" in str(problem)
    assert str(problem).startswith(f"line 3, column {column} (services):")


def test_csv_reports_every_unknown_code_of_a_row_and_a_missing_required_field() -> None:
    header = ",".join(["id", "name", "country", "services", "technologies", "sectors"])
    text = f"{header}\nx-hub,X,ZZ,ai_magic;digital_maturity_assessment,quantum_foo,nowhere\n"
    (row,) = read_rows(text, "csv")
    messages = sorted(str(p) for p in row.problems)
    assert messages == [
        "line 2, column 3 (country): unknown country code 'ZZ'",
        "line 2, column 4 (services): unknown service code 'ai_magic'",
        "line 2, column 5 (technologies): unknown technology code 'quantum_foo'",
        "line 2, column 6 (sectors): unknown sector code 'nowhere'",
    ]
    text = f"{header}\nx-hub,X,PT,digital_maturity_assessment,hpc,\n"
    (row,) = read_rows(text, "csv")
    assert row.profile is None
    assert any("city: Field required" in str(p) for p in row.problems)


def test_csv_with_an_unknown_column_is_refused_as_a_whole() -> None:
    (row,) = read_rows("id,name,colour\nx,y,red\n", "csv")
    assert row.profile is None
    assert "unknown column 'colour'" in str(row.problems[0])


def test_json_problems_name_the_line_where_the_hub_starts_and_the_field() -> None:
    good = load_demo_network()[0].model_dump(mode="json")
    bad = {**load_demo_network()[1].model_dump(mode="json"), "languages": ["pt", "klingon"]}
    text = "[\n" + json.dumps(good, indent=2) + ",\n" + json.dumps(bad, indent=2) + "\n]\n"
    rows = list(read_rows(text, "json"))
    start = text.splitlines().index("{", 2) + 1  # the second object's first line
    assert rows[0].profile is not None and rows[1].profile is None
    (problem,) = rows[1].problems
    assert (problem.line, problem.column) == (start, "languages")
    assert "unknown language code 'klingon'" in problem.message


def test_json_that_is_not_an_array_is_one_problem() -> None:
    (row,) = read_rows('{"hubs": []}', "json")
    assert "expected a JSON array" in str(row.problems[0])

"""Lifecycle diagrams come from the declarations themselves, and the README's copies are fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.actions import PAYLOADS, kebab
from domain.diagrams import dot
from domain.lifecycle import LIFECYCLES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lifecycles"


@pytest.mark.parametrize("scenario", sorted(LIFECYCLES))
def test_diagram_names_every_state_and_action_of_the_lifecycle(scenario: str) -> None:
    chart = LIFECYCLES[scenario]
    text = dot(scenario)
    for state in chart.states:
        assert f'"{state.value}" [label=' in text
    events = {e.id for e in chart.events}  # type: ignore[attr-defined]
    for event in events:
        assert (kebab(event) if event in PAYLOADS else event) in text
    assert "peripheries=2" in text and "style=dashed" in text


@pytest.mark.parametrize("scenario", sorted(LIFECYCLES))
def test_committed_diagram_matches_the_declaration(scenario: str) -> None:
    committed = (DOCS / f"{scenario}.dot").read_text()
    assert committed == dot(scenario), (
        "run: dihflow lifecycle SCENARIO > docs/lifecycles/SCENARIO.dot"
    )


def test_framework_agreement_diagram_is_drawn_from_its_declaration_and_fresh() -> None:
    from domain.diagrams import FRAMEWORK
    from domain.framework_lifecycle import FRAMEWORK_ACTIONS, FrameworkLifecycle

    text = dot(FRAMEWORK)
    for state in FrameworkLifecycle.states:
        assert f'"{state.value}" [label=' in text
    for action in FRAMEWORK_ACTIONS:
        assert kebab(action) in text
    assert '[label="quorum_reached", style=dashed' in text
    committed = (DOCS / f"{FRAMEWORK}.dot").read_text()
    assert committed == text, "run: dihflow lifecycle framework_agreement > docs/lifecycles/..."

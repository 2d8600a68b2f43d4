"""``enabled_event_names`` and ``fire`` read each lifecycle's transitions once from its class;
their answers must be python-statemachine's own, asked through a chart, for every state of
every lifecycle, over the cases of the saved histories (every scenario, many moments)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from statemachine.exceptions import TransitionNotAllowed

from domain import lifecycle
from domain.cases import CaseFacts
from domain.lifecycle import LIFECYCLES, enabled_event_names, fire, lifecycle_for

HISTORIES = Path(__file__).resolve().parent.parent / "workflows" / "histories"


def recorded_facts() -> list[CaseFacts]:
    """Every case as a saved history recorded it (the projections' and records' inputs)."""
    found = []
    for path in sorted(HISTORIES.glob("*.json")):
        for event in json.loads(path.read_text())["events"]:
            scheduled = event.get("activityTaskScheduledEventAttributes")
            if not scheduled or scheduled["activityType"]["name"] not in (
                "project_step",
                "record_case",
            ):
                continue
            data = json.loads(base64.b64decode(scheduled["input"]["payloads"][0]["data"]))
            found.append(CaseFacts.model_validate(data["facts"]))
    return found


def distinct(facts: list[CaseFacts]) -> list[CaseFacts]:
    """One case per scenario and answer of every guard: the rest would repeat them."""
    by_answers: dict[tuple[object, ...], CaseFacts] = {}
    for f in facts:
        check = lifecycle._Check(f)
        answers = tuple(bool(getattr(check, name)()) for name in sorted(GUARDS))
        by_answers.setdefault((f.scenario, answers), f)
    return list(by_answers.values())


GUARDS = {n for n in vars(lifecycle.Guards) if not n.startswith("_") and n != "facts"}
FACTS = distinct(recorded_facts())


def at_every_state() -> list[CaseFacts]:
    """Each recorded case put in every state of its lifecycle (the guards read the rest)."""
    return [
        facts.model_copy(update={"state": state.value}, deep=True)
        for facts in FACTS
        for state in LIFECYCLES[facts.scenario].states
    ]


def test_the_histories_cover_every_scenario() -> None:
    assert {f.scenario for f in FACTS} == set(LIFECYCLES) and len(FACTS) > 10


def test_enabled_events_are_the_charts() -> None:
    for facts in at_every_state():
        chart = [e.id for e in lifecycle_for(facts).enabled_events()]
        assert enabled_event_names(facts) == chart, (facts.scenario, facts.state)


def test_every_event_fires_as_the_chart_does() -> None:
    fired = refused = 0
    for facts in at_every_state():
        chart = LIFECYCLES[facts.scenario]
        state = next(s for s in chart.states if s.value == facts.state)
        own = [e.id for e in state.transitions.unique_events]  # guards decide
        others = sorted({e.id for e in chart.events} - set(own))[:2]  # never from this state
        for event in own + others:
            ours, theirs = facts.model_copy(deep=True), facts.model_copy(deep=True)
            try:
                lifecycle_for(theirs).send(event)
            except TransitionNotAllowed:
                with pytest.raises(TransitionNotAllowed):
                    fire(ours, event)
                refused += 1
            else:
                assert fire(ours, event) == theirs.state, (facts.state, event)
                fired += 1
            assert ours == theirs
    assert fired > 100 and refused > 100


def test_a_lifecycle_with_guards_that_are_not_plain_names_is_asked_through_a_chart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    facts = next(f for f in FACTS if f.state == "signing")
    monkeypatch.setattr(lifecycle, "_plan", lambda chart: None)
    assert enabled_event_names(facts) == [e.id for e in lifecycle_for(facts).enabled_events()]

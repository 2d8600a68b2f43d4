"""The pure parts of the case page: forms from declared bodies, waiting-on, diagram, diff."""

from __future__ import annotations

from api.web.diagram import diagram
from api.web.diff import text_diff
from api.web.forms import action_form, body_from_form
from api.web.status import waiting_on
from domain.cases import CaseFacts, Invitation


def _facts(**changes: object) -> CaseFacts:
    base = CaseFacts(
        case_id="c-1",
        scenario="joint_service",
        state="partnering",
        title="t",
        need="n",
        scope="s",
        lead_hub_id="tagus-ai",
        start_date="2026-01-01",
        end_date="2026-06-01",
        partnering_days=14,
        review_days=30,
        created_at="2026-01-01T00:00:00+00:00",
        invitations=[Invitation(hub_id="po-valley-ai", deadline="2026-01-08T00:00:00+00:00")],
        deadlines={
            "partnering": "2026-01-15T00:00:00+00:00",
            "signing_reminder": "2026-01-09T00:00:00+00:00",
        },
    )
    return base.model_copy(update=changes)


def test_a_form_has_a_field_per_declared_body_field() -> None:
    form = action_form("extend-deadline", _facts())
    assert [(f.name, f.kind, f.required) for f in form.fields] == [
        ("deadline", "select", True),
        ("days", "number", True),
    ]
    assert [value for value, _ in form.fields[0].choices] == ["partnering"]  # not reminders
    assert (form.fields[1].minimum, form.fields[1].maximum) == (1, 365)
    cancel = action_form("cancel", _facts())
    assert cancel.label == "Cancel the case" and cancel.fields[0].kind == "textarea"
    assert action_form("approve-draft", _facts()).fields == []
    idle = action_form("extend-deadline", _facts(deadlines={}))
    assert idle.nothing_to_choose == "There is no deadline to choose now."


def test_a_field_a_form_cannot_carry_makes_the_action_api_only_when_required() -> None:
    revise = action_form("revise-draft", _facts())  # its tasks are optional: the form has scope
    assert not revise.api_only and [f.name for f in revise.fields] == ["scope"]


def test_a_posted_form_becomes_the_action_body() -> None:
    facts = _facts()
    assert body_from_form("extend-deadline", {"deadline": "partnering", "days": "5"}, facts) == {
        "deadline": "partnering",
        "days": 5,
    }
    assert (
        body_from_form("extend-deadline", {"deadline": "partnering", "days": "x"}, facts)["days"]
        == "x"
    )  # left for the 422 to name
    assert body_from_form("invite-partners", {"hub_ids": "a-hub, b-hub"}, facts) == {
        "hub_ids": ["a-hub", "b-hub"]
    }
    assert body_from_form("complete-pilot", {"success": "true", "summary": ""}, facts) == {
        "success": True
    }


def test_waiting_on_names_who_must_move() -> None:
    names = {"po-valley-ai": "Po Valley AI Factory"}
    assert waiting_on(_facts(), names) == ["Po Valley AI Factory"]
    assert waiting_on(_facts(state="legal_review"), names) == ["the legal helpdesk"]
    assert waiting_on(_facts(state="drafting"), names) == ["the lead hub"]
    assert waiting_on(_facts(state="cancelled"), names) == []


def test_the_diagram_follows_the_declaration_and_marks_the_current_state() -> None:
    steps, edges = diagram("joint_service", "signing")
    states = [s.state for s in steps]
    spine = ["requested", "partnering", "drafting", "legal_review", "signing", "delivery"]
    assert [s for s in states if s in spine] == spine
    assert {s.state for s in steps if s.final} == {"closed", "rejected", "cancelled", "expired"}
    assert all(s.final for s in steps[-4:])  # the endings come last
    assert [s.state for s in steps if s.current] == ["signing"]
    assert any(e.source == "legal_review" and e.name == "approve-draft" and e.human for e in edges)
    assert any(not e.human for e in edges)  # automatic steps are drawn too


def test_the_diff_shows_changed_paragraphs_with_context() -> None:
    old = [f"p{i}" for i in range(20)]
    new = old[:10] + ["p10 changed"] + old[11:]
    lines = text_diff(old, new)
    assert [(x.kind, x.text) for x in lines if x.kind in ("del", "ins")] == [
        ("del", "p10"),
        ("ins", "p10 changed"),
    ]
    assert any(x.kind == "gap" for x in lines) and ("same", "p9") in [
        (x.kind, x.text) for x in lines
    ]

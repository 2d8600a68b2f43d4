"""The executed copy signed elsewhere: who may attach it, when, and what the timeline records."""

from __future__ import annotations

import pytest

from domain.actions import check_external_copy
from domain.cases import CLIENT, Invitation
from domain.errors import ActionRefused
from domain.outcomes import Event
from domain.steps import attach_external_copy
from tests.factories import LEAD, PARTNER, SHA, draft, make_facts, member, signatory

COPY = "cd" * 32


def _executed():  # type: ignore[no-untyped-def]
    return make_facts(
        "joint_service",
        "delivery",
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        draft=draft(version=2),
        signatures={LEAD: SHA, PARTNER: SHA, CLIENT: SHA},
    )


def test_the_lead_attaches_a_new_copy_and_the_timeline_records_it_by_id_and_hash() -> None:
    facts = _executed()
    assert check_external_copy(facts, member(LEAD), COPY) is True

    out = attach_external_copy(facts, member(LEAD), "c-1-v2-external", COPY)

    assert out.events == [
        Event(
            "executed_copy_attached",
            "principal:member-lead-hub",
            {"document_id": "c-1-v2-external", "sha256": COPY, "version": 2},
        )
    ]
    assert (facts.state, facts.external_copy_sha256) == ("delivery", COPY)
    assert check_external_copy(facts, signatory(LEAD), COPY) is False  # the same file again


def test_another_copy_after_one_is_attached_is_409_naming_the_attached_hash() -> None:
    facts = _executed()
    attach_external_copy(facts, member(LEAD), "c-1-v2-external", COPY)

    with pytest.raises(ActionRefused) as info:
        check_external_copy(facts, member(LEAD), "ef" * 32)

    assert info.value.status == 409 and COPY in info.value.detail


def test_a_copy_before_every_party_signed_is_409() -> None:
    facts = _executed()
    facts.signatures.pop(CLIENT)

    with pytest.raises(ActionRefused) as info:
        check_external_copy(facts, member(LEAD), None)

    assert info.value.status == 409


def test_a_partner_may_not_attach_the_copy() -> None:
    with pytest.raises(ActionRefused) as info:
        check_external_copy(_executed(), signatory(PARTNER), COPY)

    assert info.value.status == 403

"""Signing order: parallel by default; sequential when the case asks for it."""

from __future__ import annotations

import pytest

from domain.actions import allowed_actions
from domain.cases import Caller, Invitation, Role
from tests.domain.test_actions import LEAD, PARTNER, SHA, _draft, make_facts


def signing(order: str, signed: dict[str, str]):  # type: ignore[no-untyped-def]
    return make_facts(
        "signing",
        signing_order=order,
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        draft=_draft(),
        signatures=signed,
    )


def signatory(hub: str) -> Caller:
    return Caller(principal_id=f"s-{hub}", role=Role.hub_signatory, hub_id=hub)


CLIENT_LINK = Caller(principal_id="l", role="link", party="client", link_action="sign")


@pytest.mark.parametrize(
    ("order", "signed", "caller", "may_sign"),
    [
        ("parallel", {}, signatory(PARTNER), True),
        ("parallel", {}, CLIENT_LINK, True),
        ("sequential", {}, signatory(LEAD), True),
        ("sequential", {}, signatory(PARTNER), False),
        ("sequential", {}, CLIENT_LINK, False),
        ("sequential", {LEAD: SHA}, signatory(PARTNER), True),
        ("sequential", {LEAD: SHA}, CLIENT_LINK, False),
        ("sequential", {LEAD: SHA, PARTNER: SHA}, CLIENT_LINK, True),
    ],
)
def test_sign_is_offered_in_turn_when_the_round_is_sequential(
    order: str, signed: dict[str, str], caller: Caller, may_sign: bool
) -> None:
    assert ("sign" in allowed_actions(signing(order, signed), caller)) is may_sign

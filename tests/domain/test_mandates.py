"""Only a hub's authorised representative signs for it, within the mandate."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.actions import signing_authority
from domain.hubs import HubProfile, Representative, load_demo_network

ON = date(2026, 11, 24)
NDA, SPECIFIC = "mutual_nda", "specific_collaboration_agreement"


def rep(rid: str, **mandate: object) -> Representative:
    return Representative(
        id=rid, name=rid.title(), email=f"{rid}@hub.example", title="Director", **mandate
    )  # type: ignore[arg-type]


def hub(*people: Representative) -> HubProfile:
    base = load_demo_network()[0]
    return base.model_copy(update={"representatives": list(people)})


@pytest.mark.parametrize(
    ("people", "who", "template", "why"),
    [
        ([rep("ana")], "ana", SPECIFIC, None),
        (
            [rep("ana", mandate_from=date(2026, 1, 1), mandate_until=date(2026, 12, 31))],
            "ana",
            SPECIFIC,
            None,
        ),
        ([rep("ana", mandate_until=date(2026, 11, 23))], "ana", SPECIFIC, "ended on 2026-11-23"),
        ([rep("ana", mandate_from=date(2026, 12, 1))], "ana", SPECIFIC, "starts on 2026-12-01"),
        ([rep("ana", scope="mutual_nda")], "ana", SPECIFIC, "covers mutual_nda"),
        ([rep("ana", scope="mutual_nda, co_development_agreement")], "ana", NDA, None),
        ([rep("ana"), rep("bob", delegated_by="ana")], "bob", SPECIFIC, None),
        (
            [rep("ana", mandate_until=date(2026, 1, 1)), rep("bob", delegated_by="ana")],
            "bob",
            SPECIFIC,
            "delegated by Ana",
        ),
        ([rep("ana")], "nobody", SPECIFIC, "not tied to an authorised representative"),
        ([rep("ana")], None, SPECIFIC, "not tied to an authorised representative"),
    ],
    ids=[
        "open-mandate",
        "within-dates",
        "ended",
        "not-started",
        "out-of-scope",
        "in-scope-list",
        "valid-delegation",
        "delegator-expired",
        "unknown-representative",
        "key-without-representative",
    ],
)
def test_signing_authority_follows_the_mandate(
    people: list[Representative], who: str | None, template: str, why: str | None
) -> None:
    problem = signing_authority(hub(*people), who, template, ON)
    if why is None:
        assert problem is None
    else:
        assert problem is not None and why in problem


def test_delegation_from_someone_not_a_representative_is_refused() -> None:
    with pytest.raises(ValidationError, match="delegated by 'ghost'"):
        HubProfile.model_validate(
            hub(rep("ana")).model_dump()
            | {"representatives": [rep("bob", delegated_by="ghost").model_dump()]}
        )


def test_signer_name_refuses_with_403_naming_why_when_the_key_has_no_representative() -> None:
    from domain.actions import signer_name
    from domain.errors import ActionRefused

    profile = hub()

    with pytest.raises(ActionRefused) as info:
        signer_name(profile, "nobody", "joint_service", ON, "sign")

    assert info.value.status == 403
    assert "not tied to an authorised representative" in info.value.detail

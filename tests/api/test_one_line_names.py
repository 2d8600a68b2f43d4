"""Titles and names are one line: a control character is a 422 naming the field, and a text
stored before that check never fails a notice for ever (its mail headers are made one line)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from activities.notify import Message, build_email
from tests.e2e.helpers import CLIENT


def case_body(**changes: object) -> dict[str, object]:
    return {
        "scenario": "joint_service",
        "title": "Quality control",
        "need": "Detect defects.",
        "client": CLIENT,
        "invited_hub_ids": ["po-valley-ai"],
    } | changes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "Quality\r\nBcc: everyone@example.org"}, "title"),
        ({"title": "Quality\ncontrol"}, "title"),
        ({"client": CLIENT | {"name": "Cortiça\rExemplo"}}, "client.name"),
        ({"client": CLIENT | {"contact_name": "Ana\x00Ribeiro"}}, "client.contact_name"),
    ],
    ids=["crlf-title", "lf-title", "cr-client-name", "nul-contact-name"],
)
async def test_a_control_character_in_a_title_or_name_is_422(
    api: httpx.AsyncClient, keys: dict[str, str], changes: dict[str, object], field: str
) -> None:
    r = await api.post(
        "/v1/cases",
        json=case_body(**changes),
        headers={"Authorization": f"Bearer {keys['hub_member']}"},
    )
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


def test_a_stored_title_with_a_line_break_still_makes_a_mail() -> None:
    message = Message(
        key="c-1:notice:1",
        case_id="c-1",
        to_name="Ana\r\nRibeiro",
        to_email="ana@example.org",
        subject="[c-1] Invitation: Quality\r\nBcc: everyone@example.org",
        template="state_changed",
        context={"title": "Quality", "previous_state": "a", "new_state": "b", "note": ""},
        link="http://127.0.0.1/v1/cases/c-1",
    )
    mail = build_email(message, "dihflow <no-reply@dihflow.example>", datetime.now(UTC))
    assert mail["Subject"] == "[c-1] Invitation: Quality Bcc: everyone@example.org"
    assert "Bcc" not in mail.keys()

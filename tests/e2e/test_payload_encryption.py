"""With a payload key ring set, what the engine stores of a case is ciphertext: a raw history
read from the server holds no personal data in clear. A rotated ring (a new key first, the old
one kept) still runs and reads the cases started under the old key."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from base.codec import EncryptionCodec, parse_ring
from base.engine import DevServer
from tests.conftest import running_stack
from tests.e2e.helpers import CLIENT, PARTNER, act, read, start_case

pytestmark = pytest.mark.e2e


def new_key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


async def raw_history(dev: DevServer, case_id: str) -> str:
    """The case's history as the engine keeps it: no codec, every payload as stored."""
    client = await Client.connect(dev.address)
    history = await client.get_workflow_handle(f"case-{case_id}").fetch_history()
    return history.to_json()


def stored_bytes(raw: str) -> str:
    """Every payload's data in the raw history, base64-decoded: what the engine has in clear."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "data" and isinstance(value, str):
                    found.append(base64.b64decode(value).decode("utf-8", "replace"))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(raw))
    return "\n".join(found)


def personal(raw: str) -> list[str]:
    text = stored_bytes(raw)
    return [v for v in (CLIENT["email"], CLIENT["contact_name"], CLIENT["name"]) if v in text]


async def test_histories_are_ciphertext_and_survive_a_key_rotation(
    dev_server: DevServer, tmp_path: Path
) -> None:
    old, new = new_key("2026-a"), new_key("2027-a")
    var, queue = tmp_path / "var", f"tq-{uuid.uuid4().hex[:8]}"
    async with running_stack(dev_server, var, payload_keys=old, task_queue=queue) as stack:
        case = await start_case(stack)
        cid = case["id"]
    raw = await raw_history(dev_server, cid)
    assert personal(raw) == [], "personal data stored in clear on the engine"
    assert stored_bytes(raw)  # payloads were found and read: they are sealed, not absent
    assert base64.b64encode(b"binary/encrypted").decode() in raw
    assert base64.b64encode(b"2026-a").decode() in raw  # the key id is in the metadata

    # the same history decrypts with the ring: the data is there, only sealed
    history = (
        await (await Client.connect(dev_server.address))
        .get_workflow_handle(f"case-{cid}")
        .fetch_history()
    )
    codec = EncryptionCodec(parse_ring(old))
    first = history.events[0].workflow_execution_started_event_attributes.input.payloads
    clear = json.dumps([json.loads(p.data) for p in await codec.decode(list(first))])
    assert CLIENT["email"] in clear

    # rotated: a new key first, the old one kept; the case started under the old key goes on
    async with running_stack(
        dev_server, var, payload_keys=f"{new},{old}", task_queue=queue
    ) as stack:
        r = await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")
        assert r.status_code == 200, r.text
        assert (await read(stack, "back_office", cid))["state"] == "legal_review"
    raw = await raw_history(dev_server, cid)
    assert personal(raw) == []
    assert base64.b64encode(b"2027-a").decode() in raw  # new payloads under the new key

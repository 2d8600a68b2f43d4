"""`make run` smoke test: `dihflow dev` on free ports in a temp dir, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from base.engine import free_port

pytestmark = pytest.mark.e2e
DIHFLOW = str(Path(sys.executable).parent / "dihflow")


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def _start(workdir: Path, api_port: int, temporal_port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DIHFLOW_API_PORT": str(api_port)}
    env.pop("DIHFLOW_TEMPORAL_ADDRESS", None)
    return subprocess.Popen(
        [DIHFLOW, "dev", "--temporal-port", str(temporal_port), "--no-ui"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the stack did not become ready")


def _stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    return out.decode()


def test_dev_stack_starts_seeds_keeps_cases_and_stops_cleanly(tmp_path: Path) -> None:
    api_port, temporal_port = free_port(), free_port()
    url = f"http://127.0.0.1:{api_port}"
    proc = _start(tmp_path, api_port, temporal_port)
    try:
        _wait_ready(proc, url)
        keys_file = tmp_path / "var" / "dev-keys.json"
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        entries = json.loads(keys_file.read_text())
        keys = {(k["role"], k["hub"]): k["key"] for k in entries if "key" in k}
        staff = {k["role"]: k for k in entries if "username" in k}
        assert set(staff) == {"back_office", "legal"}
        assert {"back_office", "legal", "hub_member", "hub_signatory"} == {r for r, _ in keys}
        lead = {"Authorization": f"Bearer {keys[('hub_member', 'tagus-ai')]}"}
        hubs = httpx.get(f"{url}/v1/hubs", headers=lead).json()["items"]
        assert len(hubs) == 30
        created = httpx.post(
            f"{url}/v1/cases",
            headers=lead,
            json={
                "scenario": "joint_service",
                "title": "Survives a restart",
                "need": "n",
                "client": {"name": "C", "country": "PT", "email": "c@c.example"},
                "invited_hub_ids": ["po-valley-ai"],
            },
            timeout=30,
        )
        assert created.status_code == 201, created.text
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out
    assert "dfk_" in out  # the keys were printed
    assert staff["back_office"]["password"] in out  # and the staff passwords
    assert _processes_mentioning(str(tmp_path)) == [], "a process of the stack outlived Ctrl-C"

    proc = _start(tmp_path, api_port, temporal_port)
    try:
        _wait_ready(proc, url)
        case = httpx.get(f"{url}/v1/cases/{created.json()['id']}", headers=lead).json()
        assert case["title"] == "Survives a restart" and case["state"] == "partnering"
        partner = {"Authorization": f"Bearer {keys[('hub_member', 'po-valley-ai')]}"}
        step = httpx.post(
            f"{url}/v1/cases/{case['id']}/actions/accept-invitation", headers=partner, timeout=30
        )
        assert step.status_code == 200 and step.json()["state"] == "legal_review", step.text
        office = {"Authorization": f"Bearer {keys[('legal', None)]}"}
        approved = httpx.post(
            f"{url}/v1/cases/{case['id']}/actions/approve-draft", headers=office, timeout=30
        )
        assert approved.status_code == 200, approved.text
        # the embedded default shows the lead the client's link (no mail is sent there), once
        # the outbox has written it (it leaves after the step is recorded)
        deadline = time.monotonic() + 30
        case_url = f"{url}/v1/cases/{case['id']}"
        while not (shown := httpx.get(case_url, headers=lead).json()["links"]):
            assert time.monotonic() < deadline, "no link shown"
            time.sleep(0.1)
        assert [link["action"] for link in shown] == ["sign"] and "/l/" in shown[0]["url"]
        signed_in = httpx.post(
            f"{url}/sign-in",
            data={
                "username": "backoffice",
                "password": staff["back_office"]["password"],
                "sign_in_token": "t",
            },
            cookies={"dihflow_sign_in": "t"},
        )
        assert signed_in.status_code == 303 and "dihflow_staff" in signed_in.cookies
        outbox_page = httpx.get(f"{url}/dev/outbox")
        assert outbox_page.status_code == 200 and shown[0]["url"] in outbox_page.text
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out
    assert "seeded" not in out  # the second start found the network already there
    assert _processes_mentioning(str(tmp_path)) == []

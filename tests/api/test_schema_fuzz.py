"""Schemathesis against the API's own OpenAPI schema, on a live stack (real HTTP, the dev server,
a worker): no 5xx, and every response's status code, content type and body are ones the schema
declares for the operation (``application/problem+json`` for every error).

Driven programmatically rather than through ``schemathesis.pytest``: the stack is an async
fixture and the API serves from this test's event loop, so each operation's cases are sent from
a worker thread with a synchronous client. Bounded and deterministic: the coverage cases
schemathesis derives from the schema (boundary and invalid values, other methods), capped per
operation, then a fixed number of Hypothesis examples per operation with ``derandomize`` - the
same requests every run. ``DIHFLOW_FUZZ_SCALE=10`` multiplies the examples for a longer hunt.
The coverage cases come from ``schema.iter_coverage_cases`` and ``case.meta``, which are not
in schemathesis' documented API: hence ``schemathesis>=4.32,<5`` in the test extra.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.case_start import EXAMPLE
from base.engine import DevServer
from domain.actions import ACTIONS, kebab
from tests.conftest import KEY_HUBS, Stack, running_stack
from tests.e2e.helpers import PARTNER, act, link_token, read, start_case

pytestmark = pytest.mark.e2e
JSON = "application/json"


def no_stack_trace(ctx: Any, response: Any, case: Any) -> bool | None:
    """No answer shows a Python traceback or a source path (problems.py promises so)."""
    body = response.content or b""  # bytes: documents are binary
    for sign in (b"Traceback (most recent call last)", b'File "/', b"site-packages"):
        assert sign not in body, f"the response shows internals ({sign!r}):\n{body[:2000]!r}"
    return None


# Without LibreOffice a PDF cannot be made: the report's documented 503 (the PDF tests skip
# there, and CI's DIHFLOW_REQUIRE_PDF makes them fail instead, so CI still fuzzes the PDF).
PDF_MISSING = shutil.which("soffice") is None and not os.environ.get("DIHFLOW_REQUIRE_PDF")


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, but for the documented "Report format unavailable" where no PDF can be made."""
    if PDF_MISSING and response.status_code == 503:
        if b"Report format unavailable" in (response.content or b""):
            return None
    return not_a_server_error(ctx, response, case)  # type: ignore[no-any-return]


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    no_stack_trace,
]
SCALE = max(1, int(os.environ.get("DIHFLOW_FUZZ_SCALE", "1")))
# Hypothesis examples per operation for each principal ("anonymous" sends no key).
EXAMPLES = {"back_office": 10, "hub_member:tagus-ai": 6, "legal": 4, "anonymous": 3}
# Who also gets schemathesis' coverage cases, and at most how many per operation (spread
# evenly over the whole list, which runs from valid values to each kind of invalid one).
COVERAGE = {"back_office": 30, "hub_member:tagus-ai": 10, "legal": 10}
# The store keeps 64-bit integers: every explicit case with an integer in its query or body is
# also sent with each of them one past that range, and the generated ones now and then.
EDGE = 2**63

# Known defects, each excluded (one check, for one operation, for one principal or "*") until
# it is fixed. Remove the entry with the fix; the test then guards against a regression.
# Known defects, each excluded by (principal, operation, check) with its write-up; none now.
EXCLUDED: dict[tuple[str, str, str], str] = {}


@dataclass
class Fuzzed:
    """A stack of its own (the fuzzing adds hubs, starts cases and uses links), its schema,
    and ids that exist, so that path parameters sometimes name real things."""

    stack: Stack
    schema: Any
    known: dict[str, list[str]]  # path parameter -> values that exist
    bodies: dict[str, list[Any]]  # "METHOD /path" -> valid bodies, to reach authorized 2xx


@pytest.fixture(scope="module")
async def fuzzed(
    dev_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Fuzzed]:
    async with running_stack(dev_server, tmp_path_factory.mktemp("fuzz")) as stack:
        r = await stack.http.get("/openapi.json")
        assert r.status_code == 200, r.text
        schema = schemathesis.openapi.from_dict(r.json())
        # a joint-service case in signing: a rendered draft, and the client's one-time link
        case = await start_case(stack)
        r = await act(stack, f"hub_member:{PARTNER}", case["id"], "accept-invitation")
        assert r.status_code == 200, r.text
        r = await act(stack, "legal", case["id"], "approve-draft")
        assert r.status_code == 200, r.text
        case = await read(stack, "hub_member:tagus-ai", case["id"])
        known = {
            "case_id": [case["id"]],
            "doc_id": [d["id"] for d in case["documents"]],
            "token": [await link_token(stack, case["id"], "sign")],
            "hub_id": list(KEY_HUBS),
            "action": [kebab(a) for a in ACTIONS],
        }
        bodies: dict[str, list[Any]] = {
            "POST /v1/cases": [EXAMPLE, {**EXAMPLE, "lead_hub_id": "tagus-ai"}],
        }
        r = await stack.http.get("/v1/templates", headers=stack.auth("legal"))
        if r.status_code == 200:
            known["name"] = [t["name"] for t in r.json()["items"]]
            bodies["POST /v1/documents"] = [
                {"template": name, "version": 1, "variables": {}} for name in known["name"]
            ]
        yield Fuzzed(stack, schema, known, bodies)


def label_of(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


@dataclass
class Outcome:
    calls: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # the first report per check


class Sender:
    """Sends cases of one operation as one principal and checks each response."""

    def __init__(self, base_url: str, headers: dict[str, str], checks: list[Any]):
        self.base_url, self.headers, self.checks = base_url, headers, checks
        self.session = requests.Session()
        self.outcome = Outcome()

    def send(self, case: Any) -> None:
        outcome = self.outcome
        try:
            response = case.call(
                base_url=self.base_url, session=self.session, headers=self.headers, timeout=90
            )
        except requests.RequestException as exc:
            curl = case.as_curl_command(self.headers, base_url=self.base_url)
            outcome.failures.setdefault("transport", f"{curl}\n{exc!r}")
            return
        outcome.calls += 1
        outcome.statuses[response.status_code] = outcome.statuses.get(response.status_code, 0) + 1
        for check in self.checks:
            try:
                case.validate_response(response, checks=[check], headers=self.headers)
            except FailureGroup as exc:  # the report: the failure, response body, curl command
                outcome.failures.setdefault(check.__name__, str(exc))


def spread(items: list[Any], at_most: int) -> list[Any]:
    """At most ``at_most`` of ``items``, evenly spaced, first and last included."""
    if len(items) <= at_most:
        return items
    step = (len(items) - 1) / (at_most - 1)
    return [items[round(i * step)] for i in range(at_most)]


def varies_path(case: Any) -> bool:
    """Whether a coverage case is about a path parameter (e.g. an empty or a wrong-type id)."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    return getattr(data, "parameter_location", None) == "path"


def is_valid(case: Any) -> bool:
    """Whether a case was generated valid (or built here from a valid body)."""
    meta = case.meta
    return meta is None or meta.generation.mode == GenerationMode.POSITIVE


def is_integer(value: Any, text: bool) -> bool:
    """An integer (not a boolean), or with ``text`` also its decimal spelling (a query value)."""
    if isinstance(value, str):
        return text and value.lstrip("-").isdigit()
    return isinstance(value, int) and not isinstance(value, bool)


def widened(value: Any, edge: int, text: bool = False) -> Any:
    """``value`` with every integer in it replaced by ``edge``."""
    if isinstance(value, dict):
        return {k: widened(v, edge, text) for k, v in value.items()}
    if isinstance(value, list):
        return [widened(v, edge, text) for v in value]
    return edge if is_integer(value, text) else value


def has_integer(value: Any, text: bool = False) -> bool:
    if isinstance(value, dict):
        return any(has_integer(v, text) for v in value.values())
    if isinstance(value, list):
        return any(has_integer(v, text) for v in value)
    return is_integer(value, text)


def explicit_cases(
    operation: Any, known: dict[str, list[str]], bodies: list[Any], coverage: int
) -> list[Any]:
    """Schemathesis' coverage cases (at most ``coverage``) and ``bodies``; path parameters
    name things that exist unless the path is what a case is about; then each case that
    is valid and has integers again with them out of range."""
    cases = []
    for body in bodies:
        path = {p.name: known[p.name][0] for p in operation.path_parameters}
        cases.append(operation.Case(path_parameters=path, body=body, media_type=JSON))
    if coverage:
        schema = operation.schema
        generation = schema.config.generation_for(operation=operation, phase="coverage")
        everything = list(
            schema.iter_coverage_cases(
                operation, generation_modes=list(GenerationMode), generation_config=generation
            )
        )
        for i, case in enumerate(spread(everything, coverage)):
            if not varies_path(case):
                for p in operation.path_parameters:
                    values = known.get(p.name)
                    if values:
                        case.path_parameters[p.name] = values[i % len(values)]
            cases.append(case)
    for case in [c for c in cases if is_valid(c) and c.method.upper() == operation.method.upper()]:
        query = dict(case.query or {})
        body = case.body if isinstance(case.body, dict | list) else None
        if has_integer(query, text=True) or has_integer(body):
            cases.append(
                operation.Case(
                    method=case.method,
                    path_parameters=dict(case.path_parameters or {}),
                    query=widened(query, EDGE, text=True),
                    headers=dict(case.headers or {}),
                    body=case.body if body is None else widened(body, EDGE),
                    media_type=case.media_type,
                )
            )
    return cases


def fuzz_operation(
    operation: Any,
    sender: Sender,
    known: dict[str, list[str]],
    bodies: list[Any],
    examples: int,
    coverage: int,
) -> Outcome:
    """The explicit cases, then ``examples`` generated ones (valid and invalid, and the
    schema's own examples), about half of them with path parameters that exist."""
    for case in explicit_cases(operation, known, bodies, coverage):
        sender.send(case)

    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
        *operation.schema.get_strategies_from_examples(operation),
    )
    ids = st.fixed_dictionaries(
        {p.name: st.sampled_from([None, *known.get(p.name, [])]) for p in operation.path_parameters}
    )
    edges = st.sampled_from([None, None, None, EDGE, -EDGE - 1])

    @given(case=strategy, chosen=ids, edge=edges)
    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # failures are collected, never shrunk
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    def run(case: Any, chosen: dict[str, str | None], edge: int | None) -> None:
        for name, value in chosen.items():
            if value is not None:
                case.path_parameters[name] = value
        if edge is not None:
            if case.query:
                case.query = widened(case.query, edge, text=True)
            if isinstance(case.body, dict | list):
                case.body = widened(case.body, edge)
        sender.send(case)

    run()
    return sender.outcome


def excluded(who: str, label: str, check: str) -> bool:
    return (who, label, check) in EXCLUDED or ("*", label, check) in EXCLUDED


@pytest.mark.parametrize("who", list(EXAMPLES))
async def test_every_operation_answers_as_its_schema_declares(fuzzed: Fuzzed, who: str) -> None:
    stack = fuzzed.stack
    headers = {} if who == "anonymous" else stack.auth(who)
    report: list[str] = []
    seen: list[str] = []
    started = time.monotonic()
    operations = [result.ok() for result in fuzzed.schema.get_all_operations()]
    # reads first: the writes may use up the link or end the case that the reads look at
    for operation in sorted(operations, key=lambda op: op.method.upper() != "GET"):
        label = label_of(operation)
        checks = [c for c in CHECKS if not excluded(who, label, c.__name__)]
        sender = Sender(stack.base_url, headers, checks)
        began = time.monotonic()
        try:
            outcome = await asyncio.to_thread(
                fuzz_operation,
                operation,
                sender,
                fuzzed.known,
                fuzzed.bodies.get(label, []),
                EXAMPLES[who] * SCALE,
                COVERAGE.get(who, 0) * SCALE,
            )
        finally:
            sender.session.close()
        seen.append(
            f"  {label}: {outcome.calls} requests in {time.monotonic() - began:.1f} s,"
            f" statuses {sorted(outcome.statuses)}"
        )
        for check, text in outcome.failures.items():
            report.append(f"=== {label} as {who}: {check}\n{text}")
    print(f"\n{who}: {time.monotonic() - started:.1f} s\n" + "\n".join(seen))
    assert not report, "\n\n".join(report)

"""The worker's sandbox compiles the workflow code once per process: every import of a workflow
module (the sandbox imports it afresh for each workflow) gets fresh globals and the same code."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from temporalio import workflow

import worker
from workflows.case import CollaborationCaseWorkflow


@pytest.fixture
def compiled_once() -> Iterator[None]:
    worker.compile_workflows_once()
    yield


def import_afresh(name: str) -> ModuleType:
    """Import ``name`` as the sandbox does: into a module table without our workflow modules
    (the process's own modules are put back afterwards)."""
    ours = {k: v for k, v in sys.modules.items() if k.partition(".")[0] == "workflows"}
    for key in ours:
        del sys.modules[key]
    try:
        return importlib.import_module(name)
    finally:
        for key in [k for k in sys.modules if k.partition(".")[0] == "workflows"]:
            del sys.modules[key]
        sys.modules.update(ours)


def test_each_import_of_a_workflow_module_shares_code_but_not_globals(compiled_once: None) -> None:
    first, second = import_afresh("workflows.case"), import_afresh("workflows.case")
    one, other = first.CollaborationCaseWorkflow, second.CollaborationCaseWorkflow
    assert first is not second and one is not other
    assert one._open.__code__ is other._open.__code__
    assert one._open.__globals__ is not other._open.__globals__
    assert type(first.__spec__.loader).__name__ == "_CompiledOnce"


def test_the_sandbox_installs_it_once() -> None:
    worker.sandbox_runner()
    worker.sandbox_runner(strict=True)
    finders = [f for f in sys.meta_path if type(f).__name__ == "_CompiledOnceFinder"]
    assert len(finders) == 1


def test_other_modules_load_as_usual(compiled_once: None) -> None:
    assert type(sys.modules["domain.cases"].__spec__.loader).__name__ == "SourceFileLoader"
    assert worker._CompiledOnceFinder().find_spec("domain.cases", None) is None


def test_a_file_changed_after_it_was_compiled_is_not_picked_up(tmp_path: Path) -> None:
    source = tmp_path / "flow_v.py"
    source.write_text("VERSION = 1\n")
    loader = worker._CompiledOnce("flow_v", str(source))
    before = loader.get_code("flow_v")
    source.write_text("VERSION = 2\n")
    after = worker._CompiledOnce("flow_v", str(source)).get_code("flow_v")
    namespace: dict[str, object] = {}
    exec(after, namespace)
    assert after is before and namespace["VERSION"] == 1


async def test_the_workflow_still_loads_in_the_strict_sandbox() -> None:
    runner = worker.sandbox_runner(strict=True)
    defn = workflow._Definition.must_from_class(CollaborationCaseWorkflow)
    runner.prepare_workflow(defn)  # imports the workflow module in a sandbox, twice over
    runner.prepare_workflow(defn)

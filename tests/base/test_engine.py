"""The embedded dev server's command line: the engine settings it is started with."""

from __future__ import annotations

from pathlib import Path

from base.engine import DYNAMIC_CONFIG, DevServer


def test_the_dev_server_starts_with_eager_activities(tmp_path: Path) -> None:
    command = DevServer(tmp_path / "temporal.db", 7299, None).command()
    values = [command[i + 1] for i, arg in enumerate(command) if arg == "--dynamic-config-value"]
    # the value is JSON: the server would read an unquoted string as a string, not as true
    assert "system.enableActivityEagerExecution=true" in values
    assert len(values) == len(DYNAMIC_CONFIG)
    assert command[command.index("--port") + 1] == "7299" and "--headless" in command


def test_a_dev_server_may_be_given_other_engine_settings(tmp_path: Path) -> None:
    off = {"system.enableActivityEagerExecution": False}
    command = DevServer(tmp_path / "t.db", 7299, None, dynamic_config=off).command()
    assert "system.enableActivityEagerExecution=false" in command
    assert "system.enableActivityEagerExecution=true" not in command

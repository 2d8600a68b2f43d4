"""The deployment examples (they cannot be pulled or started here) are parsed and checked
against the code: the official images, every setting they name exists, the search attributes
are the workflows' own, the units run the CLI's commands and stop with SIGTERM."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

from base.engine import DYNAMIC_CONFIG
from base.search import SEARCH_ATTRIBUTES
from base.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SETTING = re.compile(r"\bDIHFLOW_([A-Z0-9_]+)")
FIELDS = {name.upper() for name in Settings.model_fields}


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_compose_runs_the_official_images_and_scales_api_and_workers() -> None:
    services = compose()["services"]
    assert services["postgresql"]["image"].startswith("postgres:")
    for name in ("temporal", "temporal-setup", "temporal-ui"):
        assert services[name]["image"].startswith("temporalio/"), name
    assert services["api"]["command"] == ["dihflow", "api"]
    assert services["worker"]["command"] == ["dihflow", "worker"]
    assert services["migrate"]["command"] == ["dihflow", "migrate"]
    for name in ("api", "worker"):
        assert services[name]["deploy"]["replicas"] >= 2
        assert services[name]["env_file"] == "dihflow.env"
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert any(v.startswith("documents:") for v in services[name]["volumes"])


def test_compose_registers_the_workflows_search_attributes() -> None:
    command = " ".join(compose()["services"]["temporal-setup"]["command"])
    declared = dict(re.findall(r"--name (\w+) --type (\w+)", command))
    expected = {
        key.name: {"KEYWORD": "Keyword", "BOOL": "Bool"}[key.indexed_value_type.name]
        for key in SEARCH_ATTRIBUTES
    }
    assert declared == expected


def test_every_setting_the_examples_name_exists() -> None:
    texts = [
        (DEPLOY / "compose.yaml").read_text(),
        (DEPLOY / "dihflow.env.example").read_text(),
        *(p.read_text() for p in (DEPLOY / "systemd").glob("*.service")),
        (ROOT / "docs" / "deploy.md").read_text(),
    ]
    named = {m for text in texts for m in SETTING.findall(text)}
    assert named, "no settings found"
    assert named <= FIELDS, f"unknown settings: {sorted(named - FIELDS)}"
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / "dihflow.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert env["DIHFLOW_DATABASE_URL"].startswith("postgresql://")
    assert "DIHFLOW_SECRET_KEY" in env and "DIHFLOW_PAYLOAD_KEYS" in env


def test_systemd_units_run_the_cli_and_stop_gracefully() -> None:
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert [u.name for u in units] == ["dihflow-api@.service", "dihflow-worker@.service"]
    for unit in units:
        parser = configparser.ConfigParser(strict=True, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(unit)
        service = parser["Service"]
        command = "api" if "api" in unit.name else "worker"
        assert service["ExecStart"].endswith(f"/bin/dihflow {command}")
        assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) > 10
        assert service["EnvironmentFile"] == "/etc/dihflow/dihflow.env"
        assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_the_deployment_guide_covers_what_an_operator_needs() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for heading in (
        "## Processes",
        "## Search attributes on a cluster",
        "## Migrations",
        "## Keys and their rotation",
        "## Backup and restore",
        "## Upgrades with running cases",
    ):
        assert heading in guide, heading
    for path in re.findall(r"`(deploy/[\w./@-]+)`", guide):
        assert (ROOT / path).exists(), path


def test_the_cluster_gets_the_dev_servers_engine_settings() -> None:
    temporal = compose()["services"]["temporal"]
    path = temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    (mount,) = [v for v in temporal["volumes"] if "temporal-dynamic-config.yaml" in v]
    source, target, _ = mount.split(":")
    assert target == f"/etc/temporal/{path}"  # the image reads it relative to /etc/temporal
    config = yaml.safe_load((DEPLOY / source).read_text())
    assert {key: [{"value": value}] for key, value in DYNAMIC_CONFIG.items()} == config

"""The network's collaboration report from the seeded history (``tests/store/history.py``):
HTML with its charts, the .docx read back with its figures, the progress it reports."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import docx
import pytest

from documents.rendering import docx_text
from documents.report import build_report, report_docx, report_html
from store.db import session_scope
from tests.store.history import PERIOD, seed_history
from tests.store.test_store import seed_hubs


@pytest.fixture
def report(store_url: str) -> Any:
    seed_hubs(store_url)
    seed_history(store_url)
    ticks: list[tuple[int, int, str]] = []
    with session_scope(store_url) as session:
        made = build_report(session, *PERIOD, tick=lambda *t: ticks.append(t))
    made.ticks = ticks  # type: ignore[attr-defined]
    return made


def test_report_data_names_failures_bottlenecks_and_the_country_matrix(report: Any) -> None:
    data = report.data
    assert data["failures"]["by_ending"] == {"rejected": 1, "cancelled": 1, "expired": 1}
    assert {"ending": "expired", "reason": "no partner", "cases": 1} in data["failures"]["reasons"]
    assert data["failures"]["setbacks"]["invitation_declined"] == 1
    assert data["failures"]["setbacks"]["invitation_lapsed"] == 1
    # joint service: delivery takes 9 days on average, the longest phase
    assert data["phases_by_scenario"]["joint_service"]["bottlenecks"] == ["delivery"]
    assert data["phases_by_scenario"]["co_development"]["bottlenecks"] == ["development"]
    matrix = data["cross_border"]
    assert matrix["countries"] == ["DE", "ES", "IT", "PT"]
    cell = dict(
        zip(matrix["countries"], matrix["rows"][matrix["countries"].index("PT")], strict=True)
    )
    assert cell == {"DE": 1, "ES": 0, "IT": 2, "PT": 0}  # tagus led M1 (spree), J1 and J2
    assert (matrix["total"], matrix["cross_border"]) == (5, 4)
    assert data["framework_register"] is None  # no register table in this store


def test_report_reports_its_progress_to_the_end(report: Any) -> None:
    steps = [t[0] for t in report.ticks]
    assert steps == sorted(steps) and report.ticks[-1][0] == report.ticks[-1][1]


def test_html_report_holds_the_charts_and_the_figures(report: Any) -> None:
    html = report_html(report)
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', html)
    assert len(images) == 4 and all(alt for _, alt in images)
    assert all(base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n" for data, _ in images)
    assert "Cases that ended from 2026-01-01 to 2026-01-31: 8." in html
    assert '<span class="bottleneck">joint service: delivery</span>' in html
    assert "Framework agreement register" not in html


def test_docx_report_reads_back_with_the_figures_and_the_charts(report: Any) -> None:
    data = report_docx(report)
    text = docx_text(data)
    assert "Cases that ended from 2026-01-01 to 2026-01-31: 8." in text
    assert "Bottleneck in joint service: delivery." in text
    assert "Invitations accepted: 66.7 % (n=6)" in text
    assert "milestones delivered on time: 80.0 % (n=5)" in text
    assert "PT: 1  0  2  0" in text  # the matrix row of Portugal (DE ES IT PT)
    assert "{{" not in text and "{%" not in text
    assert "Framework agreement register" not in text
    document = docx.Document(io.BytesIO(data))
    assert len(document.inline_shapes) == 4  # the four charts
    rows = [[c.text for c in r.cells] for t in document.tables for r in t.rows]
    assert ["joint service", "2", "1", "0", "0", "1"] in rows
    assert ["Quality", "4", "3"] in rows  # the survey's mean quality from 3 reviews

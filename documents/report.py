"""The network's collaboration report: the data of ``store.report_data`` for a period, its
charts (matplotlib, drawn without a display), and the report as HTML (charts embedded as
PNG images) or as .docx from the template ``templates/reports/network_report.docx``, which
the helpdesk edits like the agreement templates (see ``templates/reports/README.md``).
The PDF is the .docx converted by LibreOffice (``activities.pdf``), by the caller.

``build_report`` reports its progress through ``tick(step, total, what)``: the CLI draws
its progress bar from it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from sqlmodel import Session

from documents.rendering import RenderError, _package_entries, _zip
from domain.clock import utc_naive
from store.indicators import OUTCOMES, Scope
from store.report_data import report_data

REPORTS_DIR = Path(__file__).resolve().parent.parent / "templates" / "reports"
DOCX_TEMPLATE = REPORTS_DIR / "network_report.docx"
HTML_TEMPLATE = "network_report.html"
FORMATS = ("html", "docx", "pdf")
Tick = Callable[[int, int, str], None]
COLOURS = {  # endings, as on the staff pages
    "completed": "#1d7a46",
    "no_review": "#8fbf9f",
    "rejected": "#a3261b",
    "cancelled": "#d9822b",
    "expired": "#7a7a7a",
}
SURVEY_LABELS = {
    "quality": "Quality",
    "timeliness": "Timeliness",
    "communication": "Communication",
    "value": "Value",
    "rating": "Overall",
}


@dataclass
class Report:
    """The report's data and its charts (PNG bytes by name)."""

    data: dict[str, Any]
    charts: dict[str, bytes]
    start: datetime
    end: datetime  # exclusive
    made_at: datetime

    @property
    def last_day(self) -> str:
        return (self.end - timedelta(days=1)).date().isoformat()

    def context(self) -> dict[str, Any]:
        """The variables of the templates (see ``templates/reports/README.md``)."""
        ind = self.data["indicators"]
        fails = self.data["failures"]
        phases = self.data["phases_by_scenario"]
        matrix = self.data["cross_border"]
        return {
            "period_from": self.start.date().isoformat(),
            "period_to": self.last_day,
            "made_at": self.made_at.strftime("%Y-%m-%d %H:%M UTC"),
            "total_cases": ind["cases"]["total"],
            "outcomes": [_words(o) for o in OUTCOMES],
            "by_outcome": [
                {"ending": _words(o), "cases": n} for o, n in ind["cases"]["by_outcome"].items()
            ],
            "by_scenario": [
                {"scenario": _words(s), "counts": [row.get(o, 0) for o in OUTCOMES]}
                for s, row in sorted(ind["cases"]["by_scenario"].items())
            ],
            "phases": [
                {
                    "scenario": _words(s),
                    "phase": _words(p),
                    "days": _num(f["mean"]),
                    "n": f["n"],
                    "bottleneck": "bottleneck" if p in phases[s]["bottlenecks"] else "",
                }
                for s in sorted(phases)
                for p, f in phases[s]["phases"].items()
            ],
            "bottlenecks": [
                {"scenario": _words(s), "phases": ", ".join(_words(p) for p in v["bottlenecks"])}
                for s, v in sorted(phases.items())
                if v["bottlenecks"]
            ],
            "failed": [{"ending": _words(e), "cases": n} for e, n in fails["by_ending"].items()],
            "reasons": [
                {"ending": _words(r["ending"]), "reason": r["reason"], "cases": r["cases"]}
                for r in fails["reasons"]
            ],
            "setbacks": [{"what": _words(t), "count": n} for t, n in fails["setbacks"].items()],
            "countries": matrix["countries"],
            "matrix": [
                {"country": c, "cells": row}
                for c, row in zip(matrix["countries"], matrix["rows"], strict=True)
            ],
            "collaborations": matrix["total"],
            "cross_border_collaborations": matrix["cross_border"],
            "cross_border_share": _pct(ind["cross_border"]["share"]),
            "cross_border_n": ind["cross_border"]["n"],
            "satisfaction": [
                {
                    "score": label,
                    "mean": _num(ind["satisfaction"][k]["mean"]),
                    "n": ind["satisfaction"][k]["n"],
                }
                for k, label in SURVEY_LABELS.items()
            ],
            "would_recommend": _pct(ind["satisfaction"]["would_recommend"]["share"]),
            "would_recommend_n": ind["satisfaction"]["would_recommend"]["n"],
            "peer": [
                {
                    "score": _words(k),
                    "mean": _num(ind["peer_reviews"][k]["mean"]),
                    "n": ind["peer_reviews"][k]["n"],
                }
                for k in ("reliability", "contribution")
            ],
            "collaborate_again": _pct(ind["peer_reviews"]["would_collaborate_again"]["share"]),
            "on_time": _pct(ind["on_time"]["rate"]),
            "on_time_n": ind["on_time"]["n"],
            "acceptance": _pct(ind["invitations"]["acceptance"]["rate"]),
            "acceptance_n": ind["invitations"]["acceptance"]["n"],
            "response_days": _num(ind["invitations"]["response_days"]["mean"]),
            "response_n": ind["invitations"]["response_days"]["n"],
            "signing_days": _num(ind["signature_turnaround_days"]["mean"]),
            "signing_n": ind["signature_turnaround_days"]["n"],
            "repeat_share": _pct(ind["repeat_collaborations"]["share"]),
            "repeat_pairs": ind["repeat_collaborations"]["pairs"],
            "has_register": self.data["framework_register"] is not None,
            "register": self.data["framework_register"] or [],
        }


def _words(code: str) -> str:
    return code.replace("_", " ")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f} %"


def build_report(
    session: Session, start: datetime, end: datetime, tick: Tick | None = None
) -> Report:
    """Read the period's figures and draw the charts; ``end`` is exclusive."""
    say = tick or (lambda step, total, what: None)
    total = 2 + len(CHARTS)
    say(0, total, "reading the store")
    data = report_data(session, Scope(start, end))
    say(1, total, "figures read")
    charts: dict[str, bytes] = {}
    for i, (name, draw) in enumerate(CHARTS.items(), start=2):
        charts[name] = draw(data)
        say(i, total, f"chart: {name.replace('_', ' ')}")
    say(total, total, "report ready")
    return Report(
        data=data, charts=charts, start=start, end=end, made_at=datetime.now().astimezone()
    )


# -- charts ----------------------------------------------------------------------------------
def _figure(width: float = 7.0, height: float = 3.2) -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _png(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def chart_outcomes(data: dict[str, Any]) -> bytes:
    """Cases per scenario, stacked by ending."""
    by_scenario = data["indicators"]["cases"]["by_scenario"]
    scenarios = sorted(by_scenario)
    fig = _figure()
    ax = fig.subplots()
    bottom = [0] * len(scenarios)
    for outcome in OUTCOMES:
        counts = [by_scenario[s].get(outcome, 0) for s in scenarios]
        ax.bar(
            [_words(s) for s in scenarios],
            counts,
            bottom=bottom,
            label=_words(outcome),
            color=COLOURS[outcome],
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_ylabel("cases")
    ax.set_title("Cases per scenario and ending")
    if scenarios:
        ax.legend(fontsize=8, ncols=len(OUTCOMES), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return _png(fig)


def chart_phases(data: dict[str, Any]) -> bytes:
    """Mean days per phase, per scenario; bottleneck phases in red."""
    phases = data["phases_by_scenario"]
    labels, values, colours = [], [], []
    for scenario in sorted(phases):
        for phase, fig_ in phases[scenario]["phases"].items():
            if fig_["mean"] is None:
                continue
            labels.append(f"{_words(scenario)}: {_words(phase)}")
            values.append(fig_["mean"])
            colours.append("#a3261b" if phase in phases[scenario]["bottlenecks"] else "#1f5fbf")
    fig = _figure(height=max(2.5, 0.25 * len(labels) + 1))
    ax = fig.subplots()
    ax.barh(labels[::-1], values[::-1], color=colours[::-1])
    ax.set_xlabel("mean calendar days")
    ax.set_title("Days in each phase (bottlenecks in red)")
    ax.tick_params(axis="y", labelsize=7)
    return _png(fig)


def chart_satisfaction(data: dict[str, Any]) -> bytes:
    """The survey's mean scores (only those from at least 3 reviews) and the peer scores."""
    ind = data["indicators"]
    items = [(label, ind["satisfaction"][k]) for k, label in SURVEY_LABELS.items()]
    items += [(f"peer {k}", ind["peer_reviews"][k]) for k in ("reliability", "contribution")]
    fig = _figure()
    ax = fig.subplots()
    names = [f"{label}\n(n={f['n']})" for label, f in items]
    ax.bar(names, [f["mean"] or 0 for _, f in items], color="#1d7a46")
    ax.set_ylim(0, 5)
    ax.set_ylabel("mean of 5")
    ax.set_title("Satisfaction (no bar: fewer than 3 reviews)")
    ax.tick_params(axis="x", labelsize=7)
    return _png(fig)


def chart_countries(data: dict[str, Any]) -> bytes:
    """The country × country matrix of collaborations as a heat map."""
    matrix = data["cross_border"]
    countries = matrix["countries"]
    side = max(2.5, 0.35 * len(countries) + 1.5)
    fig = _figure(width=side + 1, height=side)
    ax = fig.subplots()
    if countries:
        image = ax.imshow(matrix["rows"], cmap="Blues")
        ax.set_xticks(range(len(countries)), countries, fontsize=7)
        ax.set_yticks(range(len(countries)), countries, fontsize=7)
        fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xlabel("partner hub's country")
    ax.set_ylabel("lead hub's country")
    ax.set_title("Collaborations by country")
    return _png(fig)


CHARTS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "outcomes": chart_outcomes,
    "phases": chart_phases,
    "satisfaction": chart_satisfaction,
    "countries": chart_countries,
}


# -- the report as HTML and as .docx ---------------------------------------------------------
def report_html(report: Report) -> str:
    """One self-contained page: the charts are ``data:`` PNG images."""
    env = Environment(
        loader=FileSystemLoader(REPORTS_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    images = {
        name: "data:image/png;base64," + base64.b64encode(png).decode()
        for name, png in report.charts.items()
    }
    return env.get_template(HTML_TEMPLATE).render(report.context() | {"charts": images})


def report_docx(report: Report, template: Path = DOCX_TEMPLATE) -> bytes:
    """The .docx from the helpdesk's template: its tags filled in, each ``{{ chart_NAME }}``
    an image. Rendered in jinja2's sandbox (the template is edited by people), strict about
    missing variables, with fixed zip timestamps."""
    if not template.is_file():
        raise RenderError(f"report template not found: {template}")
    tpl = DocxTemplate(template)
    images = {
        f"chart_{name}": InlineImage(tpl, io.BytesIO(png), width=Mm(160))
        for name, png in report.charts.items()
    }
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
    try:
        tpl.render(report.context() | images, jinja_env=env, autoescape=True)
    except Exception as exc:  # a broken or outdated template: say which and why
        raise RenderError(f"cannot render {template.name}: {exc}") from exc
    stamp = utc_naive(report.made_at)
    core = tpl.docx.core_properties
    core.created = core.modified = core.last_printed = stamp
    core.last_modified_by = "dihflow"
    return _zip(_package_entries(tpl))

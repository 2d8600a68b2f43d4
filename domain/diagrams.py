"""Lifecycle diagrams as Graphviz DOT text, drawn from the same declarations the workflow runs.

Human steps (actions, kebab-case as in the API) are solid edges; system steps (automatic
progress, timers) are dashed. ``dot -Tsvg`` (Debian package ``graphviz``) turns the text
into SVG; ``dihflow lifecycle SCENARIO`` prints it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container
from typing import Any

from domain.actions import PAYLOADS, kebab
from domain.framework_lifecycle import FRAMEWORK_ACTIONS, FrameworkLifecycle
from domain.lifecycle import LIFECYCLES

FRAMEWORK = "framework_agreement"  # the framework agreement edition's diagram


def dot(scenario: str) -> str:
    """The lifecycle of ``scenario`` (or of ``FRAMEWORK``, the framework agreement edition)."""
    if scenario == FRAMEWORK:
        return draw(scenario, FrameworkLifecycle, FRAMEWORK_ACTIONS)
    return draw(scenario, LIFECYCLES[scenario], PAYLOADS)


def draw(scenario: str, chart: Any, actions: Container[str]) -> str:
    """DOT text of ``chart``: events in ``actions`` solid (kebab-case), the others dashed."""
    edges: dict[tuple[str, str, bool], list[str]] = defaultdict(list)
    for state in chart.states:
        for transition in state.transitions:
            for event in transition.event.split():
                human = event in actions
                key = (state.value, transition.target.value, human)
                name = kebab(event) if human else event
                if name not in edges[key]:
                    edges[key].append(name)
    lines = [
        f'digraph "{scenario}" {{',
        "  rankdir=LR;",
        '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
        "  start [shape=point, width=0.15];",
    ]
    for state in chart.states:
        shape = ", peripheries=2" if state.final else ""
        lines.append(f'  "{state.value}" [label="{state.value}"{shape}];')
    lines.append(f'  start -> "{chart.initial_state.value}";')
    for (source, target, human), names in edges.items():
        style = "" if human else ', style=dashed, color="#777777"'
        label = "\\n".join(names)
        lines.append(f'  "{source}" -> "{target}" [label="{label}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"

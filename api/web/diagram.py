"""The lifecycle diagram of the case page, drawn as HTML from the same declaration as
``docs/lifecycles`` (``domain.lifecycle.LIFECYCLES``, read the way ``domain.diagrams.dot``
reads it): the states in the order the lifecycle reaches them, the current one marked, and
every transition as a row (human steps by their action name, automatic ones marked so).
Plain HTML, so it needs no Graphviz and reads well in a screen reader and on a phone.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from domain.actions import PAYLOADS, kebab
from domain.lifecycle import LIFECYCLES


@dataclass(frozen=True)
class Step:
    state: str
    final: bool
    current: bool


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    name: str
    human: bool


def diagram(scenario: str, current: str) -> tuple[list[Step], list[Edge]]:
    chart = LIFECYCLES[scenario]
    edges: list[Edge] = []
    following: dict[str, list[str]] = {}
    for state in chart.states:
        for transition in state.transitions:
            for event in transition.event.split():
                human = event in PAYLOADS
                edge = Edge(
                    state.value, transition.target.value, kebab(event) if human else event, human
                )
                if edge not in edges:
                    edges.append(edge)
                following.setdefault(state.value, []).append(transition.target.value)
    finals = {s.value for s in chart.states if s.final}
    order: list[str] = []
    queue = deque([chart.initial_state.value])
    while queue:  # breadth first: the order in which a case can reach each state
        value = queue.popleft()
        if value in order:
            continue
        order.append(value)
        queue.extend(t for t in following.get(value, []) if t not in order)
    order = [v for v in order if v not in finals] + [v for v in order if v in finals]
    order += [s.value for s in chart.states if s.value not in order]
    steps = [Step(v, v in finals, v == current) for v in order]
    return steps, edges

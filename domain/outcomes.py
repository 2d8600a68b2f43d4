"""What a step produces: timeline events, effects for the workflow to carry out, notices.

``domain.steps`` builds an ``Outcome``; the case workflow dispatches each ``Effect`` with
``match`` to the activity that carries it out, chains the ``Event``s into the timeline and sends
the ``Notice``s. Events and effects never cross Temporal themselves (the workflow turns them
into activity payloads), so they are plain frozen dataclasses; a ``Notice`` is sent to the
``notify`` activity as it is, so it is a pydantic model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Event:
    """One timeline event to record: its type, who took it (``Caller.actor`` or ``system``)
    and its data (ids and hashes only; see ``domain.timeline``)."""

    type: str
    actor: str
    data: dict[str, Any] = field(default_factory=dict)


# -- effects: each is carried out by one activity (see the table in ``workflows/case.py``) -----
@dataclass(frozen=True)
class RenderDraft:
    """Render the next version of the agreement (then the lifecycle's ``draft_ready``)."""


# What a link may ask an external party for, each with the other answers the same link takes
# (saying no). Declared once: the steps issue links for these, the API documents a link's body
# as one of ``LINK_ACTIONS`` and a link token permits only its own.
LINK_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "sign": ("decline_to_sign",),
    "consent": ("decline_consent",),
    "review": (),
}
LINK_ACTIONS = tuple(a for asked, others in LINK_ALTERNATIVES.items() for a in (asked, *others))


@dataclass(frozen=True)
class IssueLink:
    """Send an external party (``client``/``local_player``) a one-time link for ``action``
    (one of ``LINK_ALTERNATIVES``); ``subject`` says what it is about when the party may hold
    several (a candidate hub)."""

    action: str
    party: str
    subject: str | None = None
    again: bool = False  # a nudge: the same link sent again (its expiry renewed), with a note
    note: str = ""

    def __post_init__(self) -> None:
        if self.action not in LINK_ALTERNATIVES:
            raise ValueError(f"a link cannot ask for {self.action!r}")


@dataclass(frozen=True)
class RankCandidates:
    """Rank hubs for the case's needs: a matchmaking case's candidates (then
    ``candidates_ranked``), a joint service's suggested partners (advice; no step)."""


@dataclass(frozen=True)
class PublishService:
    """Add a co-developed service to each co-developer's catalogue."""


@dataclass(frozen=True)
class ExecuteAgreement:
    """Make the executed copy once the step with the last signature is recorded."""


Effect = RenderDraft | IssueLink | RankCandidates | PublishService | ExecuteAgreement


def link_purpose(action: str, party: str, version: int, subject: str | None = None) -> str:
    """What one link token is for, unique per case: the token is derived from it, so the link
    a reminder carries is the very link the party was first sent (``sign:v2:client``), and a
    link about a subject is one per subject (``consent:fjord-ai``)."""
    return f"{action}:{subject}" if subject else f"{action}:v{version}:{party}"


class Notice(BaseModel):
    """A message for a hub (by id) or an external party (``client``/``local_player``)."""

    to: str
    template: str  # invitation, link, reminder, deadline, state_changed
    subject: str
    context: dict[str, str] = {}
    link_action: str | None = None  # with link_purpose: the one-time link to include
    link_purpose: str | None = None


@dataclass
class Outcome:
    events: list[Event] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def event(self, type: str, actor: str, **data: Any) -> None:
        self.events.append(Event(type, actor, data))

    def notify(self, to: str, template: str, subject: str, **context: str) -> None:
        self.notices.append(Notice(to=to, template=template, subject=subject, context=context))

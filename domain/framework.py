"""The framework collaboration agreement: one *edition* from consultation to its register.

Pure functions over an ``Edition`` (a pydantic model the workflow holds and carries over
continue-as-new); the current time is always passed in. The lifecycle
(``domain.framework_lifecycle.FrameworkLifecycle``) decides which step is legal in which state;
the functions here check the rest (who, what, until when) and apply the step, returning the
timeline events it records. A refusal is a ``FrameworkRefused`` carrying its HTTP status.

- **consultation** until ``deadline``: member hubs comment on clauses and on comments (threads),
  propose amendments (replacement text for one clause, with a rationale) and vote on them
  (for, against, abstain; one vote per hub, changeable until the deadline). The back office may
  extend the deadline. After it, a comment or vote is refused naming the deadline (409).
- **consolidation**: the back office accepts or rejects each amendment with a reason (at most
  one accepted per clause); accepted ones replace their clause's text; the final version is
  rendered with the change log and its SHA-256 is what hubs sign.
- **signature**: each hub's authorised representative signs the final version's hash; at the
  ``quorum``-th signature the agreement **enters into force** (the same instant).
- **in_force**: signing stays open (an *accession*: listed with its accession date); a bound
  hub may give notice of withdrawal, effective after ``notice_days``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.digests import sha256_hex
from domain.errors import DomainError
from domain.framework_lifecycle import enabled_actions, fire
from domain.timeline import GENESIS, canonical_json, chain_event
from domain.timeline import TimelineEvent as FrameworkEvent

FRAMEWORK_TEMPLATE = "framework_collaboration_agreement"
FINAL_TEMPLATE = "framework_agreement_final"
DEFAULT_QUORUM = 10
DEFAULT_NOTICE_DAYS = 90
DEFAULT_CONSULTATION_DAYS = 30
CHOICES = ("for", "against", "abstain")
Choice = Literal["for", "against", "abstain"]
SYSTEM = "system"

# How the template marks its clauses: a ``Heading 1`` paragraph "N. Title" opens a section and
# every paragraph that starts with "N.M" (then a tab or a space) is clause N.M of it.
SECTION = re.compile(r"^(\d+)\.\s+(\S.*)$")
CLAUSE = re.compile(r"^(\d+\.\d+)[\t ]+(\S.*)$", re.S)


class FrameworkRefused(DomainError):
    """A framework step that cannot be taken: 404 unknown thing, 409 not now (or after the
    deadline), 403 not this hub's, 422 bad input."""

    status = 409


# -- the edition ------------------------------------------------------------------------------
class Clause(BaseModel):
    number: str  # "3.3"
    section: str  # "3. Governance"
    text: str
    sha256: str


class Comment(BaseModel):
    id: int
    key: str = ""  # the caller's idempotency key: a retry finds this comment
    clause: str
    parent_id: int | None = None
    hub_id: str
    text: str
    at: str


class Vote(BaseModel):
    hub_id: str
    choice: Choice
    at: str


class Amendment(BaseModel):
    id: int
    key: str = ""  # the caller's idempotency key: a retry finds this amendment
    clause: str
    hub_id: str
    text: str
    rationale: str
    at: str
    votes: dict[str, Vote] = Field(default_factory=dict)
    decision: Literal["accepted", "rejected"] | None = None
    reason: str = ""
    decided_at: str | None = None

    def tally(self) -> dict[str, int]:
        counts = dict.fromkeys(CHOICES, 0)
        for vote in self.votes.values():
            counts[vote.choice] += 1
        return counts


class Party(BaseModel):
    """A hub that signed the final version: a signatory (before entry into force, or the same
    instant) or an acceding hub (after), and its withdrawal once it gives notice."""

    hub_id: str
    kind: Literal["signatory", "accession"]
    signed_at: str
    sha256: str
    representative_id: str = ""
    notice_at: str | None = None
    withdrawal_at: str | None = None  # effective from this moment
    withdrawn: bool = False


class FinalVersion(BaseModel):
    sha256: str
    document_id: str
    clauses: list[Clause]
    published_at: str


class Edition(BaseModel):
    id: str
    label: str  # "2026"
    state: str = "consultation"
    members: list[str]  # the member hubs consulted (the network at opening)
    quorum: int = DEFAULT_QUORUM
    notice_days: int = DEFAULT_NOTICE_DAYS
    opened_at: str
    deadline: str
    clauses: list[Clause]
    draft_sha256: str
    comments: list[Comment] = Field(default_factory=list)
    amendments: list[Amendment] = Field(default_factory=list)
    final: FinalVersion | None = None
    parties: dict[str, Party] = Field(default_factory=dict)
    in_force_at: str | None = None
    seq: int = 0
    head_hash: str = GENESIS

    # -- reading --------------------------------------------------------------------------
    def clause(self, number: str) -> Clause:
        for clause in self.clauses:
            if clause.number == number:
                return clause
        raise FrameworkRefused(
            "Unknown clause", f"edition {self.label} has no clause {number}", status=404
        )

    def amendment(self, amendment_id: int) -> Amendment:
        if 1 <= amendment_id <= len(self.amendments):
            return self.amendments[amendment_id - 1]
        raise FrameworkRefused("Unknown amendment", f"no amendment {amendment_id}", status=404)

    def bound(self, hub_id: str, at: datetime) -> bool:
        """Is ``hub_id`` bound by the agreement at ``at``? In force, signed, not withdrawn."""
        party = self.parties.get(hub_id)
        if party is None or self.in_force_at is None:
            return False
        since = max(_at(party.signed_at), _at(self.in_force_at))
        if at < since:
            return False
        return party.withdrawal_at is None or at < _at(party.withdrawal_at)

    def bound_hubs(self, at: datetime) -> list[str]:
        return sorted(h for h in self.parties if self.bound(h, at))

    def signatory_count(self) -> int:
        return sum(1 for p in self.parties.values() if p.kind == "signatory")

    def withdrawals_due(self, now: datetime) -> list[str]:
        return sorted(
            h
            for h, p in self.parties.items()
            if p.withdrawal_at and not p.withdrawn and _at(p.withdrawal_at) <= now
        )

    def next_withdrawal(self) -> datetime | None:
        pending = [
            _at(p.withdrawal_at)
            for p in self.parties.values()
            if p.withdrawal_at and not p.withdrawn
        ]
        return min(pending) if pending else None

    def tallies(self) -> dict[int, dict[str, int]]:
        return {a.id: a.tally() for a in self.amendments}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- clauses from the template ----------------------------------------------------------------
def split_clauses(paragraphs: Iterable[tuple[str, str]]) -> list[Clause]:
    """The numbered clauses of a rendered framework text, from ``(style, text)`` paragraphs.

    A ``Heading1`` "N. Title" opens section N; a paragraph "N.M<tab>text" is clause N.M. A
    clause's continuation paragraphs (the definitions of 1.1, say) belong to it until the next
    clause or heading. Each clause is hashed (SHA-256 of its number and text)."""
    section = ""
    found: list[dict[str, str]] = []
    for style, raw in paragraphs:
        text = raw.strip()
        if style.lower().startswith("heading"):
            match = SECTION.match(text)
            section = text if match else ""
            if not match:
                found.append({})  # an unnumbered heading ends the clause before it
            continue
        if not section or not text:
            continue
        match = CLAUSE.match(text)
        if match and match.group(1).split(".")[0] == section.split(".")[0]:
            found.append({"number": match.group(1), "section": section, "text": match.group(2)})
        elif found and found[-1]:
            found[-1]["text"] += "\n" + text
    clauses = [clause_of(f["number"], f["section"], f["text"]) for f in found if f]
    numbers = [c.number for c in clauses]
    if len(set(numbers)) != len(numbers):
        raise ValueError("the template numbers two clauses the same")
    return clauses


def clause_of(number: str, section: str, text: str) -> Clause:
    digest = sha256_hex(canonical_json({"number": number, "text": text}))
    return Clause(number=number, section=section, text=text, sha256=digest)


def clauses_hash(clauses: Iterable[Clause]) -> str:
    """The SHA-256 of a version's clause set (each clause's number and hash, in order)."""
    return sha256_hex(canonical_json({"clauses": [[c.number, c.sha256] for c in clauses]}))


# -- steps ------------------------------------------------------------------------------------
class Step(BaseModel):
    """What a step recorded: its events (chained onto the edition) and what follows."""

    events: list[FrameworkEvent] = Field(default_factory=list)
    entered_into_force: bool = False
    withdrawal_at: str | None = None


def _record(edition: Edition, step: Step, type: str, actor: str, at: datetime, **data: Any) -> None:
    event = chain_event(edition.seq, edition.head_hash, type, actor, at.isoformat(), data)
    edition.seq, edition.head_hash = event.seq, event.hash
    step.events.append(event)


def open_edition(
    edition_id: str,
    label: str,
    members: list[str],
    clauses: list[Clause],
    now: datetime,
    *,
    consultation_days: int = DEFAULT_CONSULTATION_DAYS,
    quorum: int = DEFAULT_QUORUM,
    notice_days: int = DEFAULT_NOTICE_DAYS,
    actor: str = SYSTEM,
) -> tuple[Edition, Step]:
    if not clauses:
        raise FrameworkRefused("No clauses", "the template marks no clause", status=422)
    if quorum < 1 or notice_days < 0 or consultation_days < 1:
        raise FrameworkRefused(
            "Bad settings", "quorum, notice and days must be positive", status=422
        )
    edition = Edition(
        id=edition_id,
        label=label,
        members=sorted(set(members)),
        quorum=quorum,
        notice_days=notice_days,
        opened_at=now.isoformat(),
        deadline=(now + timedelta(days=consultation_days)).isoformat(),
        clauses=clauses,
        draft_sha256=clauses_hash(clauses),
    )
    step = Step()
    _record(
        edition,
        step,
        "edition_opened",
        actor,
        now,
        label=label,
        draft_sha256=edition.draft_sha256,
        deadline=edition.deadline,
        quorum=quorum,
        notice_days=notice_days,
        clauses=len(clauses),
    )
    return edition, step


def _require_state(edition: Edition, action: str) -> None:
    """The lifecycle decides: ``action`` must be enabled in the edition's state (409 naming
    the actions that are)."""
    allowed = enabled_actions(edition)
    if action not in allowed:
        raise FrameworkRefused(
            "Not possible now",
            f"{action.replace('_', '-')} is not possible while edition {edition.label} is in "
            f"{edition.state}",
            status=409,
            allowed_actions=[a.replace("_", "-") for a in allowed],
        )


def _require_open(edition: Edition, action: str, now: datetime) -> None:
    """Consultation steps: in consultation and before the deadline (a step arriving between the
    deadline and its timer is refused the same way)."""
    if action in enabled_actions(edition) and now < _at(edition.deadline):
        return
    raise FrameworkRefused(
        "Consultation closed",
        f"the consultation closed at its deadline {edition.deadline}; "
        f"{action.replace('_', ' ')} is no longer possible",
        status=409,
        deadline=edition.deadline,
    )


def _require_member(edition: Edition, hub_id: str | None, action: str) -> str:
    if hub_id is None or hub_id not in edition.members:
        raise FrameworkRefused(
            "Not a member hub",
            f"only the member hubs consulted on edition {edition.label} may "
            f"{action.replace('_', ' ')}",
            status=403,
        )
    return hub_id


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise FrameworkRefused(
            "Invalid input",
            f"{field} must have 1 to {limit} characters",
            status=422,
            errors=[{"field": field, "message": f"1 to {limit} characters"}],
        )
    return value


def check_comment(
    edition: Edition, hub_id: str | None, clause: str, parent_id: int | None, now: datetime
) -> None:
    _require_open(edition, "comment", now)
    _require_member(edition, hub_id, "comment")
    edition.clause(clause)
    if parent_id is not None:
        if not 1 <= parent_id <= len(edition.comments):
            raise FrameworkRefused("Unknown comment", f"no comment {parent_id}", status=404)
        if edition.comments[parent_id - 1].clause != clause:
            raise FrameworkRefused(
                "Invalid input",
                f"comment {parent_id} is on clause {edition.comments[parent_id - 1].clause}",
                status=422,
                errors=[{"field": "parent_id", "message": "a reply is on its parent's clause"}],
            )


def add_comment(
    edition: Edition,
    hub_id: str | None,
    clause: str,
    text: str,
    now: datetime,
    *,
    parent_id: int | None = None,
    actor: str = SYSTEM,
    key: str = "",
) -> tuple[Comment, Step]:
    check_comment(edition, hub_id, clause, parent_id, now)
    assert hub_id is not None
    body = _text(text, "text", 5000)
    comment = Comment(
        id=len(edition.comments) + 1,
        key=key,
        clause=clause,
        parent_id=parent_id,
        hub_id=hub_id,
        text=body,
        at=now.isoformat(),
    )
    edition.comments.append(comment)
    step = Step()
    _record(
        edition,
        step,
        "comment_added",
        actor,
        now,
        comment_id=comment.id,
        clause=clause,
        parent_id=parent_id,
        hub_id=hub_id,
    )
    return comment, step


def check_amendment(edition: Edition, hub_id: str | None, clause: str, now: datetime) -> None:
    _require_open(edition, "propose_amendment", now)
    _require_member(edition, hub_id, "propose_amendment")
    edition.clause(clause)


def propose_amendment(
    edition: Edition,
    hub_id: str | None,
    clause: str,
    text: str,
    rationale: str,
    now: datetime,
    *,
    actor: str = SYSTEM,
    key: str = "",
) -> tuple[Amendment, Step]:
    check_amendment(edition, hub_id, clause, now)
    assert hub_id is not None
    amendment = Amendment(
        id=len(edition.amendments) + 1,
        key=key,
        clause=clause,
        hub_id=hub_id,
        text=_text(text, "text", 5000),
        rationale=_text(rationale, "rationale", 2000),
        at=now.isoformat(),
    )
    edition.amendments.append(amendment)
    step = Step()
    _record(
        edition,
        step,
        "amendment_proposed",
        actor,
        now,
        amendment_id=amendment.id,
        clause=clause,
        hub_id=hub_id,
    )
    return amendment, step


def check_vote(
    edition: Edition, hub_id: str | None, amendment_id: int, choice: str, now: datetime
) -> bool:
    """Checks a vote; True when it changes nothing (the same choice again)."""
    _require_open(edition, "vote", now)
    hub = _require_member(edition, hub_id, "vote")
    amendment = edition.amendment(amendment_id)
    if choice not in CHOICES:
        raise FrameworkRefused(
            "Invalid input",
            f"choice must be one of {', '.join(CHOICES)}",
            status=422,
            errors=[{"field": "choice", "message": f"one of {', '.join(CHOICES)}"}],
        )
    current = amendment.votes.get(hub)
    return current is not None and current.choice == choice


def cast_vote(
    edition: Edition,
    hub_id: str | None,
    amendment_id: int,
    choice: str,
    now: datetime,
    *,
    actor: str = SYSTEM,
) -> Step:
    """One vote per hub and amendment: a second replaces the first (until the deadline); the
    same choice again records nothing."""
    if check_vote(edition, hub_id, amendment_id, choice, now):
        return Step()
    assert hub_id is not None
    amendment = edition.amendment(amendment_id)
    changed = hub_id in amendment.votes
    amendment.votes[hub_id] = Vote(hub_id=hub_id, choice=choice, at=now.isoformat())  # type: ignore[arg-type]
    step = Step()
    _record(
        edition,
        step,
        "vote_changed" if changed else "vote_cast",
        actor,
        now,
        amendment_id=amendment_id,
        hub_id=hub_id,
        choice=choice,
        tally=amendment.tally(),
    )
    return step


def extend_deadline(
    edition: Edition, deadline: datetime, now: datetime, *, actor: str = SYSTEM
) -> Step:
    _require_open(edition, "extend_deadline", now)
    if deadline <= _at(edition.deadline):
        raise FrameworkRefused(
            "Invalid input",
            f"the new deadline must be after the current one, {edition.deadline}",
            status=422,
            errors=[{"field": "deadline", "message": f"after {edition.deadline}"}],
        )
    previous, edition.deadline = edition.deadline, deadline.isoformat()
    step = Step()
    _record(
        edition, step, "deadline_extended", actor, now, previous=previous, deadline=edition.deadline
    )
    return step


def close_consultation(edition: Edition, now: datetime) -> Step:
    """The deadline's timer: consultation → consolidation (nothing when not yet due)."""
    if "extend_deadline" not in enabled_actions(edition) or now < _at(edition.deadline):
        return Step()
    fire(edition, "deadline_passed")
    step = Step()
    _record(
        edition,
        step,
        "consultation_closed",
        SYSTEM,
        now,
        comments=len(edition.comments),
        amendments=len(edition.amendments),
    )
    return step


def check_decision(edition: Edition, amendment_id: int, accepted: bool) -> None:
    _require_state(edition, "decide_amendment")
    amendment = edition.amendment(amendment_id)
    if amendment.decision is not None:
        raise FrameworkRefused(
            "Already decided", f"amendment {amendment_id} was {amendment.decision}", status=409
        )
    if accepted:
        for other in edition.amendments:
            if other.clause == amendment.clause and other.decision == "accepted":
                raise FrameworkRefused(
                    "Clause already amended",
                    f"amendment {other.id} to clause {other.clause} was accepted; reject this one",
                    status=409,
                )


def decide_amendment(
    edition: Edition,
    amendment_id: int,
    accepted: bool,
    reason: str,
    now: datetime,
    *,
    actor: str = SYSTEM,
) -> Step:
    check_decision(edition, amendment_id, accepted)
    amendment = edition.amendment(amendment_id)
    amendment.reason = _text(reason, "reason", 2000)
    amendment.decision = "accepted" if accepted else "rejected"
    amendment.decided_at = now.isoformat()
    step = Step()
    _record(
        edition,
        step,
        "amendment_decided",
        actor,
        now,
        amendment_id=amendment_id,
        decision=amendment.decision,
        tally=amendment.tally(),
    )
    return step


def consolidated_clauses(edition: Edition) -> list[Clause]:
    """The draft's clauses with every accepted amendment's text in place."""
    accepted = {a.clause: a for a in edition.amendments if a.decision == "accepted"}
    return [
        clause_of(c.number, c.section, accepted[c.number].text) if c.number in accepted else c
        for c in edition.clauses
    ]


def undecided(edition: Edition) -> list[int]:
    return [a.id for a in edition.amendments if a.decision is None]


def check_publish(edition: Edition) -> None:
    _require_state(edition, "publish_final")
    pending = undecided(edition)
    if pending:
        raise FrameworkRefused(
            "Amendments undecided",
            f"decide amendments {', '.join(map(str, pending))} first",
            status=409,
        )


def change_log(edition: Edition) -> list[dict[str, Any]]:
    """Every amendment, its tally and the decision: the final version's change log."""
    return [
        {
            "id": a.id,
            "clause": a.clause,
            "hub_id": a.hub_id,
            "rationale": a.rationale,
            "text": a.text,
            "decision": a.decision or "undecided",
            "reason": a.reason,
            **a.tally(),
        }
        for a in edition.amendments
    ]


def publish_final(
    edition: Edition, sha256: str, document_id: str, now: datetime, *, actor: str = SYSTEM
) -> Step:
    check_publish(edition)
    edition.final = FinalVersion(
        sha256=sha256,
        document_id=document_id,
        clauses=consolidated_clauses(edition),
        published_at=now.isoformat(),
    )
    fire(edition, "publish_final")
    step = Step()
    _record(
        edition,
        step,
        "final_version_published",
        actor,
        now,
        sha256=sha256,
        document_id=document_id,
        accepted=[a.id for a in edition.amendments if a.decision == "accepted"],
    )
    return step


def check_signature(edition: Edition, hub_id: str | None, sha256: str) -> bool:
    """Checks a signature; True when it is this hub's signature again (nothing to record)."""
    _require_state(edition, "sign")
    assert edition.final is not None
    if hub_id is None:
        raise FrameworkRefused("Not a hub", "only a hub's representative signs", status=403)
    party = edition.parties.get(hub_id)
    if party is not None and party.withdrawal_at is not None:
        raise FrameworkRefused(
            "Withdrawn", f"{hub_id} gave notice of withdrawal from this edition", status=409
        )
    if sha256 != edition.final.sha256:
        raise FrameworkRefused(
            "Not the final version",
            f"the final version's SHA-256 is {edition.final.sha256}",
            status=409,
            current_sha256=edition.final.sha256,
        )
    return party is not None


def sign(
    edition: Edition,
    hub_id: str | None,
    sha256: str,
    now: datetime,
    *,
    representative_id: str = "",
    actor: str = SYSTEM,
) -> Step:
    """A hub's signature over the final version; the ``quorum``-th enters it into force."""
    if check_signature(edition, hub_id, sha256):
        return Step()
    assert hub_id is not None
    kind: Literal["signatory", "accession"] = (
        "accession" if edition.state == "in_force" else "signatory"
    )
    edition.parties[hub_id] = Party(
        hub_id=hub_id,
        kind=kind,
        signed_at=now.isoformat(),
        sha256=sha256,
        representative_id=representative_id,
    )
    step = Step()
    _record(
        edition,
        step,
        "acceded" if kind == "accession" else "signed",
        actor,
        now,
        hub_id=hub_id,
        sha256=sha256,
        signatories=edition.signatory_count(),
    )
    if edition.state == "signature" and edition.signatory_count() >= edition.quorum:
        fire(edition, "quorum_reached")
        edition.in_force_at = now.isoformat()
        step.entered_into_force = True
        _record(
            edition,
            step,
            "entered_into_force",
            SYSTEM,
            now,
            sha256=sha256,
            signatories=edition.signatory_count(),
            quorum=edition.quorum,
        )
    return step


def check_notice(edition: Edition, hub_id: str | None, now: datetime) -> None:
    _require_state(edition, "give_notice")
    party = edition.parties.get(hub_id or "")
    if hub_id is None or party is None or not edition.bound(hub_id, now):
        raise FrameworkRefused(
            "Not bound",
            f"{hub_id or 'this caller'} is not bound by edition {edition.label}; "
            "only a bound hub gives notice",
            status=403,
        )
    if party.notice_at is not None:
        raise FrameworkRefused(
            "Notice already given",
            f"{hub_id} gave notice on {party.notice_at}, effective {party.withdrawal_at}",
            status=409,
        )


def give_notice(
    edition: Edition, hub_id: str | None, now: datetime, *, actor: str = SYSTEM
) -> Step:
    check_notice(edition, hub_id, now)
    assert hub_id is not None
    party = edition.parties[hub_id]
    party.notice_at = now.isoformat()
    party.withdrawal_at = (now + timedelta(days=edition.notice_days)).isoformat()
    step = Step(withdrawal_at=party.withdrawal_at)
    _record(
        edition,
        step,
        "withdrawal_notified",
        actor,
        now,
        hub_id=hub_id,
        effective_at=party.withdrawal_at,
    )
    return step


def withdrawals_take_effect(edition: Edition, now: datetime) -> Step:
    """The notice timers: every withdrawal due by ``now`` takes effect."""
    step = Step()
    for hub_id in edition.withdrawals_due(now):
        party = edition.parties[hub_id]
        party.withdrawn = True
        _record(
            edition,
            step,
            "withdrawal_effective",
            SYSTEM,
            now,
            hub_id=hub_id,
            effective_at=party.withdrawal_at,
        )
    return step


def register(edition: Edition, now: datetime) -> list[dict[str, Any]]:
    """Who is bound by the agreement, since when, until when (every party, oldest first)."""
    rows = []
    for party in sorted(edition.parties.values(), key=lambda p: (p.signed_at, p.hub_id)):
        since = party.signed_at
        if edition.in_force_at is not None and _at(edition.in_force_at) > _at(since):
            since = edition.in_force_at
        rows.append(
            {
                "hub_id": party.hub_id,
                "kind": party.kind,
                "signed_at": party.signed_at,
                "bound_since": since if edition.in_force_at else None,
                "notice_at": party.notice_at,
                "bound_until": party.withdrawal_at,
                "bound": edition.bound(party.hub_id, now),
            }
        )
    return rows


# -- requests: what the API sends the workflow, one shape for every action ---------------------
class FrameworkRequest(BaseModel):
    """A step on an edition: the action (snake_case), who asks and the body.

    ``hub_id`` is the caller's hub (None for the back office); ``representative_id`` and
    ``signer_name`` are set by the API for a signature, after checking the mandate."""

    action: str
    actor: str
    hub_id: str | None = None
    body: dict[str, Any] = Field(default_factory=dict)
    representative_id: str = ""
    signer_name: str = ""


class FrameworkResult(BaseModel):
    state: str
    seq: int
    changed: bool = True
    data: dict[str, Any] = Field(default_factory=dict)


def _field(body: dict[str, Any], name: str, kind: type, required: bool = True) -> Any:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise FrameworkRefused(
            "Invalid input",
            f"{name} is required ({kind.__name__})",
            status=422,
            errors=[{"field": name, "message": f"a {kind.__name__} is required"}],
        )
    return value


def _deadline(body: dict[str, Any]) -> datetime:
    text = _field(body, "deadline", str)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise FrameworkRefused(
            "Invalid input",
            "deadline must be an ISO 8601 time with its offset",
            status=422,
            errors=[{"field": "deadline", "message": "ISO 8601 with offset"}],
        )
    return moment


def repeated(edition: Edition, request: FrameworkRequest) -> dict[str, Any] | None:
    """The first answer to a comment or amendment sent again with the same idempotency key."""
    key = request.body.get("key")
    if not key:
        return None
    if request.action == "comment":
        for comment in edition.comments:
            if comment.key == key:
                return {"comment_id": comment.id}
    if request.action == "propose_amendment":
        for amendment in edition.amendments:
            if amendment.key == key:
                return {"amendment_id": amendment.id}
    return None


def check_request(edition: Edition, request: FrameworkRequest, now: datetime) -> bool:
    """Would ``request`` be taken now? Raises ``FrameworkRefused``; True when it would change
    nothing (a repeated vote, signature or keyed comment: answered like the first)."""
    body, hub = request.body, request.hub_id
    if repeated(edition, request) is not None:
        return True
    match request.action:
        case "comment":
            check_comment(
                edition,
                hub,
                _field(body, "clause", str),
                _field(body, "parent_id", int, False),
                now,
            )
        case "propose_amendment":
            check_amendment(edition, hub, _field(body, "clause", str), now)
        case "vote":
            return check_vote(
                edition, hub, _field(body, "amendment_id", int), _field(body, "choice", str), now
            )
        case "extend_deadline":
            _require_open(edition, "extend_deadline", now)
            _deadline(body)
        case "decide_amendment":
            accepted = _field(body, "decision", str) == "accept"
            if body["decision"] not in ("accept", "reject"):
                raise FrameworkRefused(
                    "Invalid input",
                    "decision must be accept or reject",
                    status=422,
                    errors=[{"field": "decision", "message": "accept or reject"}],
                )
            check_decision(edition, _field(body, "amendment_id", int), accepted)
        case "publish_final":
            check_publish(edition)
        case "sign":
            return check_signature(edition, hub, _field(body, "document_sha256", str))
        case "give_notice":
            check_notice(edition, hub, now)
        case _:
            raise FrameworkRefused("Unknown action", f"no action {request.action}", status=404)
    return False


def apply_request(
    edition: Edition, request: FrameworkRequest, now: datetime
) -> tuple[Step, dict[str, Any]]:
    """Take ``request`` (all but ``publish_final``, whose document the workflow renders first)."""
    body, hub, actor = request.body, request.hub_id, request.actor
    match request.action:
        case "comment":
            comment, step = add_comment(
                edition,
                hub,
                _field(body, "clause", str),
                _field(body, "text", str),
                now,
                parent_id=_field(body, "parent_id", int, False),
                actor=actor,
                key=str(body.get("key") or ""),
            )
            return step, {"comment_id": comment.id}
        case "propose_amendment":
            amendment, step = propose_amendment(
                edition,
                hub,
                _field(body, "clause", str),
                _field(body, "text", str),
                _field(body, "rationale", str),
                now,
                actor=actor,
                key=str(body.get("key") or ""),
            )
            return step, {"amendment_id": amendment.id}
        case "vote":
            number = _field(body, "amendment_id", int)
            step = cast_vote(edition, hub, number, _field(body, "choice", str), now, actor=actor)
            return step, {"amendment_id": number, "tally": edition.amendment(number).tally()}
        case "extend_deadline":
            step = extend_deadline(edition, _deadline(body), now, actor=actor)
            return step, {"deadline": edition.deadline}
        case "decide_amendment":
            number = _field(body, "amendment_id", int)
            accepted = _field(body, "decision", str) == "accept"
            reason = _field(body, "reason", str)
            step = decide_amendment(edition, number, accepted, reason, now, actor=actor)
            return step, {"amendment_id": number}
        case "sign":
            step = sign(
                edition,
                hub,
                _field(body, "document_sha256", str),
                now,
                representative_id=request.representative_id,
                actor=actor,
            )
            return step, {"entered_into_force": step.entered_into_force}
        case "give_notice":
            step = give_notice(edition, hub, now, actor=actor)
            return step, {"effective_at": step.withdrawal_at}
    raise FrameworkRefused("Unknown action", f"no action {request.action}", status=404)


def repeat_data(edition: Edition, request: FrameworkRequest) -> dict[str, Any]:
    """What a step that changed nothing answers (the first answer's data)."""
    found = repeated(edition, request)
    if found is not None:
        return found
    if request.action == "vote":
        number = int(request.body["amendment_id"])
        return {"amendment_id": number, "tally": edition.amendment(number).tally()}
    return {}

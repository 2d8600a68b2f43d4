"""Bulk writes of the hub registry: many profiles at once, each hub's matching vectors with it.

``import_profiles`` writes in batches: one SELECT of the batch's ids, one multi-row INSERT of
the new hubs, one executemany UPDATE of the changed ones, and the same for their ``hub_index``
rows, so 10,000 hubs take a few seconds on SQLite and PostgreSQL (``bench/registry.py``).
It is idempotent by hub id: a profile equal to the stored one is counted ``unchanged`` and not
written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session, col

from domain.hubs import HubProfile
from domain.matching import hub_doc, profile_text
from domain.registry import Problem, read_rows
from store.models import Hub, HubIndex, utcnow
from store.summary import hub_country_changed

BATCH = 500
ANALYSER = "terms-v1"  # bump when domain.text or hub_doc changes: every row is analysed again
Embed = Callable[[list[str]], list[list[float]]]


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.created + self.updated


def fingerprint(profile: dict[str, Any], embedding_model: str = "") -> str:
    canonical = json.dumps(profile, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{ANALYSER}|{embedding_model}|{canonical}".encode()).hexdigest()


def _batches(items: Iterable[HubProfile], size: int) -> Iterator[list[HubProfile]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def import_profiles(
    session: Session,
    profiles: Iterable[HubProfile],
    *,
    on_batch: Callable[[int], None] | None = None,
    embed: Embed | None = None,
    embedding_model: str = "",
    batch: int = BATCH,
    write: bool = True,
) -> ImportCounts:
    """Insert new hubs, update changed ones, leave equal ones alone; caller commits. With
    ``write=False`` only count what would happen (the preview before an upload is saved)."""
    counts = ImportCounts()
    for chunk in _batches(profiles, batch):
        by_id = {p.id: p for p in chunk}  # a later row of the same id wins
        stored: dict[str, Any] = {
            hub_id: profile
            for hub_id, profile in session.execute(
                select(col(Hub.id), col(Hub.profile)).where(col(Hub.id).in_(list(by_id)))
            )
        }
        now = utcnow()
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for hub_id, profile in by_id.items():
            data = profile.model_dump(mode="json")
            row = {"id": hub_id, "name": profile.name, "country": profile.country, "profile": data}
            if hub_id not in stored:
                new.append({**row, "created_at": now, "updated_at": now})
            elif stored[hub_id] != data:
                changed.append({**row, "updated_at": now})
            else:
                counts.unchanged += 1
        if write and new:
            session.execute(insert(Hub), new)
        if write and changed:
            session.execute(update(Hub), changed)
            for hub_id, profile in by_id.items():  # a corrected country reaches the summaries
                if hub_id in stored and stored[hub_id].get("country") != profile.country:
                    hub_country_changed(session.connection(), hub_id, profile.country)
        if write:
            index_rows(session, [r["profile"] for r in [*new, *changed]], embed, embedding_model)
        counts.created += len(new)
        counts.updated += len(changed)
        if on_batch:
            on_batch(len(chunk))
    return counts


def index_rows(
    session: Session,
    profiles: Sequence[dict[str, Any]],
    embed: Embed | None = None,
    embedding_model: str = "",
) -> None:
    """Write the ``hub_index`` rows of these (stored) profiles, replacing any earlier ones."""
    if not profiles:
        return
    embeddings: list[list[float]] | list[None] = [None] * len(profiles)
    if embed is not None:
        embeddings = embed([profile_text(p) for p in profiles])
    now = utcnow()
    rows = []
    for profile, vector in zip(profiles, embeddings, strict=True):
        doc = hub_doc(profile)
        rows.append(
            {
                "hub_id": doc.hub_id,
                "fingerprint": fingerprint(profile, embedding_model if vector else ""),
                "codes": list(doc.codes),
                "terms": dict(doc.terms),
                "embedding": pack(vector) if vector is not None else None,
                "embedding_model": embedding_model if vector is not None else "",
                "updated_at": now,
            }
        )
    ids = [r["hub_id"] for r in rows]
    session.execute(delete(HubIndex).where(col(HubIndex.hub_id).in_(ids)))
    session.execute(insert(HubIndex), rows)


def pack(vector: Sequence[float]) -> bytes:
    import numpy as np

    return np.asarray(vector, dtype=np.float32).tobytes()


def unpack(blob: bytes) -> tuple[float, ...]:
    import numpy as np

    return tuple(float(x) for x in np.frombuffer(blob, dtype=np.float32))


def all_profiles(session: Session, batch: int = BATCH) -> Iterator[HubProfile]:
    """Every hub, by id, read in batches (for export)."""
    last = ""
    while True:
        rows = session.execute(
            select(col(Hub.id), col(Hub.profile))
            .where(col(Hub.id) > last)
            .order_by(col(Hub.id))
            .limit(batch)
        ).all()
        if not rows:
            return
        for hub_id, profile in rows:
            yield HubProfile.model_validate(profile)
            last = hub_id


@dataclass
class ImportReport:
    counts: ImportCounts
    problems: list[Problem]
    rows: int  # rows read (valid or not)

    @property
    def rejected(self) -> int:
        return len({p.line for p in self.problems})

    def summary(self) -> str:
        c = self.counts
        return (
            f"{self.rows} rows read: {c.created} hubs created, {c.updated} updated, "
            f"{c.unchanged} unchanged, {self.rejected} rows rejected"
        )


def import_text(
    session: Session,
    text: str,
    kind: str,
    *,
    on_rows: Callable[[int], None] | None = None,
    embed: Embed | None = None,
    embedding_model: str = "",
    write: bool = True,
) -> ImportReport:
    """Read a CSV or JSON file's rows, keep the valid ones and import them (``write``) or
    count what importing them would do; every problem is kept for the report."""
    problems: list[Problem] = []
    seen = 0

    def valid() -> Iterator[HubProfile]:
        nonlocal seen
        for row in read_rows(text, kind):
            seen += 1
            if row.profile is None:
                problems.extend(row.problems)
                if on_rows:
                    on_rows(1)
            else:
                yield row.profile

    counts = import_profiles(
        session,
        valid(),
        on_batch=on_rows,
        embed=embed,
        embedding_model=embedding_model,
        write=write,
    )
    return ImportReport(counts, problems, seen)

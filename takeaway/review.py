"""The approval gate: which items wait for a reviewer, and what a reviewer's answer does.

Policy per team (`approval`): `needs_review` (default) holds items the extraction flagged,
`all` holds every item, `none` files everything. A reviewer approves (optionally editing owner,
due date or description) or rejects each held item, in Prefect's pause form or `takeaway review`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from prefect.input import RunInput
from pydantic import BaseModel, Field

from takeaway.extract.schemas import ActionItem
from takeaway.ledger.db import ItemRow, Ledger


def held(item: ActionItem, policy: str) -> bool:
    return policy == "all" or (policy == "needs_review" and item.status == "needs_review")


class Decision(BaseModel):
    item_id: str
    decision: Literal["approve", "reject", "pending"] = "pending"
    owner: str | None = None
    due_date: date | None = None
    description: str | None = None
    flags: str = Field("", description="Why the item was held (read only).")
    quote: str = Field("", description="What was said (read only).")


class ReviewForm(RunInput):
    """One row per held item: set `decision` to approve or reject; edit owner, due date or description."""

    reviewer: str | None = None
    items: list[Decision]


def form_for(rows: list[ItemRow]) -> list[Decision]:
    return [Decision(item_id=r.key, owner=r.owner, due_date=r.due_date, description=r.description,
                     quote=r.evidence[0]["quote"] if r.evidence else "", flags=r.status) for r in rows]


def apply(ledger: Ledger, decisions: list[Decision], reviewer: str | None = None) -> dict[str, list[str]]:
    """Record each decision; returns item ids by outcome (approve, reject, pending)."""
    out: dict[str, list[str]] = {"approve": [], "reject": [], "pending": []}
    for d in decisions:
        row = ledger.item(d.item_id)
        if row is None or row.review != "pending":
            continue
        if d.decision != "pending":
            edits = {k: v for k, v in (("owner", d.owner), ("due_date", d.due_date), ("description", d.description))
                     if v is not None and v != getattr(row, k)}
            ledger.update_item(d.item_id, f"review.{d.decision}", "approved" if d.decision == "approve" else "rejected",
                               reviewer, **edits)
        out[d.decision].append(d.item_id)
    return out

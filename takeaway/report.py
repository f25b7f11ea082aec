"""Minutes as Markdown (minutes.md, Prefect artifact) and as terminal tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from takeaway.extract.schemas import Evidence, Minutes


def clock(seconds: float) -> str:
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


def cite(evidence: list[Evidence]) -> str:
    return ", ".join(clock(e.start) for e in evidence) or "-"


def item_rows(minutes: Minutes) -> list[dict]:
    return [{"id": i.id, "owner": i.owner or "?", "task": i.description,
             "due": i.due_date.isoformat() if i.due_date else "-", "said": i.due_phrase or "-",
             "evidence": cite(i.evidence), "status": i.status} for i in minutes.action_items]


def markdown(minutes: Minutes) -> str:
    m = minutes.meeting
    names = {s.label: s.name or f"Speaker {n}" for n, s in enumerate(minutes.speakers, 1)}
    lines = [f"# {m.title}", "", f"- Start: {m.start}", f"- Duration: {clock(m.duration_s)}",
             f"- Speakers: {', '.join(names.values()) or 'none'}", "", "## Decisions", ""]
    lines += [f"- {d.text} ({cite(d.evidence)})" for d in minutes.decisions] or ["- none"]
    lines += ["", "## Action items", ""]
    if minutes.action_items:
        lines += ["| Owner | Task | Due | Said | Evidence | Status |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['owner']} | {r['task']} | {r['due']} | {r['said']} | {r['evidence']} | {r['status']} |"
                  for r in item_rows(minutes)]
    else:
        lines.append("- none")
    lines += ["", "## Transcript", ""]
    lines += [f"- [{clock(s.start)}] **{names.get(s.speaker, 'Unknown')}**: {s.text}" for s in minutes.segments]
    return "\n".join(lines) + "\n"


def print_minutes(minutes: Minutes, console: Console) -> None:
    console.print(f"[bold]{minutes.meeting.title}[/] - {minutes.meeting.start}, "
                  f"{clock(minutes.meeting.duration_s)}, {len(minutes.speakers)} speaker(s)")
    if minutes.decisions:
        table = Table(title="Decisions")
        for col in ("Decision", "Evidence"):
            table.add_column(col)
        for d in minutes.decisions:
            table.add_row(d.text, cite(d.evidence))
        console.print(table)
    table = Table(title="Action items")
    for col in ("Owner", "Task", "Due", "Said", "Evidence", "Status"):
        table.add_column(col)
    for r in item_rows(minutes):
        table.add_row(r["owner"], r["task"], r["due"], r["said"], r["evidence"], r["status"])
    console.print(table if minutes.action_items else "No action items.")

"""The `takeaway` command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from takeaway.errors import TakeawayError
from takeaway.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Recorded conversations in; grounded, owned, dated action items out.")
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def ledger():
    from takeaway.engines import ledger_for

    return ledger_for(Settings())


@app.command()
def process(
    path: Annotated[Path, typer.Argument(help="Audio or video file (wav, flac, mp3, m4a, ogg, mp4, webm...).")],
    title: Annotated[Optional[str], typer.Option(help="Meeting title (default: the file name).")] = None,
    start: Annotated[Optional[str], typer.Option(help="Meeting start, ISO 8601 with offset.")] = None,
    participants: Annotated[Optional[str], typer.Option(help='Names separated by ";": "Name A;Name B".')] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for minutes.json and minutes.md.")] = Path("out"),
    team: Annotated[Optional[str], typer.Option(help="Run tag for KPI roll-ups.")] = None,
    use_case: Annotated[Optional[str], typer.Option(help="Run tag for KPI roll-ups (e.g. standup, support).")] = None,
    tracker: Annotated[Optional[str], typer.Option(help="local, jira, asana or servicenow (default: settings).")] = None,
    notify: Annotated[Optional[str], typer.Option(help="console or slack (default: settings).")] = None,
    people: Annotated[Optional[Path], typer.Option(help="People directory, YAML or CSV (default: settings).")] = None,
    wait_review: Annotated[Optional[int], typer.Option(help="Seconds to wait for the review form in the Prefect "
                                                              "UI (default: settings; 0: leave for `takeaway review`).")] = None,
):
    """Run the process_recording flow on one recording and print its decisions and action items."""
    from takeaway import engines
    from takeaway.connectors import check_config
    from takeaway.speech.audio import probe

    began = time.perf_counter()
    for key, value in (("TRACKER", tracker), ("NOTIFY", notify), ("PEOPLE_FILE", people),
                       ("REVIEW_WAIT_S", wait_review)):
        if value is not None:
            os.environ[f"TAKEAWAY_{key}"] = str(value)
    try:
        check_config(Settings().for_team(team))
    except (TakeawayError, ValueError) as exc:
        fail(str(exc))
    start_dt = None
    if start:
        try:
            start_dt = datetime.fromisoformat(start)
        except ValueError:
            fail(f"--start {start!r} is not ISO 8601 (e.g. 2026-11-12T10:00:00-05:00)")
        if start_dt.tzinfo is None:
            fail(f"--start {start!r} has no UTC offset (e.g. 2026-11-12T10:00:00-05:00)")
    try:
        probe(path)
        engines.check_models(Settings().for_team(team))
    except TakeawayError as exc:
        fail(str(exc))
    if start_dt is None:
        mtime = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        err.print(f"No --start given: using the file's modification time {mtime.isoformat()}")
    names = [p.strip() for p in (participants or "").split(";") if p.strip()]

    from takeaway.flows import process as process_flow

    with Progress(TextColumn("transcribing"), BarColumn(), TextColumn("{task.fields[done]}"),
                  TimeRemainingColumn(), console=err, transient=False) as bar:
        job = bar.add_task("asr", total=1.0, done="")

        def progress(done: float, total: float) -> None:
            bar.update(job, total=total or 1.0, completed=done, done=f"{done:.0f}/{total:.0f} s audio")

        process_flow.progress_hook = progress
        try:
            run_tags = [f"{k}:{v}" for k, v in (("team", team), ("use_case", use_case)) if v]
            flow = process_flow.process_recording.with_options(tags=run_tags) if run_tags else \
                process_flow.process_recording
            minutes = flow(str(path), title, start_dt.isoformat() if start_dt else None, names, str(out_dir),
                           team, use_case)
        except TakeawayError as exc:
            bar.stop()
            fail(str(exc))
    from takeaway import report

    report.print_minutes(minutes, out)
    print_filed(minutes, Settings().for_team(team).tracker)
    ready = sum(i.status == "ready" for i in minutes.action_items)
    out.print(f"{len(minutes.action_items)} action item(s), {ready} ready, "
              f"{len(minutes.action_items) - ready} to review; {len(minutes.decisions)} decision(s). "
              f"Minutes: {out_dir / 'minutes.json'}, {out_dir / 'minutes.md'}. "
              f"Wall time {time.perf_counter() - began:.1f} s.")


def print_filed(minutes, tracker: str) -> None:
    """Where each item went: its id in the tracker, or why it is not there yet."""
    if not minutes.action_items:
        return
    book = ledger()
    pushes = {p.item_key: p for p in book.pushes(tracker=tracker)}
    table = Table(title=f"Filed in {tracker}")
    for col in ("Task", "Owner", "In tracker", "Link"):
        table.add_column(col)
    for item in minutes.action_items:
        push = pushes.get(item.id)
        if push is None:
            review = book.item(item.id).review
            where = {"pending": "waiting for review (takeaway review)", "rejected": "rejected by a reviewer"}.get(
                review, "not filed")
        elif push.state == "pending":
            where = "pending: tracker unavailable (takeaway push-pending)"
        else:
            where = push.external_id or "filed"
        table.add_row(item.description, item.owner or "?", where, (push.url or "") if push else "")
    out.print(table)


@app.command()
def tasks(state: Annotated[Optional[str], typer.Option(help="open, needs_review or done")] = None):
    """List the tasks on the local board."""
    table = Table(title="Local board")
    for col in ("Id", "Owner", "Task", "Due", "State", "Meeting"):
        table.add_column(col)
    book, titles = ledger(), {}
    for t in book.tasks(state):
        if t.meeting_id not in titles:
            titles[t.meeting_id] = book.minutes(t.meeting_id).meeting.title
        table.add_row(f"TW-{t.id}", t.owner or "?", t.title, str(t.due_date or "-"), t.state, titles[t.meeting_id])
    out.print(table)


@app.command()
def done(task_id: Annotated[str, typer.Argument(help="Task id, e.g. TW-3")]):
    """Mark a task done (its reminders are skipped)."""
    try:
        t = ledger().set_task_state(int(task_id.upper().removeprefix("TW-")), "done")
    except (KeyError, ValueError):
        fail(f"no task {task_id}")
    out.print(f"TW-{t.id} done: {t.title}")


@app.command("reminders")
def list_reminders():
    """List reminders: when each is due and whether it was sent."""
    table = Table(title="Reminders")
    for col in ("Send at (UTC)", "Kind", "Owner", "Task", "Due", "State"):
        table.add_column(col)
    for r, task, item in ledger().reminders():
        table.add_row(r.send_at.isoformat(timespec="minutes"), r.kind, item.owner or "?", item.description,
                      str(item.due_date), r.state + (" (task done)" if task and task.state == "done" else ""))
    out.print(table)


@app.command("send-reminders")
def send_reminders_cmd(now: Annotated[Optional[str], typer.Option(help="Pretend it is this time (ISO 8601).")] = None):
    """Run the send_reminders flow: send the reminders that are due now."""
    from takeaway.flows.followup import send_reminders

    c = send_reminders(now)
    out.print(f"{c['sent']} reminder(s) sent, {c['skipped']} skipped (task done), {c['moved']} moved "
              f"(due date changed in the tracker), {c['deferred']} deferred (tracker unreachable).")


@app.command("push-pending")
def push_pending_cmd(tracker: Annotated[Optional[str], typer.Option(help="Only this tracker.")] = None):
    """Run the push_pending flow: file the items a tracker outage left pending."""
    from takeaway.flows.followup import push_pending

    c = push_pending(tracker)
    out.print(f"{c['created']} filed, {c['found'] + c['existing']} were already there, {c['pending']} still pending.")
    if c["pending"]:
        raise typer.Exit(1)


@app.command("review")
def review_cmd(reviewer: Annotated[Optional[str], typer.Option(help="Your name, for the audit trail.")] = None,
               file: Annotated[bool, typer.Option(help="File approved items right away.")] = True):
    """Approve, edit or reject the items waiting for review, then file the approved ones."""
    from datetime import date

    from takeaway import review

    settings = Settings()
    rows = ledger().items_in_review()
    if not rows:
        out.print("Nothing waits for review.")
        return
    decisions = []
    for row in rows:
        out.print(f"\n[bold]{row.description}[/]  owner: {row.owner or '?'}  due: {row.due_date or '-'}  "
                  f"({row.status}, meeting {row.meeting_id})")
        if row.evidence:
            out.print(f'  said: "{row.evidence[0]["quote"]}"')
        answer = typer.prompt("  [a]pprove, [e]dit, [r]eject, [s]kip", default="s").strip().lower()[:1]
        d = review.Decision(item_id=row.key, decision={"a": "approve", "e": "approve", "r": "reject"}.get(answer,
                                                                                                       "pending"))
        if answer == "e":
            d.owner = typer.prompt("  owner", default=row.owner or "").strip() or None
            due = typer.prompt("  due date (YYYY-MM-DD, empty: none)", default=str(row.due_date or "")).strip()
            try:
                d.due_date = date.fromisoformat(due) if due else None
            except ValueError:
                fail(f"{due!r} is not a date (YYYY-MM-DD)")
            d.description = typer.prompt("  description", default=row.description).strip()
        decisions.append(d)
    result = review.apply(ledger(), decisions, reviewer)
    out.print(f"{len(result['approve'])} approved, {len(result['reject'])} rejected, "
              f"{len(result['pending'])} left for later.")
    if file and result["approve"]:
        from takeaway.flows.followup import file_approved

        c = file_approved(result["approve"])
        out.print(f"Filed in {settings.tracker}: {c['created']} created, {c['found'] + c['existing']} already there, "
                  f"{c['pending']} pending.")


@app.command()
def serve():
    """Serve the flows as Prefect deployments: process_recording on demand, send_reminders every 15 min
    (and at each reminder's time), push_pending every 30 min. Watch them with `takeaway ui`."""
    from takeaway.flows.schedule import serve as serve_flows

    serve_flows()


@app.command()
def sandbox(port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
            people: Annotated[Path, typer.Option(help="People directory: each person gets an account.")] =
            Path("fixtures/people.yaml")):
    """Serve local stand-ins for Jira, Asana, ServiceNow and Slack (see README, "Trackers and Slack")."""
    from takeaway.people import Directory
    from takeaway.sandbox import environment
    from takeaway.sandbox.app import serve

    directory = Directory.load(people)
    err.print("Point takeaway at it (in another shell):")
    for key, value in environment(f"http://127.0.0.1:{port}").items():
        err.print(f"export {key}={value}", highlight=False, soft_wrap=True)
    err.print(f"export TAKEAWAY_PEOPLE_FILE={people.resolve()}", highlight=False, soft_wrap=True)
    serve(directory.people, port=port)


@app.command()
def kpi(by: Annotated[Optional[str], typer.Option(help="Roll up by team or use_case.")] = None):
    """Per-run metering: audio, wall time, real-time factor, tokens, cost, model, items (or roll-ups)."""
    runs = ledger().runs()
    if by:
        if by not in ("team", "use_case"):
            fail("--by takes team or use_case")
        table = Table(title=f"KPIs by {by}")
        for col in (by, "Runs", "Audio s", "Wall s", "Tokens in/out", "Cached chunks", "Cost", "Items", "Ready"):
            table.add_column(col)
        groups: dict[str, list] = {}
        for r in runs:
            groups.setdefault(getattr(r, by) or "-", []).append(r)
        for name, rs in sorted(groups.items()):
            total = lambda attr: sum(getattr(r, attr) for r in rs)  # noqa: E731
            table.add_row(name, str(len(rs)), f"{total('audio_s'):.1f}", f"{total('wall_s'):.1f}",
                          f"{total('prompt_tokens')}/{total('completion_tokens')}", str(total("cached_calls")),
                          f"{total('cost'):.4f}", str(total("items_found")), str(total("items_ready")))
        out.print(table)
        return
    table = Table(title="Runs")
    for col in ("Run", "Meeting", "Team", "Use case", "Audio s", "Wall s", "RTF", "Tokens in/out", "Cost", "Model",
                "Prompt", "Items", "Ready", "Stages (s)"):
        table.add_column(col)
    for r in runs:
        stages = " ".join(f"{k}={v.get('wall_s', 0):.1f}" for k, v in r.stages.items())
        table.add_row(str(r.id), r.meeting_id, r.team or "-", r.use_case or "-", f"{r.audio_s:.1f}",
                      f"{r.wall_s:.1f}", f"{r.rtf:.3f}", f"{r.prompt_tokens}/{r.completion_tokens}",
                      f"{r.cost:.4f}", r.model, r.prompt_version, str(r.items_found), str(r.items_ready), stages)
    out.print(table)


@app.command("eval")
def evaluate(folder: Annotated[Path, typer.Argument(help="Folder of cases (subfolders with gold.json).")],
             as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
             case: Annotated[Optional[list[str]], typer.Option(help="Only these cases (repeatable).")] = None,
             out_dir: Annotated[Optional[Path], typer.Option("--out", help="Write each case's minutes "
                                                            "(transcript and items) to OUT/<case>.json.")] = None):
    """Score the pipeline against labelled cases: WER, DER, items, owners, due dates."""
    from takeaway import evaluate as ev

    try:
        results = ev.run(folder, progress=lambda name: err.print(f"evaluating {name}..."), only=case,
                         out=out_dir)
    except TakeawayError as exc:
        fail(str(exc))
    if as_json:
        out.print_json(data=results)
    else:
        out.print(ev.table(results))


@app.command()
def ui(port: int = 4200):
    """Start the Prefect UI on this project's state (http://127.0.0.1:PORT)."""
    import takeaway.flows  # noqa: F401  (sets PREFECT_HOME)

    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    raise typer.Exit(subprocess.call(cmd, env=os.environ))


def main() -> None:
    try:
        app()
    except TakeawayError as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()

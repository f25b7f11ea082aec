"""Deployments: `takeaway serve` serves the flows; reminders become scheduled runs in the Prefect UI."""

from __future__ import annotations

from datetime import datetime


REMINDERS_DEPLOYMENT = "send_reminders/takeaway"


def schedule_runs(planned: list[tuple[str, str, datetime]]) -> int:
    """One scheduled `send_reminders` run per planned reminder, so reminders show in the Prefect UI as
    scheduled (then completed) runs. Needs the deployment `takeaway serve` creates; without it the
    ledger alone drives reminders. Idempotent per item and kind."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Scheduled

    if not planned:
        return 0
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(REMINDERS_DEPLOYMENT)
        except ObjectNotFound:
            return 0
        for item, kind, when in planned:
            client.create_flow_run_from_deployment(
                deployment.id, state=Scheduled(scheduled_time=when), tags=["reminder", kind],
                idempotency_key=f"reminder-{item}-{kind}-{when.isoformat()}")
    return len(planned)


def serve() -> None:
    """Serve the flows as deployments (blocks): process_recording on demand, send_reminders every 15
    minutes plus a run at each reminder's time, push_pending every 30 minutes."""
    from prefect import serve as prefect_serve

    from takeaway.flows.followup import file_approved, push_pending, send_reminders
    from takeaway.flows.process import process_recording

    prefect_serve(process_recording.to_deployment(name="takeaway"),
                  send_reminders.to_deployment(name="takeaway", cron="*/15 * * * *"),
                  push_pending.to_deployment(name="takeaway", cron="*/30 * * * *"),
                  file_approved.to_deployment(name="takeaway"))

"""Reminders show in the Prefect UI: each planned reminder is a scheduled run of the send_reminders deployment."""

from datetime import datetime, timezone


def test_planned_reminders_become_scheduled_runs_once(prefect_server):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from takeaway.flows.followup import send_reminders
    from takeaway.flows.schedule import schedule_runs

    assert schedule_runs([("A-1", "due", datetime(2030, 1, 2, 14, tzinfo=timezone.utc))]) == 0  # no deployment
    deployment_id = send_reminders.to_deployment(name="takeaway").apply()
    try:
        planned = [("A-1", "before", datetime(2030, 1, 1, 14, tzinfo=timezone.utc)),
                   ("A-1", "due", datetime(2030, 1, 2, 14, tzinfo=timezone.utc))]
        assert schedule_runs(planned) == 2
        schedule_runs(planned)  # a re-run of the meeting: no second set
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))
            assert sorted(r.expected_start_time for r in runs) == [w for _, _, w in planned]
            assert all(r.state.is_scheduled() for r in runs) and {"reminder", "due"} <= set(runs[-1].tags) | {"due"}
    finally:
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment_id)

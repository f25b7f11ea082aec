"""The sandbox's own plumbing: faults are injected per vendor and path, then run out."""

import httpx


def test_faults_fire_then_run_out(sandbox):
    sandbox.fault(vendor="jira", path="/rest/api", status=429, times=1, retry_after=2)
    r = httpx.get(f"{sandbox.url}/jira/rest/api/2/serverInfo")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert httpx.get(f"{sandbox.url}/jira/rest/api/2/serverInfo").status_code != 429

"""Local stand-ins for Jira, Asana, ServiceNow and Slack that speak each vendor's documented API.

They let the connectors be exercised over real HTTP with the official clients, without accounts:
`takeaway sandbox` serves all four on one port (``/jira``, ``/asana``, ``/servicenow``, ``/slack``),
with the users of a people directory and the credentials below. Faults (rate limits, 5xx bursts,
a reply lost after the vendor acted) are injected through ``/_sandbox/faults``.
"""

#: the credentials each stand-in accepts; anything else gets the vendor's 401
CREDENTIALS = {
    "jira": {"email": "takeaway-bot@example.com", "token": "sandbox-jira-token", "pat": "sandbox-jira-pat"},
    "asana": {"token": "sandbox-asana-token"},
    "servicenow": {"user": "takeaway.bot", "password": "sandbox-servicenow-password"},
    "slack": {"bot_token": "xoxb-sandbox-bot", "user_token": "xoxp-sandbox-user"},
}

#: the ids the stand-ins are seeded with
ASANA_WORKSPACE, ASANA_PROJECT = "1200000000000001", "1200000000000002"
JIRA_PROJECT = "OPS"
SLACK_LEAD_CHANNEL = "#launch-leads"


def environment(url: str) -> dict[str, str]:
    """The TAKEAWAY_* settings that point every connector at a sandbox served at `url`."""
    c = CREDENTIALS
    return {
        "TAKEAWAY_JIRA__URL": f"{url}/jira", "TAKEAWAY_JIRA__EMAIL": c["jira"]["email"],
        "TAKEAWAY_JIRA__TOKEN": c["jira"]["token"], "TAKEAWAY_JIRA__PROJECT": JIRA_PROJECT,
        "TAKEAWAY_ASANA__URL": f"{url}/asana/api/1.0", "TAKEAWAY_ASANA__TOKEN": c["asana"]["token"],
        "TAKEAWAY_ASANA__WORKSPACE": ASANA_WORKSPACE, "TAKEAWAY_ASANA__PROJECT": ASANA_PROJECT,
        "TAKEAWAY_SERVICENOW__URL": f"{url}/servicenow", "TAKEAWAY_SERVICENOW__USER": c["servicenow"]["user"],
        "TAKEAWAY_SERVICENOW__PASSWORD": c["servicenow"]["password"],
        "TAKEAWAY_SLACK__URL": f"{url}/slack/api/", "TAKEAWAY_SLACK__TOKEN": c["slack"]["bot_token"],
        "TAKEAWAY_SLACK__LEAD_CHANNEL": SLACK_LEAD_CHANNEL,
    }

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

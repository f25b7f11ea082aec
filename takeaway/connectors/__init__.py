"""Outside systems behind one small interface per kind (see base.py); built from settings here."""

from __future__ import annotations

from takeaway.connectors.base import Notifier, Tracker, TrackerError
from takeaway.ledger.db import Ledger
from takeaway.people import Directory
from takeaway.settings import Settings


REQUIRED = {"jira": ("url", "token"), "asana": ("token", "workspace", "project"),
            "servicenow": ("url", "user", "password"), "slack": ("token",)}


def check_config(settings: Settings) -> None:
    """Fail fast, before any audio is processed, when the chosen tracker or notifier lacks settings."""
    for name in (settings.tracker, settings.notify):
        config = getattr(settings, name, None)
        missing = [f for f in REQUIRED.get(name, ()) if not getattr(config, f)]
        if missing:
            raise TrackerError(f"{name}: set {', '.join(f'{name}.{f}' for f in missing)} in takeaway.toml "
                               f"(or TAKEAWAY_{name.upper()}__{missing[0].upper()})")
    if settings.people_file:
        Directory.load(settings.people_file)


def tracker_for(settings: Settings, ledger: Ledger, directory: Directory) -> Tracker:
    name = settings.tracker
    if name == "local":
        from takeaway.connectors.local import LocalTracker

        return LocalTracker(ledger)
    check_config(settings)
    config = getattr(settings, name)
    if name == "jira":
        from takeaway.connectors.jira import JiraTracker

        return JiraTracker(config, directory)
    if name == "asana":
        from takeaway.connectors.asana import AsanaTracker

        return AsanaTracker(config, directory)
    from takeaway.connectors.servicenow import ServiceNowTracker

    return ServiceNowTracker(config, directory)


def notifier_for(settings: Settings, directory: Directory) -> Notifier:
    if settings.notify == "slack":
        check_config(settings)
        from takeaway.connectors.slack import SlackNotifier

        return SlackNotifier(settings.slack, directory)
    from takeaway.connectors.notify import ConsoleNotifier

    return ConsoleNotifier()

"""Prefect flows: thin orchestration over the plain stage functions.

Importing this package points Prefect at the project's own state folder (`<home>/prefect`)
unless PREFECT_HOME or PREFECT_API_URL is already set, and turns telemetry off.
"""

import os
from pathlib import Path

from takeaway.settings import Settings


def prefect_defaults(home: Path) -> None:
    os.environ.setdefault("PREFECT_HOME", str((home / "prefect").resolve()))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


prefect_defaults(Settings().home)

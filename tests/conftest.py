"""Shared test set-up: a private Takeaway home and Prefect state per session, one Prefect server."""

import json
import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
_home = Path(tempfile.mkdtemp(prefix="takeaway-test-"))
os.environ["TAKEAWAY_HOME"] = str(_home)
os.environ["TAKEAWAY_MODELS_DIR"] = str(ROOT / ".takeaway" / "models")
os.environ["PREFECT_HOME"] = str(_home / "prefect")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def gold(name: str) -> dict:
    return json.loads((FIXTURES / name / "gold.json").read_text())


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fresh ledger for one test."""
    monkeypatch.setenv("TAKEAWAY_HOME", str(tmp_path))
    return tmp_path

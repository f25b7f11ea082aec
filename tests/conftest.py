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
def cli():
    """Invoke the CLI in-process. Prefect may re-read its logging config while the runner has swapped
    sys.stderr for a buffer it closes afterwards; its handlers are bound to the real stderr again after."""
    from prefect.logging.configuration import setup_logging
    from typer.testing import CliRunner

    from takeaway.cli import app

    yield lambda *args, **kw: CliRunner().invoke(app, *args, **kw)
    setup_logging(incremental=False)


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fresh ledger for one test."""
    monkeypatch.setenv("TAKEAWAY_HOME", str(tmp_path))
    return tmp_path


def typed_transcript(lines: list[tuple[str, str]], names: dict[str, str], start: str, title: str = "Typed"):
    """A named transcript from typed (label, text) lines, 3 s apart: extraction tests without audio."""
    from datetime import datetime

    from takeaway.speech.types import Recording, Segment, Speaker, Transcript

    rec = Recording(path=Path("typed.txt"), meeting_id="typed", title=title, start=datetime.fromisoformat(start),
                    participants=list(names.values()))
    segs = [Segment(id=i, start=i * 3.0, end=i * 3.0 + 2.5, speaker=s, text=t) for i, (s, t) in enumerate(lines)]
    return Transcript(recording=rec, duration_s=len(lines) * 3.0, language="en", segments=segs,
                      speakers=[Speaker(label=label, name=name) for label, name in names.items()])


class SandboxClient:
    """The running sandbox (takeaway/sandbox): its base URL, faults and each vendor's state."""

    def __init__(self, url: str):
        import httpx

        self.url, self.http = url, httpx.Client(base_url=url, timeout=10)

    def fault(self, **fault) -> None:
        self.http.post("/_sandbox/faults", json=fault).raise_for_status()

    def state(self, vendor: str) -> dict:
        return self.http.get(f"/_sandbox/{vendor}").raise_for_status().json()

    def reset(self) -> None:
        self.http.post("/_sandbox/reset").raise_for_status()


@pytest.fixture(scope="session")
def sandbox_server():
    from takeaway.people import Directory
    from takeaway.sandbox.app import running

    with running(Directory.load(FIXTURES / "people.yaml").people) as url:
        yield SandboxClient(url)


@pytest.fixture()
def sandbox(sandbox_server):
    """The sandbox with no data but its users and no faults."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()

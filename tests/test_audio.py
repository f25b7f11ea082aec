"""Decoding: every common container, mono and stereo, any rate; clear errors for bad input."""

import av
import numpy as np
import pytest

from conftest import FIXTURES
from takeaway.errors import AudioError
from takeaway.speech.audio import SAMPLE_RATE, decode, probe


def encode(path, codec, rate=22050, channels=1, seconds=1.5, fmt=None):
    """Write a tone with PyAV in the given container/codec."""
    t = np.arange(int(rate * seconds)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    data = np.tile(tone, (channels, 1))
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo" if channels == 2 else "mono")
        frame_size = 1024
        sample_fmt = stream.codec_context.format.name
        for i in range(0, data.shape[1], frame_size):
            chunk = data[:, i:i + frame_size]
            if sample_fmt in ("s16", "s16p"):
                chunk = (chunk * 32767).astype(np.int16)
            elif sample_fmt in ("s32", "s32p"):
                chunk = (chunk * 2**31 * 0.99).astype(np.int32)
            if not sample_fmt.endswith("p"):
                chunk = chunk.T.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=sample_fmt,
                                               layout="stereo" if channels == 2 else "mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.mark.parametrize("name,codec,fmt", [
    ("a.wav", "pcm_s16le", None), ("a.flac", "flac", None), ("a.mp3", "libmp3lame", None),
    ("a.m4a", "aac", "mp4"), ("a.ogg", "libopus", "ogg"), ("a.mp4", "aac", "mp4"), ("a.webm", "libopus", "webm"),
])
def test_decodes_common_formats_to_16k(tmp_path, name, codec, fmt):
    path = tmp_path / name
    encode(path, codec, rate=48000 if "opus" in codec else 22050, fmt=fmt)
    audio = decode(path)
    assert audio.channels == 1
    assert abs(audio.duration_s - 1.5) < 0.1
    assert np.abs(audio.samples).max() > 0.1


def test_keeps_stereo_channels_of_a_call_recording():
    audio = decode(FIXTURES / "support_call" / "support_call.flac")
    assert audio.channels == 2 and audio.source_rate == 8000
    assert audio.samples.shape[1] == pytest.approx(audio.duration_s * SAMPLE_RATE)
    assert not np.allclose(audio.samples[0], audio.samples[1])


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"this is not audio at all, just text" * 20, "cannot decode|no audio"),
])
def test_bad_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    for check in (probe, decode):
        with pytest.raises(AudioError, match=message):
            check(path)


def test_truncated_file_is_an_error(tmp_path):
    path = tmp_path / "cut.flac"
    path.write_bytes((FIXTURES / "team_meeting" / "team_meeting.flac").read_bytes()[:3000])
    with pytest.raises(AudioError, match="cannot decode"):
        decode(path)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        decode(tmp_path / "nope.mp3")

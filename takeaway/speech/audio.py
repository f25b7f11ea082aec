"""Decode any audio or video file with PyAV (no system ffmpeg needed)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import av
import numpy as np

from takeaway.errors import AudioError

SAMPLE_RATE = 16000


@dataclass
class Audio:
    """Decoded audio: float32 samples shaped (channels, n) at SAMPLE_RATE."""

    samples: np.ndarray
    source_rate: int

    @property
    def channels(self) -> int:
        return self.samples.shape[0]

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / SAMPLE_RATE

    @cached_property
    def mono(self) -> np.ndarray:
        return self.samples[0] if self.channels == 1 else self.samples.mean(axis=0).astype(np.float32)


@contextmanager
def open_audio(path: str | Path):
    """The file's container and first audio stream; decoding errors become one-line AudioErrors."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio track found (is this an audio or video file?)")
            yield container, container.streams.audio[0]
    except AudioError:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({exc.__class__.__name__}: {exc})") from None


def decode(path: str | Path, max_channels: int = 2) -> Audio:
    """Decode the first audio stream of `path` to 16 kHz float32, keeping up to `max_channels` channels.

    Raises AudioError with one clear line for missing, empty, corrupt or non-audio files.
    """
    chunks = []
    with open_audio(path) as (container, stream):
        channels = min(stream.codec_context.channels or 1, max_channels)
        resampler = av.AudioResampler(format="fltp", layout="stereo" if channels == 2 else "mono", rate=SAMPLE_RATE)
        for frame in container.decode(stream):
            frame.pts = None
            chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
        chunks.extend(out.to_ndarray() for out in resampler.resample(None))
        source_rate = stream.codec_context.sample_rate or SAMPLE_RATE
    if not chunks:
        raise AudioError(f"{path}: the audio track holds no samples")
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    del chunks
    if samples.shape[1] < SAMPLE_RATE // 10:
        raise AudioError(f"{path}: the audio is shorter than 0.1 s")
    return Audio(samples=samples, source_rate=source_rate)


def probe(path: str | Path) -> None:
    """Fail fast, before any work, on files that are not decodable audio: decode the first second."""
    with open_audio(path) as (container, stream):
        for frame in container.decode(stream):
            frame.to_ndarray()
            if frame.time is not None and frame.time > 1.0:
                break

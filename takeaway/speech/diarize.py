"""Who spoke when, without a hub: VAD regions, Resemblyzer voice embeddings, clustering.

The embedded backend runs anywhere on CPU: Silero VAD (bundled in faster-whisper) finds
speech, Resemblyzer (which ships its encoder) embeds overlapping 1.6 s windows, and
agglomerative clustering with a distance threshold finds the number of speakers within
the configured bounds. A `Segmenter` (segmentation.py), when given, then refines the turns: short turns,
exact changes and overlapped speech. A stereo call recording with one speaker per channel is split by
channel instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from takeaway.speech.audio import SAMPLE_RATE, Audio
from takeaway.speech.segmentation import Segmenter
from takeaway.speech.types import SpeakerTurn

STEP_S = 0.1  # resolution of the speaker timeline
#: clustering keeps a full distance matrix (n^2/2 doubles): beyond this many windows (12.5 min of speech at
#: 4 windows/s, ~31 MB) an evenly spaced sample is clustered and every window joins its nearest voice
MAX_CLUSTER_WINDOWS = 3000


@dataclass
class DiarizeOptions:
    """min_speakers/max_speakers bound the automatic count; threshold is the cosine distance
    above which two voices are different people."""

    min_speakers: int = 1
    max_speakers: int = 8
    threshold: float = 0.3
    window_rate: float = 4.0  # embedding windows per second
    min_speech_s: float = 1.0  # a "speaker" heard for less than this is folded into the nearest voice


def speech_regions(samples: np.ndarray) -> list[tuple[float, float]]:
    """Speech regions (seconds) found by faster-whisper's bundled Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    stamps = get_speech_timestamps(samples, VadOptions(min_silence_duration_ms=300, speech_pad_ms=100))
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def label(index: int) -> str:
    return f"SPEAKER_{index:02d}"


class EmbeddedDiarizer:
    """Diarization that needs no hub: configured once, called on decoded audio.

    segmenter: refines the voice clustering's turns (None: the clustering's turns as they are)."""

    def __init__(self, options: DiarizeOptions | None = None, segmenter: Segmenter | None = None):
        from resemblyzer import VoiceEncoder

        self.options = options or DiarizeOptions()
        self.encoder = VoiceEncoder("cpu", verbose=False)
        self.segmenter = segmenter

    def __call__(self, audio: Audio, expected: int | None = None) -> list[SpeakerTurn]:
        """expected: how many people may speak (e.g. the participant list); fewer can be found."""
        if is_call(audio):
            return channel_turns(audio.samples)
        turns = self.by_voice(audio.mono, expected)
        return self.segmenter.refine(audio.mono, turns) if self.segmenter else turns

    def by_voice(self, samples: np.ndarray, expected: int | None = None) -> list[SpeakerTurn]:
        regions = speech_regions(samples)
        windows, embeddings = [], []
        for start, end in regions:
            piece = samples[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)]
            _, partials, slices = self.encoder.embed_utterance(piece, return_partials=True,
                                                               rate=self.options.window_rate, min_coverage=0.5)
            for emb, sl in zip(partials, slices):
                w_start = start + sl.start / SAMPLE_RATE
                w_end = min(end, start + sl.stop / SAMPLE_RATE)
                if w_end > w_start:
                    windows.append((w_start, w_end))
                    embeddings.append(emb)
        if not windows:
            return []
        labels = cluster(np.array(embeddings), self.options, expected)
        return timeline(regions, windows, labels)


def is_call(audio: Audio) -> bool:
    """A stereo call recording with one speaker per channel."""
    return audio.channels == 2 and channels_are_speakers(audio.samples)


def channel_turns(samples: np.ndarray) -> list[SpeakerTurn]:
    """Speaker turns of a call recording: channel N's speech regions are SPEAKER_0N's."""
    turns = [SpeakerTurn(start=s, end=e, speaker=label(ch))
             for ch in range(samples.shape[0]) for s, e in speech_regions(samples[ch])]
    return sorted(turns, key=lambda t: t.start)


def channels_are_speakers(samples: np.ndarray) -> bool:
    """True when the two channels carry different talkers (a call recording), not the same mix."""
    left, right = samples[0], samples[1]
    if np.allclose(left, right, atol=1e-3):
        return False
    corr = np.corrcoef(left, right)[0, 1]
    return bool(abs(corr) < 0.5)


def cluster(embeddings: np.ndarray, options: DiarizeOptions, expected: int | None = None) -> np.ndarray:
    """Average-linkage clustering on cosine distance; the count follows the threshold within bounds.

    Clusters heard too briefly are folded into the nearest voice: with `expected` speakers, the
    smallest ones until no more than that remain; without, those under `min_speech_s`."""
    if len(embeddings) == 1:
        return np.zeros(1, dtype=int)
    if len(embeddings) > MAX_CLUSTER_WINDOWS:
        return cluster_sampled(embeddings, options, expected)
    tree = linkage(embeddings, method="average", metric="cosine")
    labels = fcluster(tree, t=options.threshold, criterion="distance")
    count = len(set(labels))
    bounded = min(max(count, options.min_speakers), options.max_speakers, len(embeddings))
    if bounded != count:
        labels = fcluster(tree, t=bounded, criterion="maxclust")
    if expected:
        labels = fold_small(embeddings, labels, 0, max(options.min_speakers, 1), expected)
    else:
        labels = fold_small(embeddings, labels, int(options.min_speech_s * options.window_rate), options.min_speakers)
    # number speakers in order of first appearance
    order = {c: i for i, c in enumerate(dict.fromkeys(labels))}
    return np.array([order[c] for c in labels])


def cluster_sampled(embeddings: np.ndarray, options: DiarizeOptions, expected: int | None) -> np.ndarray:
    """Long recordings in bounded memory: cluster an evenly spaced sample, then give every window the
    voice whose centroid is nearest."""
    pick = np.linspace(0, len(embeddings) - 1, MAX_CLUSTER_WINDOWS).astype(int)
    sample_labels = cluster(embeddings[pick], options, expected)
    normed = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    centroids = np.array([normed[pick][sample_labels == c].mean(axis=0) for c in range(sample_labels.max() + 1)])
    labels = (normed @ centroids.T).argmax(axis=1)
    order = {c: i for i, c in enumerate(dict.fromkeys(labels))}
    return np.array([order[c] for c in labels])


def fold_small(embeddings: np.ndarray, labels: np.ndarray, min_windows: int, min_speakers: int,
               max_speakers: int | None = None) -> np.ndarray:
    """Fold the smallest cluster into the nearest other one while it has fewer than `min_windows`
    windows or there are more than `max_speakers` clusters (never below `min_speakers`)."""
    normed = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    labels = labels.copy()
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        if len(ids) <= max(min_speakers, 1):
            return labels
        smallest = ids[counts.argmin()]
        if counts.min() >= min_windows and (max_speakers is None or len(ids) <= max_speakers):
            return labels
        others = ids[ids != smallest]
        centroids = np.array([normed[labels == c].mean(axis=0) for c in others])
        members = labels == smallest
        labels[members] = others[(normed[members] @ centroids.T).argmax(axis=1)]


def timeline(regions, windows, labels) -> list[SpeakerTurn]:
    """Turn window labels into speaker turns: each 0.1 s step inside a speech region takes the
    majority label of the windows covering it (the nearest window where none does)."""
    windows = np.array(windows)
    centers = windows.mean(axis=1)
    n_speakers = labels.max() + 1
    turns: list[SpeakerTurn] = []
    for start, end in regions:
        steps = np.arange(start, end, STEP_S) + STEP_S / 2
        votes = np.zeros((len(steps), n_speakers))
        inside = np.flatnonzero((windows[:, 0] < end) & (windows[:, 1] > start))  # only this region's windows
        for (w_start, w_end), lab in zip(windows[inside], labels[inside]):
            votes[(steps >= w_start) & (steps < w_end), lab] += 1
        near = inside if len(inside) else np.arange(len(windows))
        nearest = labels[near][np.abs(centers[near][None, :] - steps[:, None]).argmin(axis=1)]
        step_labels = np.where(votes.sum(axis=1) > 0, votes.argmax(axis=1), nearest)
        for i, lab in enumerate(step_labels):
            t0 = max(start, steps[i] - STEP_S / 2)
            t1 = min(end, steps[i] + STEP_S / 2)
            if turns and turns[-1].speaker == label(lab) and t0 - turns[-1].end < 1e-6:
                turns[-1].end = t1
            else:
                turns.append(SpeakerTurn(start=t0, end=t1, speaker=label(lab)))
    return turns

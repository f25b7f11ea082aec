"""Clustering voices: long recordings cluster a sample in bounded memory and keep every window's voice."""

import numpy as np

from takeaway.speech import diarize


def voices(n_per_voice: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of two voices taking turns every 20 windows, with jitter."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(2, 256))
    truth = (np.arange(2 * n_per_voice) // 20) % 2
    return centers[truth] + rng.normal(scale=0.3, size=(len(truth), 256)), truth


def test_long_recordings_cluster_a_sample_and_label_every_window(monkeypatch):
    emb, truth = voices(200)
    full = diarize.cluster(emb, diarize.DiarizeOptions())
    monkeypatch.setattr(diarize, "MAX_CLUSTER_WINDOWS", 60)
    sampled = diarize.cluster(emb, diarize.DiarizeOptions())
    assert len(sampled) == len(emb) and set(sampled) == {0, 1}
    assert (sampled == truth).mean() == 1.0 and (full == truth).mean() == 1.0

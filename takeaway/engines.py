"""The models behind each stage, built from Settings once per process and reused."""

from __future__ import annotations

import atexit
import ctypes
import gc
from functools import lru_cache
from pathlib import Path

from takeaway.extract.extract import Extractor
from takeaway.errors import ModelMissingError
from takeaway.extract.llm import LLM, LlamaCppBackend, OpenAIBackend
from takeaway.ledger import Ledger
from takeaway.models import embedded_gguf
from takeaway.settings import Settings
from takeaway.speech.diarize import DiarizeOptions, EmbeddedDiarizer
from takeaway.speech.segmentation import Segmenter
from takeaway.speech.transcribe import Transcriber, TranscribeOptions


@lru_cache(maxsize=4)
def transcriber(model: str, device: str, compute_type: str, beam_size: int, batch_size: int,
                threads: int) -> Transcriber:
    return Transcriber(TranscribeOptions(model=model, device=device, compute_type=compute_type, beam_size=beam_size,
                                         batch_size=batch_size, threads=threads))


def transcriber_for(settings: Settings) -> Transcriber:
    return transcriber(settings.asr_model, settings.asr_device, settings.asr_compute_type, settings.asr_beam_size,
                       settings.asr_batch_size, settings.asr_threads)


@lru_cache(maxsize=2)
def diarizer(min_speakers: int, max_speakers: int, threshold: float, segmentation: str = "embedded",
             device: str = "auto") -> EmbeddedDiarizer:
    segmenter = None if segmentation.lower() == "none" else Segmenter(segmentation, device)
    return EmbeddedDiarizer(DiarizeOptions(min_speakers=min_speakers, max_speakers=max_speakers, threshold=threshold),
                            segmenter)


@lru_cache(maxsize=2)
def pyannote_diarizer(pipeline: str, token: str | None, device: str, min_speakers: int, max_speakers: int):
    from takeaway.speech.pyannote_backend import PyannoteDiarizer

    return PyannoteDiarizer(pipeline, token, device, min_speakers, max_speakers)


def diarizer_for(settings: Settings):
    """The configured diarizer: called as diarizer(audio, expected_speakers) -> speaker turns."""
    if settings.diarizer == "pyannote":
        return pyannote_diarizer(settings.pyannote_pipeline, settings.hf_token, settings.asr_device,
                                 settings.min_speakers, settings.max_speakers)
    return diarizer(settings.min_speakers, settings.max_speakers, settings.speaker_threshold,
                    settings.speaker_segmentation, settings.asr_device)


def check_models(settings: Settings) -> None:
    """Load the speech models and find the LLM's weights now, so that a missing or wrong model stops a run
    with its one line before any work is done (the LLM itself loads after the speech stages)."""
    transcriber_for(settings)
    diarizer_for(settings)
    if settings.llm_backend == "llama_cpp":
        llm_weights(settings)


def llm_weights(settings: Settings) -> Path:
    """The GGUF the llama_cpp backend loads: the configured file, else the embedded model."""
    path = Path(settings.llm_model_path or embedded_gguf(settings.models_dir))
    if not path.is_file():
        raise ModelMissingError(f"LLM weights not found at {path} (set TAKEAWAY_LLM_MODEL_PATH)")
    return path


_llms: dict[tuple, LLM] = {}


@atexit.register
def _close_llms() -> None:
    """Free llama.cpp models before the interpreter tears its modules down."""
    for llm in _llms.values():
        close = getattr(getattr(llm, "llm", None), "close", None)
        if close:
            close()
    _llms.clear()


def release_memory() -> None:
    """Hand memory freed by earlier stages back to the OS (glibc keeps it otherwise), so a model loaded
    next does not stack on top of it in the process's peak."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def llm_for(settings: Settings) -> LLM:
    if settings.llm_backend == "openai":
        key = ("openai", settings.llm_base_url, settings.llm_model)
        if key not in _llms:
            _llms[key] = OpenAIBackend(settings.llm_base_url, settings.llm_model, settings.llm_api_key,
                                       settings.llm_timeout_s, settings.llm_context)
        return _llms[key]
    path = llm_weights(settings)
    key = ("llama_cpp", str(path), settings.llm_context, settings.llm_threads)
    if key not in _llms:
        release_memory()
        _llms[key] = LlamaCppBackend(path, settings.llm_context, settings.llm_threads)
    return _llms[key]


@lru_cache(maxsize=4)
def ledger(url: str) -> Ledger:
    return Ledger(url)


def ledger_for(settings: Settings) -> Ledger:
    return ledger(settings.ledger_url)


def fallback_for(settings: Settings) -> LLM | None:
    if not settings.llm_fallback_base_url:
        return None
    key = ("fallback", settings.llm_fallback_base_url, settings.llm_fallback_model)
    if key not in _llms:
        _llms[key] = OpenAIBackend(settings.llm_fallback_base_url, settings.llm_fallback_model,
                                   settings.llm_fallback_api_key, settings.llm_timeout_s, settings.llm_context)
    return _llms[key]


def extractor_for(settings: Settings) -> Extractor:
    return Extractor(llm_for(settings), review_confidence=settings.review_confidence, fallback=fallback_for(settings),
                     cache=ledger_for(settings) if settings.llm_cache else None)

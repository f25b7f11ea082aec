"""Who spoke when with a pyannote.audio pipeline: the optional production backend, best on a GPU.

The pipeline is a local folder holding its config.yaml (e.g. a downloaded copy of
pyannote/speaker-diarization-community-1 with its segmentation/, embedding/ and plda/ folders),
or a Hugging Face hub id, which needs a token from an account that accepted the model's
conditions. pyannote.audio's usage telemetry is switched off before it is imported, and audio
goes to the pipeline as an in-memory waveform, so neither torchcodec nor torchaudio decodes files.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from pathlib import Path

from takeaway.errors import ModelMissingError
from takeaway.speech.audio import SAMPLE_RATE, Audio
from takeaway.speech.types import SpeakerTurn

INSTALL_HINT = "pip install pyannote.audio==4.0.7 (`make install` does, see the Makefile)"
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def pyannote_audio():
    """pyannote.audio, imported with telemetry off; a ModelMissingError when the extra is missing."""
    # documented switch (pyannote.audio 4.x README, "Telemetry"): PYANNOTE_METRICS_ENABLED=0 disables it
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
    try:
        with warnings.catch_warnings():
            # torchcodec is optional for us: we never hand pyannote a file to decode
            warnings.filterwarnings("ignore", message=r"\s*torchcodec is not installed correctly")
            import pyannote.audio
            from pyannote.audio.telemetry import set_telemetry_metrics
    except (ImportError, OSError) as exc:  # OSError: a torchaudio whose compiled library does not load
        raise ModelMissingError(f"pyannote.audio is needed: {INSTALL_HINT} "
                                f"({exc.__class__.__name__}: {exc})") from None
    set_telemetry_metrics(False)
    return pyannote.audio


def is_hub_id(source: str | Path) -> bool:
    """True for 'owner/name' strings that are not an existing local path."""
    return (isinstance(source, str) and HUB_ID.fullmatch(source) is not None
            and not Path(source).expanduser().exists())


def load_pipeline(source: str | Path, token: str | None = None):
    """The pyannote pipeline in a local folder (or config.yaml file) or on the Hugging Face hub."""
    Pipeline = pyannote_audio().Pipeline
    if is_hub_id(source):
        return load_from_hub(Pipeline, str(source), token)
    path = Path(source).expanduser()
    if not path.exists():
        raise ModelMissingError(f"{path}: no such pyannote pipeline folder (set TAKEAWAY_PYANNOTE_PIPELINE to a "
                                "folder holding config.yaml, or to a hub id such as "
                                "pyannote/speaker-diarization-community-1)")
    if path.is_dir() and not (path / "config.yaml").is_file():
        raise ModelMissingError(f"{path}: not a pyannote pipeline folder (no config.yaml)")
    try:
        pipeline = Pipeline.from_pretrained(path)
    except Exception as exc:  # a config naming weights that are missing, or a hub model while offline
        raise ModelMissingError(f"cannot load the pyannote pipeline in {path}: "
                                f"{exc.__class__.__name__}: {exc}") from None
    if pipeline is None:
        raise ModelMissingError(f"cannot load the pyannote pipeline in {path}")
    return pipeline


def load_from_hub(Pipeline, repo: str, token: str | None):
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

    url = f"https://hf.co/{repo}"
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pyannote prints its own advice on hub errors
            pipeline = Pipeline.from_pretrained(repo, token=token)
    except GatedRepoError:
        raise ModelMissingError(f"{repo} is gated on Hugging Face: accept its conditions at {url} while logged in, "
                                "then set TAKEAWAY_HF_TOKEN to a read token of that account") from None
    except RepositoryNotFoundError:
        raise ModelMissingError(f"{repo}: no such model on Hugging Face, or it is private "
                                "(check the id; set TAKEAWAY_HF_TOKEN; or give a local pipeline folder)") from None
    except LocalEntryNotFoundError:
        raise ModelMissingError(f"{repo}: the Hugging Face hub cannot be reached and no copy is cached; download "
                                f"{url} (config.yaml and weights) where the hub is reachable and set "
                                "TAKEAWAY_PYANNOTE_PIPELINE to that folder") from None
    except Exception as exc:  # 401 with a bad token, other HTTP errors, a missing file in the repo
        raise ModelMissingError(f"cannot load the pyannote pipeline {repo} ({exc.__class__.__name__}: {exc}); "
                                f"check TAKEAWAY_HF_TOKEN and the conditions at {url}") from None
    if pipeline is None:
        raise ModelMissingError(f"cannot load the pyannote pipeline {repo}")
    return pipeline


def pick_device(device: str):
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


class PyannoteDiarizer:
    """A pyannote.audio speaker-diarization pipeline, loaded once and called on decoded audio.

    pipeline: local folder with config.yaml, or a hub id (with `token`).
    device: `auto` picks CUDA when a GPU is visible.
    min_speakers/max_speakers: bounds on the automatic count when the call gives none.
    """

    def __init__(self, pipeline: str | Path, token: str | None = None, device: str = "auto",
                 min_speakers: int | None = None, max_speakers: int | None = None):
        self.pipeline = load_pipeline(pipeline, token)
        self.device = pick_device(device)
        if self.device.type != "cpu":
            self.pipeline.to(self.device)
        self.min_speakers, self.max_speakers = min_speakers, max_speakers

    def hints(self, expected: int | None, exact: bool) -> dict[str, int]:
        if expected and exact:
            return {"num_speakers": expected}
        bounds = {"min_speakers": self.min_speakers, "max_speakers": self.max_speakers}
        if expected:  # like the embedded diarizer: up to `expected` people, fewer can be found
            bounds = {"min_speakers": min(self.min_speakers or 1, expected), "max_speakers": expected}
        return {k: v for k, v in bounds.items() if v}

    def __call__(self, audio: Audio, expected: int | None = None, exact: bool = False) -> list[SpeakerTurn]:
        """expected: how many people may speak (e.g. the participant list); exact: exactly that many."""
        import torch

        waveform = torch.from_numpy(audio.mono.copy()).unsqueeze(0)  # (1, n) float32 at SAMPLE_RATE
        output = self.pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE}, **self.hints(expected, exact))
        annotation = getattr(output, "exclusive_speaker_diarization", None)
        if annotation is None:  # legacy pipelines return the annotation itself
            annotation = getattr(output, "speaker_diarization", output)
        return turns_of(annotation, audio.duration_s)


def turns_of(annotation, duration_s: float) -> list[SpeakerTurn]:
    """Speaker turns in time order, inside the audio, numbered by first appearance (SPEAKER_00, ...)."""
    spans = sorted((max(seg.start, 0.0), min(seg.end, duration_s), str(who))
                   for seg, _, who in annotation.itertracks(yield_label=True))
    spans = [span for span in spans if span[1] > span[0]]
    order = {who: i for i, who in enumerate(dict.fromkeys(who for _, _, who in spans))}
    return [SpeakerTurn(start=start, end=end, speaker=f"SPEAKER_{order[who]:02d}") for start, end, who in spans]

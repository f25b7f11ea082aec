"""The pyannote.audio backend's wiring, on CPU, with no downloaded weights.

A tiny pipeline is built in a temp folder in the layout of pyannote/speaker-diarization-community-1
(config.yaml + segmentation/ + embedding/ + plda/): a randomly initialised PyanNet (powerset
segmentation, as in production), a randomly initialised x-vector embedding (small and fast; the
production WeSpeaker ResNet front end is checked on its own) and a random PLDA for VBx clustering.
The speaker labels are meaningless; what is tested is what goes in and what comes out.
"""

import os
import sys
from unittest.mock import MagicMock

import numpy as np
import pytest

os.environ["PYANNOTE_METRICS_ENABLED"] = "false"  # no telemetry from this test module, whatever the order
pytest.importorskip("pyannote.audio")

import torch  # noqa: E402
import yaml  # noqa: E402
from pyannote.audio import Pipeline  # noqa: E402
from pyannote.core import Annotation, Segment  # noqa: E402

from takeaway.errors import ModelMissingError  # noqa: E402
from takeaway.speech.audio import SAMPLE_RATE, Audio, decode  # noqa: E402
from takeaway.speech.pyannote_backend import PyannoteDiarizer, turns_of  # noqa: E402

from conftest import FIXTURES  # noqa: E402

SECONDS = 20
pytestmark = [pytest.mark.filterwarnings("ignore:At least one mel filterbank has all zero values"),  # x-vector MFCC
              pytest.mark.filterwarnings(r"ignore:std\(\)")]  # stats pooling on short masks


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from threads, and spinning ones slow tenfold on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def save_model(model, specifications, path):
    """Write `model` as a pyannote.audio checkpoint (what Model.from_pretrained reads), without training."""
    import lightning

    model.specifications = specifications
    model.build()
    checkpoint = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                  "pytorch-lightning_version": lightning.__version__}
    model.on_save_checkpoint(checkpoint)
    path.mkdir(parents=True)
    torch.save(checkpoint, path / "pytorch_model.bin")


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory):
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import XVectorMFCC
    from pyannote.audio.models.segmentation import PyanNet

    root = tmp_path_factory.mktemp("pipeline")
    torch.manual_seed(0)
    segmentation = PyanNet(lstm={"hidden_size": 32, "num_layers": 1, "bidirectional": True},
                           linear={"hidden_size": 32, "num_layers": 1})
    save_model(segmentation, Specifications(problem=Problem.MONO_LABEL_CLASSIFICATION, resolution=Resolution.FRAME,
                                            duration=5.0, classes=["speaker#1", "speaker#2", "speaker#3"],
                                            powerset_max_classes=2, permutation_invariant=True),
               root / "segmentation")
    embedding = XVectorMFCC()
    save_model(embedding, Specifications(problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0),
               root / "embedding")
    dim, lda_dim = embedding.dimension, 16
    rng = np.random.default_rng(0)
    (root / "plda").mkdir()
    np.savez(root / "plda" / "xvec_transform.npz", mean1=np.zeros(dim), mean2=np.zeros(lda_dim),
             lda=rng.standard_normal((dim, lda_dim)))
    np.savez(root / "plda" / "plda.npz", mu=np.zeros(lda_dim), tr=np.eye(lda_dim), psi=np.linspace(2.0, 0.1, lda_dim))
    (root / "config.yaml").write_text(yaml.safe_dump({
        "dependencies": {"pyannote.audio": "4.0.0"},
        "pipeline": {"name": "pyannote.audio.pipelines.SpeakerDiarization",
                     "params": {"segmentation": "$model/segmentation", "embedding": "$model/embedding",
                                "plda": "$model/plda", "clustering": "VBxClustering", "segmentation_step": 0.5,
                                "embedding_exclude_overlap": True, "segmentation_batch_size": 8,
                                "embedding_batch_size": 8}},
        "params": {"segmentation": {"min_duration_off": 0.0},
                   "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8}},
    }))
    return root


@pytest.fixture(scope="module")
def audio():
    full = decode(FIXTURES / "team_meeting" / "team_meeting.flac")
    return Audio(samples=full.samples[:, : SECONDS * SAMPLE_RATE], source_rate=full.source_rate)


def spy_on(diarizer):
    """Record the keyword arguments each pipeline run gets, and run it for real."""
    calls = []
    apply = diarizer.pipeline.apply

    def recording(file, **kwargs):
        calls.append((file, kwargs))
        return apply(file, **kwargs)

    diarizer.pipeline.apply = recording
    return calls


def test_turns_come_back_in_order_inside_the_audio(pipeline_dir, audio):
    diarizer = PyannoteDiarizer(pipeline_dir, device="cpu")
    calls = spy_on(diarizer)
    turns = diarizer(audio, 2, exact=True)

    assert turns, "the random segmentation model marks speech in a real meeting"
    assert [t.start for t in turns] == sorted(t.start for t in turns)
    assert all(0.0 <= t.start < t.end <= audio.duration_s for t in turns)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(turns, turns[1:])), "exclusive diarization: no overlap"
    speakers = list(dict.fromkeys(t.speaker for t in turns))
    assert speakers == [f"SPEAKER_{i:02d}" for i in range(len(speakers))] and len(speakers) <= 2
    # the audio went in memory, as one (1, n) float32 waveform at 16 kHz: no file for torchcodec to decode
    (file, kwargs), = calls
    assert kwargs == {"num_speakers": 2}
    assert file["sample_rate"] == SAMPLE_RATE and "audio" not in file
    assert file["waveform"].shape == (1, SECONDS * SAMPLE_RATE) and file["waveform"].dtype == torch.float32


@pytest.mark.parametrize(("expected", "exact", "hints"), [
    (None, False, {"min_speakers": 1, "max_speakers": 4}),  # the configured bounds
    (3, False, {"min_speakers": 1, "max_speakers": 3}),  # participants: up to that many
    (3, True, {"num_speakers": 3}),
])
def test_speaker_hints_reach_the_pipeline(pipeline_dir, audio, expected, exact, hints):
    diarizer = PyannoteDiarizer(pipeline_dir, device="cpu", min_speakers=1, max_speakers=4)
    calls = spy_on(diarizer)
    turns = diarizer(audio, expected, exact=exact)
    assert [kwargs for _, kwargs in calls] == [hints]
    assert len({t.speaker for t in turns}) <= (expected or 4)


def test_telemetry_is_off(pipeline_dir, audio, monkeypatch):
    from pyannote.audio.telemetry import metrics

    spans = []
    monkeypatch.setenv("PYANNOTE_METRICS_ENABLED", "true")  # as if the user's default said yes
    monkeypatch.setattr(metrics.tracer, "start_as_current_span", lambda *a, **k: spans.append(a) or MagicMock())
    diarizer = PyannoteDiarizer(pipeline_dir, device="cpu")
    diarizer(Audio(samples=audio.samples[:, : 6 * SAMPLE_RATE], source_rate=SAMPLE_RATE))
    assert os.environ["PYANNOTE_METRICS_ENABLED"] == "false" and not metrics.is_metrics_enabled()
    assert spans == []


@pytest.mark.parametrize(("device", "cuda", "moved"), [
    ("auto", True, ["cuda"]), ("auto", False, []), ("cpu", True, []), ("cuda", False, ["cuda"])])
def test_device_selection(pipeline_dir, monkeypatch, device, cuda, moved):
    requested = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(Pipeline, "to", lambda self, device: requested.append(device) or self)
    diarizer = PyannoteDiarizer(pipeline_dir, device=device)
    assert requested == [torch.device(d) for d in moved]
    assert diarizer.device == torch.device(moved[0] if moved else "cpu")


def test_turns_are_clipped_and_numbered_by_first_appearance():
    annotation = Annotation()
    annotation[Segment(5.0, 7.0)] = "SPEAKER_03"
    annotation[Segment(1.0, 4.0)] = "SPEAKER_07"
    annotation[Segment(9.5, 12.0)] = "SPEAKER_03"
    annotation[Segment(10.5, 11.0)] = "SPEAKER_07"  # wholly past the end of the audio: dropped
    turns = turns_of(annotation, duration_s=10.0)
    assert [(t.start, t.end, t.speaker) for t in turns] == [
        (1.0, 4.0, "SPEAKER_00"), (5.0, 7.0, "SPEAKER_01"), (9.5, 10.0, "SPEAKER_01")]


def test_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(ModelMissingError, match="no such pyannote pipeline folder"):
        PyannoteDiarizer(tmp_path / "absent")


def test_folder_without_config_is_one_clear_error(tmp_path):
    with pytest.raises(ModelMissingError, match=r"not a pyannote pipeline folder \(no config.yaml\)"):
        PyannoteDiarizer(tmp_path)


def test_folder_without_weights_is_one_clear_error(pipeline_dir, tmp_path):
    (tmp_path / "config.yaml").write_text((pipeline_dir / "config.yaml").read_text())
    with pytest.raises(ModelMissingError, match="cannot load the pyannote pipeline in"):
        PyannoteDiarizer(tmp_path)


def test_pyannote_not_installed_is_one_clear_error(pipeline_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyannote.audio", None)  # what `import pyannote.audio` sees without the extra
    with pytest.raises(ModelMissingError, match=r"pyannote.audio is needed: pip install pyannote.audio"):
        PyannoteDiarizer(pipeline_dir)


def hub_error(cls, message):
    """A huggingface_hub error as hf_hub_download raises it (built without an HTTP response)."""
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    return exc


@pytest.mark.parametrize(("error", "message"), [
    ("GatedRepoError", "is gated on Hugging Face: accept its conditions at https://hf.co/acme/diarization"),
    ("RepositoryNotFoundError", "no such model on Hugging Face, or it is private"),
    ("LocalEntryNotFoundError", "the Hugging Face hub cannot be reached and no copy is cached"),
])
def test_hub_errors_say_what_to_do(monkeypatch, capsys, error, message):
    import huggingface_hub.errors
    from pyannote.audio.utils import hf_hub

    seen = []

    def download(repo, filename, **kwargs):
        seen.append((repo, filename, kwargs["token"]))
        raise hub_error(getattr(huggingface_hub.errors, error), f"{error} for {repo}")

    monkeypatch.setattr(hf_hub, "hf_hub_download", download)
    with pytest.raises(ModelMissingError, match=message):
        PyannoteDiarizer("acme/diarization", token="hf_secret")
    assert seen == [("acme/diarization", "config.yaml", "hf_secret")]  # the token reaches the hub
    assert capsys.readouterr().out == ""  # pyannote's own printed advice is not mixed into our output


def test_production_embedding_front_end_runs_without_torchaudio_extension():
    """community-1's WeSpeaker ResNet computes fbanks with torchaudio.compliance.kaldi (pure torch), so a
    torchaudio whose compiled CUDA library was removed (see the Makefile) still serves it."""
    from pyannote.audio.models.embedding import WeSpeakerResNet34

    with torch.inference_mode():
        embeddings = WeSpeakerResNet34().eval()(torch.randn(2, 1, SAMPLE_RATE))
    assert embeddings.shape == (2, 256) and torch.isfinite(embeddings).all()


def test_settings_select_the_pyannote_backend_for_the_pipeline(pipeline_dir, audio):
    """TAKEAWAY_DIARIZER=pyannote: the speech stage gets a PyannoteDiarizer called as the embedded one is."""
    from takeaway import engines
    from takeaway.settings import Settings
    from takeaway.speech.pyannote_backend import PyannoteDiarizer

    diarizer = engines.diarizer_for(Settings(diarizer="pyannote", pyannote_pipeline=str(pipeline_dir),
                                             asr_device="cpu"))
    assert isinstance(diarizer, PyannoteDiarizer)
    turns = diarizer(audio, 4)  # what pipeline.transcribe passes: the participant count
    assert turns and all(t.end <= audio.duration_s + 0.01 for t in turns)

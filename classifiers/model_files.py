"""Find or build the encoder's model files: a model directory of one's own, or the packaged
model converted into the cache (``classifiers.convert``) on first use; and the short hash that
names its weights. Never loads the model (``classifiers.encoder`` does) and never chooses its
arithmetic (``classifiers.precision`` does).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from classifiers.convert import FULL_DEPTH, SOURCE_MARKER, ensure_default_model
from config.errors import ConfigError


class ModelLoadError(ConfigError):
    """The model directory cannot be loaded by ``transformers``: a configuration error, so the
    CLI and the scheduler report it as one line (exit 2) like any other bad setting."""

    def __init__(self, model_dir: Path, problem: str) -> None:
        super().__init__(
            "RIFTWATCH_MODEL",
            str(model_dir),
            " ".join(problem.split()),  # one line, whatever transformers said
            "point it at a transformers model directory with config.json, weights and "
            "tokenizer files, or unset it to use the packaged model",
        )


def model_fingerprint(model_dir: Path) -> str:
    """A short hash naming the weights: the converter's source hash (and the depth it was cut
    to, if cut), else config + file sizes."""
    marker = model_dir / SOURCE_MARKER
    digest = hashlib.sha256()
    if marker.is_file():
        info = json.loads(marker.read_text(encoding="utf-8"))
        digest.update(info["sha256"].encode())
        if info.get("layers", FULL_DEPTH) != FULL_DEPTH:
            digest.update(f"layers={info['layers']}".encode())
    else:
        for path in sorted(model_dir.iterdir()):
            if path.is_file():
                digest.update(f"{path.name}:{path.stat().st_size}".encode())
        config = model_dir / "config.json"
        if config.is_file():
            digest.update(config.read_bytes())
    return digest.hexdigest()[:12]


def default_model_dir(cache_dir: Path, model: Path | None, layers: int | None = None) -> Path:
    """The configured model directory, or the packaged model converted into the cache (cut to
    its first ``layers`` layers where given; a model of one's own is used as it is)."""
    if model is not None:
        path = Path(model).expanduser()
        if not (path / "config.json").is_file():
            raise ModelLoadError(path, "no config.json in this directory")
        return path
    return ensure_default_model(Path(cache_dir).expanduser(), layers)

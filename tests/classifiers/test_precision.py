"""Choosing the encoder's precision by CPU: candidates from flags, the cached choice, the
RIFTWATCH_PRECISION override, and the real int8 copy of the packaged model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from classifiers.onnx_int8 import INT8_FILENAME
from classifiers.precision import (
    CHOICE_FILENAME,
    PrecisionChoice,
    candidate_paths,
    choice_key,
    choose_path,
    derived_dir,
    detect_cpu,
    heads_int8_f1_drop,
    load_choice,
    open_encoder,
    read_cpuinfo,
    resolve_precision,
    save_choice,
)
from config import load_settings
from config.errors import ConfigError

SAPPHIRE_RAPIDS = {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}
ICE_LAKE = {"avx2", "avx512f", "avx512_vnni"}
ZEN4 = {"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}


@pytest.mark.parametrize(
    ("flags", "int8_runtime", "expected"),
    [
        (SAPPHIRE_RAPIDS, True, ["fp32", "bf16", "int8"]),
        (ZEN4, True, ["fp32", "bf16", "int8"]),
        (ICE_LAKE, True, ["fp32", "int8"]),  # no bf16 units: emulated bf16 is not timed
        ({"avx2", "fma"}, True, ["fp32", "int8"]),
        ({"sse4_2"}, True, ["fp32"]),
        (SAPPHIRE_RAPIDS, False, ["fp32", "bf16"]),  # onnxruntime not installed
        ({"asimd", "asimddp", "bf16", "i8mm"}, True, ["fp32", "bf16", "int8"]),  # aarch64
        (set(), True, ["fp32"]),  # no /proc/cpuinfo
    ],
)
def test_candidate_paths_follow_the_flags(
    flags: set[str], int8_runtime: bool, expected: list[str]
) -> None:
    assert candidate_paths(flags, int8_runtime) == expected


@pytest.mark.parametrize(
    ("rates", "cosine", "f1_drop", "expected"),
    [
        ({"fp32": 7.7, "int8": 9.5}, 0.986, 0.004, "int8"),
        ({"fp32": 7.7, "int8": 9.5}, 0.975, 0.004, "fp32"),  # faster, but too far from fp32
        ({"fp32": 7.7, "int8": 9.5}, None, 0.004, "fp32"),
        ({"fp32": 7.7, "int8": 9.5}, 0.996, None, "fp32"),  # heads' macro-F1 not measured
        ({"fp32": 7.7, "int8": 9.5}, 0.996, 0.02, "fp32"),  # costs too much macro-F1
        ({"fp32": 12.0, "bf16": 40.0, "int8": 30.0}, 0.996, 0.0, "bf16"),
        ({"fp32": 12.0, "int8": 10.0}, 0.999, 0.0, "fp32"),  # int8 only when faster
        ({"fp32": 5.0}, None, None, "fp32"),
    ],
)
def test_choose_path_takes_the_fastest_close_enough(
    rates: dict[str, float], cosine: float | None, f1_drop: float | None, expected: str
) -> None:
    path, reason = choose_path(rates, cosine, f1_drop)
    assert path == expected
    assert all(name in reason for name in rates)


def test_heads_record_of_int8_macro_f1(tmp_path: Path) -> None:
    meta = tmp_path / "heads.json"
    assert heads_int8_f1_drop(meta) is None  # no file
    meta.write_text('{"seed": 1}', encoding="utf-8")
    assert heads_int8_f1_drop(meta) is None
    meta.write_text('{"int8_macro_f1_drop": 0.004}', encoding="utf-8")
    assert heads_int8_f1_drop(meta) == 0.004


def test_read_cpuinfo_takes_the_first_processor() -> None:
    text = (
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
        "flags\t\t: fpu avx2 avx512_vnni amx_bf16\n\n"
        "processor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n"
    )
    assert read_cpuinfo(text) == (
        "Intel(R) Xeon(R) Platinum 8480+", frozenset({"fpu", "avx2", "avx512_vnni", "amx_bf16"})
    )
    assert read_cpuinfo("processor\t: 0\nFeatures\t: fp asimd asimddp bf16\n")[1] == frozenset(
        {"fp", "asimd", "asimddp", "bf16"}
    )


def test_choice_round_trips_and_is_keyed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    key = choice_key(detect_cpu(), threads=2)
    choice = PrecisionChoice(key, "int8", "fastest", {"fp32": 7.7, "int8": 9.5}, 0.99)
    path = tmp_path / "derived" / CHOICE_FILENAME
    save_choice(path, choice)
    assert PrecisionChoice.from_json(path.read_text(encoding="utf-8")) == choice
    assert load_choice(path, key) == choice
    assert load_choice(path, key | {"threads": 4}) is None  # another setup measures again
    assert load_choice(path, key | {"torch": "0.0"}) is None
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI")  # no AMX or bf16 for oneDNN
    assert load_choice(path, choice_key(detect_cpu(), threads=2)) is None
    path.write_text('{"precision": "fp64"}', encoding="utf-8")
    assert load_choice(path, key) is None  # a broken file is measured again, not an error


@pytest.fixture
def tiny_model_dir(tmp_path: Path) -> Path:
    """Enough of a model directory to be named (nothing here is loaded)."""
    folder = tmp_path / "some-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    return folder


def test_auto_uses_the_cached_choice_without_timing(tiny_model_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    key = choice_key(detect_cpu(), threads=2)
    save_choice(derived_dir(cache, tiny_model_dir) / CHOICE_FILENAME,
                PrecisionChoice(key, "bf16", "fastest", {"fp32": 1.0, "bf16": 2.0}))
    resolved = resolve_precision("auto", tiny_model_dir, cache, threads=2)
    assert (resolved.precision, resolved.choice.rates["bf16"]) == ("bf16", 2.0)
    assert not (resolved.folder / "bf16").exists()  # resolving builds nothing


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_setting_overrides_auto(
    precision: str, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIFTWATCH_PRECISION", precision)
    settings = load_settings(cache_dir=tmp_path / "cache")
    resolved = resolve_precision(settings.precision, tiny_model_dir, settings.cache_dir, 2)
    assert (resolved.precision, resolved.choice.measured) == (precision, False)
    assert not (tmp_path / "cache").exists()  # nothing timed, nothing cached


def test_unknown_precision_setting_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIFTWATCH_PRECISION", "fp16")
    with pytest.raises(ConfigError, match="PRECISION"):
        load_settings()


@pytest.mark.slow
def test_int8_copy_of_the_packaged_model_is_close_to_fp32(model_cache: Path) -> None:
    """Builds the int8 copy once per machine, beside the converted model the suite shares."""
    model_dir = model_cache / "e5-small"
    folder = derived_dir(model_cache, model_dir)
    texts = [
        "Минобороны опять врёт: позиции сданы.",
        "Prigozhin blames the ministry.",
        "Наші підрозділи залишили позиції під Бахмутом.",
    ]
    encoder = open_encoder(model_dir, folder, "int8", threads=2)
    assert encoder.name == "e5-small-int8"  # its scores get their own model version
    int8 = encoder.embed(texts)
    fp32 = open_encoder(model_dir, folder, "fp32", threads=2).embed(texts)
    assert int8.shape == (3, 384)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    assert (np.sum(int8 * fp32, axis=1) >= 0.98).all()
    assert_only_matrix_products_are_int8(folder / INT8_FILENAME)


def assert_only_matrix_products_are_int8(path: Path) -> None:
    """The int8 copy quantises the matrix products; the word-embedding lookup stays float
    (fp16, cast back), since quantising it cost macro-F1 and saved no time."""
    import onnx

    graph = onnx.load(str(path)).graph
    types = {table.name: table.data_type for table in graph.initializer}
    ops = {node.op_type for node in graph.node}
    assert {"MatMulInteger", "DynamicQuantizeLinear"} <= ops
    looked_up = [types[node.input[0]] for node in graph.node
                 if node.op_type == "Gather" and node.input[0] in types]
    assert onnx.TensorProto.FLOAT16 in looked_up
    assert onnx.TensorProto.INT8 not in looked_up
    assert onnx.TensorProto.UINT8 not in looked_up


@pytest.mark.usefixtures("settings")  # no RIFTWATCH_* from the developer's environment
def test_prepare_model_says_what_it_chose(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from riftwatch.cli.main import main

    monkeypatch.setenv("RIFTWATCH_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("RIFTWATCH_PRECISION", "fp32")
    assert main(["prepare-model"]) == 0
    out = capsys.readouterr().out
    assert f"ready in {tiny_model_dir}" in out
    assert "precision: fp32 — set by RIFTWATCH_PRECISION" in out
    assert "CPU: " in out


def test_auto_falls_back_to_fp32_when_timing_fails(tiny_model_dir: Path, tmp_path: Path) -> None:
    """The timing runs in a child process; a model it cannot load leaves fp32, uncached."""
    cache = tmp_path / "cache"
    resolved = resolve_precision("auto", tiny_model_dir, cache, threads=2)
    assert (resolved.precision, resolved.choice.measured) == ("fp32", False)
    assert "timing failed" in resolved.choice.reason
    assert not (derived_dir(cache, tiny_model_dir) / CHOICE_FILENAME).exists()


@pytest.mark.slow
def test_bf16_copy_embeds_exactly_as_the_cast_model(model_cache: Path) -> None:
    """The bf16 path loads a bf16 copy of the weights (no fp32 transient); the embeddings it
    gives are the ones casting the fp32 weights at load time gives."""
    from classifiers.encoder import Encoder
    from classifiers.transformers_model import ensure_bf16_copy

    model_dir = model_cache / "e5-small"
    folder = derived_dir(model_cache, model_dir)
    copy = ensure_bf16_copy(model_dir, folder)
    header = (copy / "model.safetensors").read_bytes()[:200_000]
    length = int.from_bytes(header[:8], "little")
    dtypes = {entry["dtype"] for name, entry in json.loads(header[8 : 8 + length]).items()
              if name != "__metadata__"}
    assert dtypes == {"BF16"}
    texts = ["Минобороны опять врёт: позиции сданы.", "Prigozhin blames the ministry."]
    from_copy = open_encoder(model_dir, folder, "bf16", threads=2).embed(texts)
    assert np.array_equal(from_copy, Encoder(model_dir, precision="bf16").embed(texts))

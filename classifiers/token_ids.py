"""Turn texts into an encoder's token ids; never embeds.

The packaged model's tokenizer is a SentencePiece Unigram (XLM-R's 250,002 pieces) written as a
``tokenizers`` ``tokenizer.json``. Loaded by ``tokenizers`` it costs about 280 MB of memory (its
trie keeps a hash map per node); the same pieces and scores in SentencePiece cost about 50 MB and
give the same ids. So where a ``tokenizer.json`` is exactly that pipeline (NFKC, runs of spaces
collapsed, metaspace, ``<s> … </s>``) SentencePiece runs it, after the same normalisation done
here; any other tokenizer (a local model of another kind) is loaded by ``transformers``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

TOKENIZER_JSON = "tokenizer.json"
_SPACE_RUNS = re.compile(" {2,}")
# The tokenizer.json pipeline SentencePiece reproduces, as ``classifiers.convert`` writes it.
_NORMALIZER = {"type": "Sequence", "normalizers": [
    {"type": "NFKC"}, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
]}
_PRE_TOKENIZER = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                  "split": True}


class TokenIds(Protocol):
    """Token ids with the model's special tokens, cut to ``max_tokens``; and the padding id."""

    pad_id: int

    def encode(self, texts: Sequence[str], max_tokens: int | None = None) -> list[list[int]]: ...


class SentencePieceIds:
    """A Unigram ``tokenizer.json``'s pieces run by SentencePiece: the ids ``tokenizers`` gives,
    except that special-token text inside a post (a literal ``<s>``) stays text."""

    def __init__(self, spec: dict[str, Any]) -> None:
        import sentencepiece

        self.bos_id, self.eos_id, self.pad_id = _special_ids(spec)
        self.processor = sentencepiece.SentencePieceProcessor(model_proto=_model_proto(spec))

    def encode(self, texts: Sequence[str], max_tokens: int | None = None) -> list[list[int]]:
        body = None if max_tokens is None else max_tokens - 2
        return [[self.bos_id, *ids[:body], self.eos_id]
                for ids in self.processor.encode([_metaspace_ready(text) for text in texts])]


class TransformersIds:
    """Any other tokenizer, through ``transformers`` (local files only)."""

    def __init__(self, model_dir: Path) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        self.pad_id = int(self.tokenizer.pad_token_id or 0)

    def encode(self, texts: Sequence[str], max_tokens: int | None = None) -> list[list[int]]:
        encoded = self.tokenizer(list(texts), truncation=max_tokens is not None,
                                 max_length=max_tokens, add_special_tokens=True)
        return [list(ids) for ids in encoded["input_ids"]]


def _metaspace_ready(text: str) -> str:
    """The file's normaliser (NFKC, runs of spaces to one), then its metaspace prefix: a space
    before the text unless it is empty or already starts with one (or with the metaspace)."""
    normalised = _SPACE_RUNS.sub(" ", unicodedata.normalize("NFKC", text))
    return normalised if not normalised or normalised.startswith((" ", "▁")) else " " + normalised


@lru_cache(maxsize=4)
def load_token_ids(model_dir: Path) -> TokenIds:
    """SentencePiece where the model's ``tokenizer.json`` is a pipeline it reproduces exactly,
    else ``transformers``' tokenizer for the directory. One per directory and process: the
    encoders of several precisions (timing them, training's int8 record) share it."""
    path = Path(model_dir) / TOKENIZER_JSON
    spec = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if sentencepiece_reproduces(spec):
        return SentencePieceIds(spec)
    return TransformersIds(Path(model_dir))


def sentencepiece_reproduces(spec: dict[str, Any]) -> bool:
    """Whether ``spec`` (a parsed tokenizer.json) is the Unigram pipeline SentencePieceIds runs."""
    model = spec.get("model") or {}
    processor = spec.get("post_processor") or {}
    return (
        model.get("type") == "Unigram"
        and not model.get("byte_fallback")
        and spec.get("normalizer") == _NORMALIZER
        and spec.get("pre_tokenizer") == _PRE_TOKENIZER
        and processor.get("type") == "TemplateProcessing"
        and [step.get("SpecialToken", {}).get("id") for step in processor.get("single", [])]
        == ["<s>", None, "</s>"]
        and all(token.get("special") for token in spec.get("added_tokens", []))
    )


def _special_ids(spec: dict[str, Any]) -> tuple[int, int, int]:
    """(bos, eos, pad) ids by their pieces in the vocabulary."""
    ids = {piece: i for i, (piece, _) in enumerate(spec["model"]["vocab"][:8])}
    return ids["<s>"], ids["</s>"], ids.get("<pad>", ids["</s>"])


def _model_proto(spec: dict[str, Any]) -> bytes:
    """A SentencePiece Unigram model with the file's pieces and scores, no normaliser or prefix
    of its own (``encode`` does both as the file says), the file's special tokens as control
    pieces."""
    from sentencepiece import sentencepiece_model_pb2

    pb: Any = sentencepiece_model_pb2  # generated protobuf classes: no attributes until run
    model = spec["model"]
    special = {token["id"] for token in spec.get("added_tokens", [])}
    piece_type = pb.ModelProto.SentencePiece
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.unk_id = model["unk_id"]
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = False
    proto.normalizer_spec.remove_extra_whitespaces = False
    for i, (text, score) in enumerate(model["vocab"]):
        piece = proto.pieces.add(piece=text, score=score)
        if i == model["unk_id"]:
            piece.type = piece_type.UNKNOWN
        elif i in special:
            piece.type = piece_type.CONTROL
    return bytes(proto.SerializeToString())

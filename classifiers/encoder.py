"""Turn texts into mean-pooled, L2-normalised embeddings with a local ``transformers`` encoder.

Loads only from a local directory (``local_files_only``); it never downloads and never scores.
Runs the ``transformers`` model in fp32, bf16 weights or bf16 autocast, or its ONNX Runtime int8
copy (``classifiers.onnx_int8``); which one to use is ``classifiers.precision``'s choice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from classifiers.model_files import ModelLoadError, model_fingerprint
from classifiers.token_ids import load_token_ids
from classifiers.transformers_model import load_transformers_model

logger = logging.getLogger(__name__)

Kind = Literal["passage", "query"]
Precision = Literal["bf16", "fp32", "autocast", "int8"]
PREFIXES: dict[str, str] = {"passage": "passage: ", "query": "query: "}
# Only fp32 gives a window the same embedding whatever windows share its forward pass (within
# 1e-6); bf16 (oneDNN blocks its sums by the batch's shape) moves it by up to 1e-3 and dynamic
# int8 (one activation scale per batch) by up to 0.02, so a post's scores would depend on its
# neighbours. Those paths run one window per forward pass: the same post, the same score.
BATCHED_PRECISIONS = frozenset({"fp32"})


class Embedder(Protocol):
    """What training and evaluation need of an encoder: embeddings, and names for the model."""

    fingerprint: str
    name: str
    dim: int

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray: ...


class Encoder:
    """A local encoder run on CPU in sorted batches: the ``transformers`` model in fp32 or bf16,
    or (``precision="int8"``) its ONNX Runtime int8 copy, same tokenizer. ``weights`` is the
    precision's own copy of the weights where one was made (the int8 ONNX file, which int8
    needs; the bf16 folder, which loads without the fp32 file's peak); config and tokenizer
    always come from ``model_dir``.

    ``name`` carries ``-int8`` for the int8 copy, so scores it makes get their own model
    version: its embeddings differ from fp32's (cosine about 0.99), bf16's do not (0.9999).
    ``batch_size`` windows share a forward pass on fp32 only (``BATCHED_PRECISIONS``).
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int = 2,
        max_tokens: int = 256,
        batch_size: int = 16,
        precision: Precision = "bf16",
        weights: Path | None = None,
    ) -> None:
        import torch
        from transformers import AutoConfig

        torch.set_num_threads(threads)
        self.model_dir = Path(model_dir)
        self.batch_size = batch_size if precision in BATCHED_PRECISIONS else 1
        self.precision = precision
        try:
            config = AutoConfig.from_pretrained(self.model_dir, local_files_only=True)
            self.token_ids = load_token_ids(self.model_dir)
            self.model = self._load_model(config, precision, weights, threads)
        except (OSError, ValueError) as exc:
            problem = f"cannot load a transformers model: {exc}"
            raise ModelLoadError(self.model_dir, problem) from exc
        self.fingerprint = model_fingerprint(self.model_dir)
        self.dim = int(config.hidden_size)
        limit = getattr(config, "max_position_embeddings", 512) or 512
        self.max_tokens = min(max_tokens, int(limit))
        self.name = self.model_dir.name + ("-int8" if precision == "int8" else "")

    def _load_model(
        self, config: Any, precision: Precision, weights: Path | None, threads: int
    ) -> Any:
        """The ``transformers`` model in the precision's dtype, or the int8 ONNX session."""
        if precision == "int8":
            if weights is None:
                raise ValueError("precision int8 needs the int8 model file (weights)")
            from classifiers.onnx_int8 import Int8Forward

            return Int8Forward(weights, threads)
        return load_transformers_model(weights or self.model_dir, config,
                                       bf16=precision == "bf16")

    def token_lengths(self, texts: Sequence[str], kind: Kind = "passage") -> list[int]:
        """Tokens each text takes (with prefix and special tokens), before truncation."""
        return [len(ids) for ids in self.token_ids.encode([PREFIXES[kind] + t for t in texts])]

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """Float32 array (len(texts), dim): mean-pooled over the attention mask, unit length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self.token_ids.encode([PREFIXES[kind] + text for text in texts], self.max_tokens)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._forward([ids[i] for i in batch])
        return out

    def _forward(self, ids: list[list[int]]) -> np.ndarray:
        width = max(map(len, ids))
        input_ids = np.full((len(ids), width), self.token_ids.pad_id, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, sequence in enumerate(ids):
            input_ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1
        if self.precision == "int8":
            hidden = self.model(input_ids, mask)
        else:
            hidden = self._torch_hidden(input_ids, mask)
        return mean_pool_normalised(hidden, mask)

    def _torch_hidden(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "autocast"),
        ):
            hidden = self.model(
                input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(mask)
            ).last_hidden_state
        return hidden.to(torch.float32).numpy()


def mean_pool_normalised(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of ``hidden`` (batch, tokens, dim) over the mask's tokens, scaled to unit length."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return (pooled / norms).astype(np.float32)

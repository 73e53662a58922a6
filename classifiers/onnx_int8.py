"""Build the ONNX Runtime dynamic-int8 copy of a local ``transformers`` encoder and run its
forward pass; never decides when int8 is used (``classifiers.precision`` does) and never pools.

The copy is made once (``torch.onnx.export`` of the model's last hidden state, then
``onnxruntime.quantization.quantize_dynamic`` of the matrix products with per-channel int8
weights) and written atomically; it takes the same token ids as the ``transformers`` model, so
the tokenizer, mean pooling and normalisation stay in ``classifiers.encoder``.

The word-embedding table is a lookup, not arithmetic: quantising it (one int8 scale for all
250,037 x 384 values) saved no time and cost 0.01 macro-F1 under the classifier protocol, so
it is kept in fp16 and cast to fp32 after the lookup (half the fp32 bytes, ~5e-4 relative
error).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from config.errors import RiftwatchError

logger = logging.getLogger(__name__)

INT8_FILENAME = "model-int8-matmul.onnx"  # the recipe in the name: an older copy is rebuilt
OPSET = 17


class Int8BuildError(RiftwatchError, RuntimeError):
    """The int8 copy cannot be made: onnxruntime/onnx missing, or the export failed."""


def onnxruntime_version() -> str | None:
    """The installed onnxruntime's version, or None when it (or onnx) cannot be imported."""
    try:
        import onnx  # noqa: F401  (quantize_dynamic needs it)
        import onnxruntime
    except ImportError:
        return None
    return str(onnxruntime.__version__)


def _export_fp32(model_dir: Path, dest: Path) -> None:
    """Trace the model (ids, mask -> last hidden state) into an fp32 ONNX file."""
    import torch
    from transformers import AutoConfig

    from classifiers.transformers_model import load_transformers_model

    config = AutoConfig.from_pretrained(model_dir, local_files_only=True)
    model = load_transformers_model(model_dir, config)

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.full((2, 12), 5, dtype=torch.long)
    mask = torch.ones((2, 12), dtype=torch.long)
    mask[1, 8:] = 0  # trace with padding so the masked path is the one recorded
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(), (ids, mask), str(dest), dynamo=False, opset_version=OPSET,
            input_names=["input_ids", "attention_mask"], output_names=["hidden"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
        )


def build_int8_model(model_dir: Path, dest: Path) -> Path:
    """Write ``dest``: the model at ``model_dir`` exported to ONNX, weights int8 per channel."""
    if onnxruntime_version() is None:
        raise Int8BuildError("int8 needs onnxruntime and onnx: pip install onnxruntime onnx")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".int8-", dir=dest.parent))
    try:
        fp32 = work / "model-fp32.onnx"
        _export_fp32(model_dir, fp32)
        with root_logging_at(logging.ERROR):  # it logs every tensor, and advice, to the root
            quantize_dynamic(fp32, work / dest.name, weight_type=QuantType.QInt8,
                             per_channel=True, op_types_to_quantize=["MatMul"])
        embedding_table_to_fp16(work / dest.name)
        os.replace(work / dest.name, dest)
    except Exception as exc:  # torch.onnx and onnxruntime raise many kinds
        raise Int8BuildError(f"cannot build the int8 model from {model_dir}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("int8 model written to %s", dest)
    return dest


def embedding_table_to_fp16(path: Path) -> None:
    """Store the largest looked-up table (the word embeddings) in fp16, cast back to fp32 right
    after the lookup; the graph's output and every other node are unchanged."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    tables = {table.name: table for table in model.graph.initializer}
    nodes = list(model.graph.node)
    index, gather = max(
        ((i, node) for i, node in enumerate(nodes)
         if node.op_type == "Gather" and node.input[0] in tables),
        key=lambda pair: np.prod(tables[pair[1].input[0]].dims),
    )
    table = tables[gather.input[0]]
    table.CopyFrom(numpy_helper.from_array(
        numpy_helper.to_array(table).astype(np.float16), table.name))
    looked_up = gather.output[0]
    gather.output[0] = f"{looked_up}_fp16"
    cast = helper.make_node("Cast", [gather.output[0]], [looked_up], to=TensorProto.FLOAT,
                            name=f"{gather.name}/to_fp32")
    model.graph.node.insert(index + 1, cast)
    onnx.save(model, str(path))


@contextmanager
def root_logging_at(level: int) -> Iterator[None]:
    """Raise the root logger's level for the block (onnxruntime logs through the root)."""
    root = logging.getLogger()
    before = root.level
    root.setLevel(max(level, before))
    try:
        yield
    finally:
        root.setLevel(before)


def ensure_int8_model(model_dir: Path, folder: Path) -> Path:
    """``folder``/model-int8.onnx for ``model_dir``, built on first use (about 15 s)."""
    dest = Path(folder) / INT8_FILENAME
    if not dest.is_file():
        build_int8_model(Path(model_dir), dest)
    return dest


class Int8Forward:
    """An onnxruntime session over the int8 file: token ids and mask in, last hidden state out."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {
            "input_ids": input_ids.astype(np.int64),
            "attention_mask": attention_mask.astype(np.int64),
        }
        return np.asarray(self.session.run(["hidden"], feeds)[0], dtype=np.float32)

"""Load a local ``transformers`` encoder for inference, and keep its bf16 copy: the one loader
that the encoder and the int8 exporter share. Never downloads (``local_files_only``) and never
embeds.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_POOLER_FREE_TYPES = {"bert", "roberta", "xlm-roberta"}
BF16_DIRNAME = "bf16"


def load_transformers_model(model_dir: Path, config: Any, bf16: bool = False) -> Any:
    """The ``transformers`` model at ``model_dir`` for inference (no pooler where it has none
    to load), its weights in bf16 when asked."""
    import torch
    from transformers import AutoModel

    kwargs: dict[str, object] = {"local_files_only": True, "config": config}
    if config.model_type in _POOLER_FREE_TYPES:
        kwargs["add_pooling_layer"] = False
    if bf16:
        kwargs["dtype"] = torch.bfloat16
    return AutoModel.from_pretrained(model_dir, **kwargs).eval()


def ensure_bf16_copy(model_dir: Path, folder: Path) -> Path:
    """``folder``/bf16: the model's weights saved in bf16, made once (a few seconds).

    Loading the fp32 file and casting it holds both at once (a 1.4 GB peak for e5-small);
    the copy loads at its own size. Written to a temporary folder and renamed into place, so
    a crash or a second process never leaves a half-written copy.
    """
    dest = Path(folder) / BF16_DIRNAME
    if (dest / "config.json").is_file():
        return dest
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_dir, local_files_only=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".bf16-", dir=dest.parent))
    try:
        load_transformers_model(Path(model_dir), config, bf16=True).save_pretrained(work)
        os.replace(work, dest)
    except OSError:
        if not (dest / "config.json").is_file():  # not a second process that got there first
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("bf16 copy of %s written to %s", model_dir, dest)
    return dest

"""Load a local ``transformers`` encoder for inference: the one loader that the encoder and the
int8 exporter share. Never downloads (``local_files_only``) and never embeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_POOLER_FREE_TYPES = {"bert", "roberta", "xlm-roberta"}


def load_transformers_model(model_dir: Path, config: Any, bf16: bool = False) -> Any:
    """The ``transformers`` model at ``model_dir`` for inference (no pooler where it has none
    to load), its weights in bf16 when asked."""
    import torch
    from transformers import AutoModel

    kwargs: dict[str, object] = {"local_files_only": True}
    if config.model_type in _POOLER_FREE_TYPES:
        kwargs["add_pooling_layer"] = False
    if bf16:
        kwargs["dtype"] = torch.bfloat16
    return AutoModel.from_pretrained(model_dir, **kwargs).eval()

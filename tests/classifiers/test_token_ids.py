"""Token ids: SentencePiece runs the packaged model's tokenizer.json with the ids ``tokenizers``
gives it; any other tokenizer goes through ``transformers``."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.classifier import PostWindows
from classifiers.token_ids import (
    TOKENIZER_JSON,
    SentencePieceIds,
    TransformersIds,
    load_token_ids,
)
from classifiers.training.datasets import load_milblog

AWKWARD = [
    "", " ", "   ", "  leading", "a ", "a  b ", "tab\there", "new\nline", "\n\n",
    "emoji 💥🔥 ok", "中文字符", "zero\u200bwidth", "ﬁ ligature ①", "\u0000ctrl",
    "Ё ё й Й", "▁already", " ▁x", "\u3000ideographic space", "nbsp\u00a0here", "a" * 3000,
    "passage: Минобороны опять врёт: позиции под Работино сданы ещё вчера.",
]


def reference_ids(model_dir: Path, texts: list[str], max_tokens: int) -> list[list[int]]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_JSON))
    tokenizer.enable_truncation(max_tokens)
    return [encoding.ids for encoding in tokenizer.encode_batch(texts)]


@pytest.mark.slow
def test_awkward_texts_get_the_ids_tokenizers_gives(model_cache: Path) -> None:
    model_dir = model_cache / "e5-small"
    token_ids = load_token_ids(model_dir)
    assert isinstance(token_ids, SentencePieceIds)
    assert token_ids.encode(AWKWARD, 64) == reference_ids(model_dir, AWKWARD, 64)


@pytest.mark.slow
def test_real_windows_get_the_ids_tokenizers_gives(model_cache: Path, shared_data: Path) -> None:
    model_dir = model_cache / "e5-small"
    windows = ["passage: " + w for w in PostWindows.of(load_milblog(shared_data).texts).texts]
    assert len(windows) > 1000
    assert load_token_ids(model_dir).encode(windows, 256) == reference_ids(model_dir, windows, 256)


@pytest.mark.slow
def test_special_token_text_in_a_post_stays_text(model_cache: Path) -> None:
    """``tokenizers`` would read a literal <s> in a post as the start token; we read text."""
    ids = load_token_ids(model_cache / "e5-small").encode(["до <s> и </s> после"])[0]
    assert ids[0] == 0
    assert ids[-1] == 2
    assert 0 not in ids[1:-1]
    assert 2 not in ids[1:-1]


def test_other_tokenizers_go_through_transformers(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "штаб": 4, "молчит": 5}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]",
                            cls_token="[CLS]", sep_token="[SEP]").save_pretrained(tmp_path)
    token_ids = load_token_ids(tmp_path)
    assert isinstance(token_ids, TransformersIds)
    assert token_ids.pad_id == 0
    assert token_ids.encode(["штаб молчит опять"]) == [[2, 4, 5, 1, 3]]
    assert token_ids.encode(["штаб молчит опять"], max_tokens=3) == [[2, 4, 3]]

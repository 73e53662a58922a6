"""The entity head's seams: the context it reads around an entity, folds that keep a
sentence's rows together (outer and inner), and artefacts that round-trip without pickles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.entity_head import (
    EntityInText,
    entity_context,
    entity_features,
    load_entity_head,
    save_entity_head,
)
from classifiers.training import protocol
from classifiers.training.protocol import (
    Labelled,
    choose_recipes,
    fit_choices,
    nested_cv,
    recipes_for,
)

ATTACKS = ["обвинили {} в провале", "{} бездарно сдал город", "позор {} и его штабу"]
NEUTRAL = ["{} провёл совещание", "встреча с {} прошла в Москве", "{} наградил бойцов"]
NAMES = ["Лапин", "Суровикин", "Петров", "Иванов", "Сидоров"]


@pytest.mark.parametrize(("text", "entity", "plain", "lemmas"), [
    ("Генерала Лапина обвинили в провале.", "Лапина",
     "генерала ent обвинили в провале", "l:генерал ENT r:обвинить r:в r:провал"),
    ("Шойгу молчит.", "Шойгу", "ent молчит", "ENT r:молчать"),
    ("Виноват во всём А. Н. Петров", "А. Н. Петров", "виноват во всём ent",
     "l:виноватый l:в l:весь ENT"),
])
def test_entity_context_marks_the_entity(text: str, entity: str, plain: str, lemmas: str
                                         ) -> None:
    start = text.index(entity)
    assert entity_context(EntityInText(text, start, start + len(entity))) == (plain, lemmas)


def entity_rows(n_sentences: int = 40) -> Labelled:
    """Two entities per sentence (one attacked, one not), grouped by sentence."""
    entities, labels, groups = [], [], []
    for i in range(n_sentences):
        attacked, other = NAMES[i % 5], NAMES[(i + 1) % 5]
        text = (ATTACKS[i % 3].format(attacked) + ", а " + NEUTRAL[i % 3].format(other)
                + f" {i}")
        for name, label in ((attacked, 1), (other, 0)):
            start = text.index(name)
            entities.append(EntityInText(text, start, start + len(name)))
            labels.append(label)
            groups.append(i)
    dense = np.random.default_rng(0).normal(size=(len(entities), 4))
    return Labelled(entity_features(entities, dense), np.array(labels), np.array(groups))


def test_folds_never_split_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = entity_rows()
    assert rows.groups is not None
    groups = rows.groups
    inner_splits: list[tuple[np.ndarray, np.ndarray]] = []
    real = protocol.fold_splits

    def recording(posts, folds, repeats=1):  # type: ignore[no-untyped-def]
        for train, test in real(posts, folds, repeats):
            inner_splits.append((posts.groups[train], posts.groups[test]))
            yield train, test

    monkeypatch.setattr(protocol, "fold_splits", recording)
    candidates = {"entity": recipes_for([("lemma",)], (1.0,))}
    outer = nested_cv(candidates, rows, folds=4, repeats=1)["entity"]
    for fold in outer:
        tested = set(groups[fold.test_index])
        trained = set(groups) - tested
        assert tested.isdisjoint(trained)
    for train_groups, test_groups in inner_splits:
        assert set(train_groups).isdisjoint(set(test_groups))
    pooled = np.concatenate([fold.predicted for fold in outer])
    truth = np.concatenate([rows.y[fold.test_index] for fold in outer])
    assert (pooled == truth).mean() > 0.8


def test_artefacts_round_trip_without_pickles(tmp_path: Path) -> None:
    rows = entity_rows()
    choices = choose_recipes({"entity": recipes_for([("char", "lemma", "embedding")], (1.0,))},
                             rows)
    head = fit_choices(choices, rows)["entity"]
    save_entity_head(tmp_path, head, {"encoder_fingerprint": "test"})
    loaded = load_entity_head(tmp_path)
    assert loaded is not None
    assert loaded.encoder_fingerprint == "test"
    entities = [EntityInText("обвинили Лапин в провале", 9, 14)]
    dense = np.zeros((1, 4))
    assert loaded.probability(entities, dense) == pytest.approx(
        head.probability(entity_features(entities, dense)))
    assert load_entity_head(tmp_path / "absent") is None

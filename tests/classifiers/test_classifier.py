"""Real scoring with the packaged model: probabilities, config-only themes, targets, evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.classifier import Classifier
from classifiers.scoring import load_classifier
from config import load_settings
from config.settings import DEFAULT_THEMES_FILE
from config.themes import STANCE_NAMES, load_themes

pytestmark = pytest.mark.slow

ATTACK = (
    "Шойгу и Герасимов опять провалили всё, что могли. Генштаб врёт про успешное "
    "отражение атак. Погода сегодня тёплая."
)
TEXTS = [
    ATTACK,
    "Наши герои продолжают наступление, освобождено ещё одно село. Слава армии!",
    "Фронт сыпется, позиции оставлены, противник прорвал оборону и потери огромные.",
    "Наші підрозділи відійшли з позицій під Бахмутом.",
    "",
]


def test_outputs_are_probabilities(classifier: Classifier) -> None:
    results = classifier.score_texts(TEXTS)
    assert len(results) == len(TEXTS)
    names = set(load_themes(DEFAULT_THEMES_FILE).theme_names())
    for result in results:
        assert set(result.stance_probabilities) == set(STANCE_NAMES)
        assert sum(result.stance_probabilities.values()) == pytest.approx(1.0, abs=1e-6)
        p = result.stance_probabilities
        others = max((n for n in STANCE_NAMES if n != "critical"), key=p.__getitem__)
        expected = "critical" if p["critical"] >= classifier.critical_threshold else others
        assert result.stance == expected
        assert set(result.themes) == names
        assert all(0.0 <= p <= 1.0 for p in result.themes.values())
    assert [r.language for r in results[:4]] == ["ru", "ru", "ru", "uk"]


def test_targets_and_evidence_on_an_attack(classifier: Classifier) -> None:
    attack, cheer, *_ = classifier.score_texts(TEXTS[:2])
    assert attack.stance == "critical"
    assert {"shoigu", "gerasimov"} <= set(attack.targets)
    assert "Шойгу" in attack.evidence
    assert "Погода" not in attack.evidence
    assert attack.themes["mod_criticism"] > 0.5 > cheer.themes["mod_criticism"]
    assert cheer.targets == []
    assert cheer.stance == "supportive"


def test_the_critical_threshold_setting_trades_recall_for_precision(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post is critical when its calibrated probability reaches the threshold: the shipped
    one by default, the user's when set; a new threshold is a new model version."""
    monkeypatch.setenv("RIFTWATCH_CRITICAL_THRESHOLD", "0.99")
    strict = load_classifier(load_settings(), load_themes(DEFAULT_THEMES_FILE))
    monkeypatch.setenv("RIFTWATCH_CRITICAL_THRESHOLD", "0.01")
    lenient = load_classifier(load_settings(), load_themes(DEFAULT_THEMES_FILE))
    attack = TEXTS[0]
    strict_result = strict.score_texts([attack])[0]
    lenient_result = lenient.score_texts([attack])[0]

    assert strict.critical_threshold == 0.99
    assert strict.model_version != lenient.model_version
    assert strict_result.stance_probabilities == pytest.approx(lenient_result.stance_probabilities)
    assert strict_result.stance != "critical"
    assert lenient_result.stance == "critical"


def test_trained_themes_are_present_by_their_own_heads_threshold(classifier: Classifier
                                                                 ) -> None:
    """Every theme with enough annotated posts has a trained head; a post carries a theme when
    the head's calibrated probability reaches the threshold the protocol chose for it."""
    trained = classifier.heads.themes
    assert set(trained) == classifier.trained_themes
    assert {"mod_criticism", "kremlin_criticism", "supply_shortage"} <= set(trained)
    assert set(classifier.heads.meta["untrained_themes"]) == (
        set(load_themes(DEFAULT_THEMES_FILE).theme_names()) - set(trained))
    results = classifier.score_texts(TEXTS[:3])
    for result in results:
        assert result.present_themes == [
            name for name, p in result.themes.items() if p >= classifier.theme_thresholds[name]]
        for name in trained:
            assert classifier.theme_thresholds[name] == trained[name].threshold
    assert "mod_criticism" in results[0].present_themes
    assert results[1].present_themes == []


def test_a_new_theme_in_config_is_scored_without_code(model_cache: Path, tmp_path: Path) -> None:
    themes_file = tmp_path / "themes.toml"
    themes_file.write_text(
        DEFAULT_THEMES_FILE.read_text(encoding="utf-8")
        + """
[[theme]]
name = "drone_war"
label = "Drone war"
description = "FPV drones, drone operators and electronic warfare against drones."
examples = ["Наши операторы FPV-дронов уничтожили танк.", "Противник глушит дроны РЭБом."]
""",
        encoding="utf-8",
    )
    settings = load_settings(cache_dir=model_cache, model=None, themes_file=themes_file)
    custom = load_classifier(settings, load_themes(themes_file))
    drones, other = custom.score_texts(
        [
            "Операторы дронов всю ночь охотились на технику противника с FPV.",
            "Кремль снова молчит, а чиновники уехали отдыхать.",
        ]
    )
    assert "drone_war" in drones.themes
    assert drones.themes["drone_war"] > 0.5 > other.themes["drone_war"]
    assert "drone_war" in drones.present_themes
    assert "drone_war" not in other.present_themes
    assert "drone_war" not in custom.trained_themes  # no labels: zero-shot, as eval says
    assert custom.theme_thresholds["drone_war"] == 0.5
    default = load_classifier(
        load_settings(cache_dir=model_cache, model=None), load_themes(DEFAULT_THEMES_FILE)
    )
    assert custom.model_version != default.model_version

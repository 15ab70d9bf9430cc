"""The export folder: loads with a plain transformers pipeline, carries its card and report, replaces atomically."""

import json

import datasets
import pytest
from omegaconf import OmegaConf
from report_fixtures import gold_labels, predictions_with_accuracy, write_run
from tiny_models import seed_sentences
from transformers import AutoModelForSequenceClassification, pipeline

from train.core.atomic import atomic_dir
from train.core.labels import LABELS
from train.core.paths import CONFIG_DIR
from train.data.preprocess import PREPROCESSING_FILE, Preprocessor
from train.inference.int8_engine import ENGINE_FILE
from train.modeling.export import save_model
from train.reporting.model_card import write_card
from train.modeling.mini_model import mini_config, train_wordpiece
from train.reporting.report import load_report

MINI = OmegaConf.create({
    "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
    "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
})
CLEANING = OmegaConf.load(CONFIG_DIR / "cleaning" / "default.yaml")


@pytest.fixture(scope="module")
def model_and_tokenizer():
    tokenizer = train_wordpiece(list(seed_sentences()), vocab_size=1000, min_frequency=2, max_length=64)
    return AutoModelForSequenceClassification.from_config(mini_config(MINI, tokenizer, 64)), tokenizer


def export_model(model, tokenizer, report, model_dir):
    """What the training pipeline does at the end: stage, save, card, swap in."""
    sentences = list(seed_sentences())[:40]
    calibration = datasets.Dataset.from_dict({"text": sentences, "previous": [""] * 40, "next": [""] * 40})
    with atomic_dir(model_dir) as staged:
        save_model(model, tokenizer, CLEANING, calibration, staged)
        write_card(staged, report, model_dir)
    return model_dir


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    gold = gold_labels(40)
    pred = predictions_with_accuracy(gold, set(range(30)))
    cv_gold = gold_labels(50, seed=1)
    run_dir = write_run(
        tmp_path_factory.mktemp("runs") / "demo", gold, pred,
        cv_gold=cv_gold, cv_pred=predictions_with_accuracy(cv_gold, set(range(35))),
    )
    return load_report(run_dir)


def test_export_loads_with_a_plain_pipeline(tmp_path, model_and_tokenizer, report):
    model_dir = export_model(*model_and_tokenizer, report, tmp_path / "models" / "demo")

    assert (model_dir / "model.safetensors").is_file() and not list(model_dir.glob("*.bin"))
    assert (model_dir / ENGINE_FILE).is_file()
    config = json.loads((model_dir / "config.json").read_text())
    assert config["id2label"] == {str(i): label for i, label in enumerate(LABELS)}
    assert config["label2id"] == {label: i for i, label in enumerate(LABELS)}
    assert json.loads((model_dir / "report.json").read_text()) == report
    assert json.loads((model_dir / PREPROCESSING_FILE).read_text()) == Preprocessor.from_config(CLEANING).to_dict()

    classify = pipeline("text-classification", model=str(model_dir))
    results = classify(["Harga beras naik 10 persen.", "“Kami akan membantu warga,” kata Gubernur."])
    assert [r["label"] in LABELS for r in results] == [True, True]
    assert "[UNK]" not in classify.tokenizer.tokenize("presiden mengatakan")


def test_model_card_has_the_sections_and_the_intervals(tmp_path, model_and_tokenizer, report):
    model_dir = export_model(*model_and_tokenizer, report, tmp_path / "demo")
    card = (model_dir / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlanguage: id\n")
    for section in ("## Intended use", "## Labels", "## Training data", "## Evaluation", "## Limitations"):
        assert section in card
    low, high = report["metrics"]["macro_f1_interval"]
    assert f"[{low:.3f}, {high:.3f}]" in card
    assert f"Cross-validation over {report['cv']['folds']} folds" in card
    assert "tfidf_logreg" in card
    assert ("80 human-labelled training sentences and 400 weakly labelled ones "
            "(weak labels come from the labeling functions' vote)") in card
    teacher = {**report, "dataset": {**report["dataset"], "weak_labeler": "teacher"}}
    card = (export_model(*model_and_tokenizer, teacher, tmp_path / "teacher") / "README.md").read_text(encoding="utf-8")
    assert "(weak labels come from a logistic regression on TF-IDF and the labeling functions" in card
    gold_only = {**report, "dataset": {**report["dataset"], "label_sources": {"gold": 80}}}
    card = (export_model(*model_and_tokenizer, gold_only, tmp_path / "gold") / "README.md").read_text(encoding="utf-8")
    assert "80 human-labelled training sentences. Splits are by article" in card


def test_export_replaces_the_old_folder_whole_or_not_at_all(tmp_path, model_and_tokenizer, report):
    model_dir = tmp_path / "demo"
    model_dir.mkdir()
    (model_dir / "stale.txt").write_text("from an older export")

    broken = {**report, "metrics": {}}  # the card cannot be written: the export fails midway
    with pytest.raises(KeyError):
        export_model(*model_and_tokenizer, broken, model_dir)
    assert [p.name for p in model_dir.iterdir()] == ["stale.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]

    export_model(*model_and_tokenizer, report, model_dir)
    assert not (model_dir / "stale.txt").exists() and (model_dir / "model.safetensors").is_file()

"""Run folders with known predictions, written by the real report writer.

Tests of the report and of the comparison tool build their inputs here, so every fixture
follows the schema exactly as training would write it.
"""

import random

from train.core.labels import LABELS
from train.reporting.evaluation import scored, summarize_cv
from train.reporting.report import assemble_report, environment_info, write_run_report

CONTENT_HASH = "3f9a0c51d2e84b7a9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d"


def gold_labels(n: int, seed: int = 0) -> list[str]:
    """``n`` gold labels covering every label, in a fixed pseudo-random order."""
    rng = random.Random(seed)
    return [LABELS[i % len(LABELS)] for i in rng.sample(range(n), n)]


def predictions_with_accuracy(gold: list[str], correct: set[int]) -> list[str]:
    """Predictions right exactly at the indices in ``correct``, wrong (next label) elsewhere."""
    def wrong(label):
        return LABELS[(LABELS.index(label) + 1) % len(LABELS)]

    return [label if i in correct else wrong(label) for i, label in enumerate(gold)]


def prediction_records(gold: list[str], pred: list[str], texts: list[str] | None = None, fold: bool = False):
    records = []
    for i, (g, p) in enumerate(zip(gold, pred)):
        probs = {label: (0.7 if label == p else 0.1) for label in LABELS}
        record = {
            "article_id": f"art-{i // 10:03d}",
            "sentence_index": i % 10,
            "text": texts[i] if texts else f"Kalimat nomor {i}.",
            "label": p,
            "score": 0.7,
            "probs": probs,
            "gold": g,
        }
        if fold:
            record["fold"] = i % 5
        records.append(record)
    return records


def make_report(run_name, gold, pred, *, hyperparameters=None, content_hash=CONTENT_HASH, cv=None, model="mini"):
    """The run's own fields of a report, as the training code passes them to ``assemble_report``."""
    metrics = scored(gold, pred, seed=0)
    majority = scored(gold, [LABELS[0]] * len(gold), seed=0)
    return {
        "run_name": run_name,
        "model": {"name": model, "name_or_path": None, "num_parameters": 1234567},
        "hyperparameters": {"seed": 1, "trainer.learning_rate": 5e-5, "trainer.num_train_epochs": 3,
                            **(hyperparameters or {})},
        "dataset": {
            "name": "kalimat-berita",
            "content_hash": content_hash,
            "label_sources": {"gold": 80, "weak": 400},
            "weak_labeler": "rules",
        },
        "evaluation": {"split": "test", "num_sentences": len(gold)},
        "metrics": metrics,
        "cv": cv,
        "selection": {"validation_macro_f1": 0.5},
        "served": {"precision": "int8", "device": "cpu", "sentences": len(gold),
                   "macro_f1": metrics["macro_f1"], "label_agreement_with_fp32": 1.0},
        "calibration": {"temperature": 1.5, "ece_before": 0.2, "ece_after": 0.05,
                        "bins_before": [{"low": 0.6, "high": 0.7, "sentences": len(gold), "confidence": 0.7,
                                         "accuracy": 0.5}],
                        "bins_after": [{"low": 0.5, "high": 0.6, "sentences": len(gold), "confidence": 0.55,
                                        "accuracy": 0.5}]},
        "baselines": {"majority": majority, "weak_rules": majority, "tfidf_logreg": majority},
        "timing": {"train_seconds": 754.2, "train_samples_per_second": 41.5, "eval_sentences_per_second": 312.8},
        "environment": environment_info("cpu", "fp32"),
    }


def write_run(run_dir, gold, pred, *, run_name=None, texts=None, cv_gold=None, cv_pred=None, **report_options):
    """Write a complete run folder; with ``cv_gold``/``cv_pred`` also cross-validation predictions."""
    cv_records = cv = None
    if cv_gold is not None:
        cv_records = prediction_records(cv_gold, cv_pred, fold=True)
        cv = summarize_cv(cv_records, seed=0)
    fields = make_report(run_name or run_dir.name, gold, pred, cv=cv, **report_options)
    records = prediction_records(gold, pred, texts)
    write_run_report(run_dir, assemble_report(fields, records, cv_records), records, cv_records)
    return run_dir

import importlib.metadata
import json
import platform

import pytest
from report_fixtures import gold_labels, make_report, prediction_records, predictions_with_accuracy, write_run

from train.core.errors import KalimatError
from train.reporting.report import (
    REPORT_SCHEMA_VERSION,
    assemble_report,
    environment_info,
    load_predictions,
    load_report,
)

TRICKY_TEXT = 'Ia berkata "A | B" <b>tegas</b>.'


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    gold = gold_labels(40)
    pred = predictions_with_accuracy(gold, set(range(30)))
    texts = [TRICKY_TEXT if i == 35 else f"Kalimat {i}." for i in range(40)]
    return write_run(tmp_path_factory.mktemp("runs") / "run-a", gold, pred, texts=texts, cv_gold=gold, cv_pred=pred)


def test_report_files_are_written_and_read_back(run_dir):
    names = {path.name for path in run_dir.iterdir()}
    assert names == {"report.json", "report.md", "confusion_matrix.png", "reliability.png", "predictions.jsonl",
                     "cv_predictions.jsonl"}
    assert (run_dir / "confusion_matrix.png").read_bytes().startswith(b"\x89PNG")

    report = load_report(run_dir)
    assert report == load_report(run_dir / "report.json")
    assert report["schema_version"] == REPORT_SCHEMA_VERSION
    assert report["run_name"] == "run-a"
    assert report["predictions"] == {"test": "predictions.jsonl", "cv": "cv_predictions.jsonl"}
    assert report["cv"]["folds"] == 5

    test_records = load_predictions(run_dir, report, "test")
    assert len(test_records) == 40
    assert set(test_records[0]) == {"article_id", "sentence_index", "text", "label", "score", "probs", "gold"}
    assert all("fold" in record for record in load_predictions(run_dir, report, "cv"))


def test_misclassified_lists_the_wrong_sentences_most_confident_first(run_dir):
    report = load_report(run_dir)
    wrong = report["misclassified"]
    assert len(wrong) == 10
    assert all(record["gold"] != record["label"] for record in wrong)
    assert [record["score"] for record in wrong] == sorted((record["score"] for record in wrong), reverse=True)
    assert TRICKY_TEXT in [record["text"] for record in wrong]


def test_report_markdown(run_dir):
    markdown = (run_dir / "report.md").read_text(encoding="utf-8")
    report = load_report(run_dir)
    assert f"Macro-F1 {report['metrics']['macro_f1']:.3f}" in markdown
    assert "| tfidf_logreg |" in markdown and "| majority |" in markdown
    assert "Cross-validation over 5 folds" in markdown
    assert "![confusion matrix](confusion_matrix.png)" in markdown
    # The sentence's pipe must not split the table row, and its tags must not become HTML.
    assert 'Ia berkata "A \\| B" &lt;b>tegas&lt;/b>.' in markdown


def test_a_report_needs_the_callers_keys():
    fields = make_report("r", ["quote"], ["quote"])
    del fields["timing"]
    with pytest.raises(ValueError, match="timing"):
        assemble_report(fields, prediction_records(["quote"], ["quote"]), None)


def test_environment_info_records_what_is_installed():
    info = environment_info("cuda:Some GPU", "bf16")
    assert (info["device"], info["precision"], info["python"]) == ("cuda:Some GPU", "bf16", platform.python_version())
    for package in ("torch", "transformers", "datasets", "accelerate", "evaluate", "kalimat"):
        assert info[package] == importlib.metadata.version(package)


def write_report_json(tmp_path, content):
    path = tmp_path / "report.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "drop", "message"),
    [
        ({"schema_version": 1}, None, r"schema_version 1, this kalimat reads version 2; re-run the training run"),
        ({"schema_version": 3}, None, r"schema_version 3, this kalimat reads version 2; upgrade kalimat"),
        ({}, "schema_version", r"schema_version None"),
        ({"metrics": {"accuracy": 0.5}}, "timing", r"lacks timing, metrics\.macro_f1, .*docs/report_schema\.md"),
    ],
)
def test_unusable_reports_are_refused(run_dir, tmp_path, change, drop, message):
    report = load_report(run_dir)
    report.update(change)
    report.pop(drop, None)
    path = write_report_json(tmp_path, report)
    with pytest.raises(KalimatError, match=message) as error:
        load_report(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_malformed_and_missing_reports_are_refused(tmp_path):
    with pytest.raises(KalimatError, match=r"is not valid JSON .*re-run"):
        load_report(write_report_json(tmp_path, '{"schema_version": 2,'))
    with pytest.raises(KalimatError, match="not a report object"):
        load_report(write_report_json(tmp_path, "[1, 2]"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(KalimatError, match=r"no report.json in .*empty; pass a finished run directory"):
        load_report(tmp_path / "empty")
    with pytest.raises(KalimatError, match=r"nowhere\.json does not exist"):
        load_report(tmp_path / "nowhere.json")

"""Several processes through ``accelerate launch``: one coherent run, written once."""

import json

import pytest
from launcher import accelerate_launch
from tiny_models import TINY_MINI


@pytest.mark.slow
def test_two_cpu_processes_write_one_report_and_one_export(run_train, processed_dir):
    launcher = (*accelerate_launch(), "-m", "train")
    # No run_name: both processes must agree on the default, time-stamped one.
    process, runs_dir, models_dir = run_train(*TINY_MINI, "cv.folds=3", launcher=launcher)

    (run_dir,) = [p for p in runs_dir.iterdir() if p.is_dir()]
    (model_dir,) = list(models_dir.iterdir())
    assert run_dir.name == model_dir.name and run_dir.name.startswith("mini-")
    report = json.loads((run_dir / "report.json").read_text())
    assert report["hyperparameters"]["processes"] == 2
    # Predictions gathered from both processes: every sentence once, none lost or doubled.
    cv_records = [json.loads(line) for line in (run_dir / "cv_predictions.jsonl").read_text().splitlines()]
    sentences = (processed_dir / "seeds" / "sentences.jsonl").read_text(encoding="utf-8").splitlines()
    gold = [r for r in map(json.loads, sentences) if r["label_source"] == "gold"]
    assert sorted((r["article_id"], r["sentence_index"]) for r in cv_records) == sorted(
        (r["article_id"], r["sentence_index"]) for r in gold if r["split"] != "test"
    )
    test_records = (run_dir / "predictions.jsonl").read_text().splitlines()
    assert len(test_records) == sum(r["split"] == "test" for r in gold) == report["evaluation"]["num_sentences"]
    assert process.stdout.count("report: ") == 1
    assert (model_dir / "model.safetensors").is_file()

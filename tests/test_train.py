"""``python -m train`` end to end with real (tiny) models: outputs, cross-validation, export, reproducibility."""

import json
import sys
import time
from types import SimpleNamespace

import pytest
import torch
from hydra import compose, initialize_config_dir
from tiny_models import TINY_MINI
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

from train.core.errors import KalimatError
from train.core.labels import LABELS
from train.core.paths import CONFIG_DIR
from train.data.store import load_processed
from train.data.context import article_windows, row_windows
from train.inference.predictor import Predictor, label_agreement
from train.modeling.training import gold
from train.pipeline import check_config
from train.core.metrics import macro_f1

SENTENCE = "“Kami akan terus membantu warga,” kata Gubernur kepada wartawan."


@pytest.fixture(scope="module")
def mini_cv_run(tmp_path_factory, train_in):
    """One tiny mini-model run with 3-fold cross-validation, shared by the tests of this module."""
    workdir = tmp_path_factory.mktemp("mini-cv")
    process, runs_dir, models_dir = train_in(workdir, *TINY_MINI, "cv.folds=3", "run_name=cv3")
    return process, runs_dir / "cv3", models_dir / "cv3"


@pytest.mark.slow
def test_run_writes_report_predictions_and_logs(mini_cv_run, processed_dir):
    process, run_dir, model_dir = mini_cv_run
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))

    for name in ("report.md", "confusion_matrix.png", "predictions.jsonl", "cv_predictions.jsonl", "config.yaml"):
        assert (run_dir / name).is_file(), name
    assert "${" not in (run_dir / "config.yaml").read_text(), "the saved config is resolved"
    assert list((run_dir / "tensorboard" / "final").glob("events.out.tfevents.*"))
    assert not (run_dir / "checkpoints").exists(), "checkpoints are removed once the model is exported"

    assert report["run_name"] == "cv3"
    exported = AutoModelForSequenceClassification.from_pretrained(model_dir, use_safetensors=True)
    assert report["model"] == {"name": "mini", "name_or_path": None, "num_parameters": exported.num_parameters()}
    assert exported.config.hidden_size == 32 and exported.config.num_hidden_layers == 1
    assert report["hyperparameters"]["trainer.learning_rate"] == 5e-3
    assert report["hyperparameters"]["model.hidden_size"] == 32
    dataset, metadata = load_processed(processed_dir / "seeds")
    assert report["dataset"]["content_hash"] == metadata["content_hash"]
    assert report["dataset"]["label_sources"] == {"gold": len(dataset["train"])}
    assert report["dataset"]["weak_labeler"] == "rules"
    test_lines = (run_dir / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    assert report["evaluation"] == {"split": "test", "num_sentences": len(test_lines)}
    record = json.loads(test_lines[0])
    assert set(record) == {"article_id", "sentence_index", "text", "label", "score", "probs", "gold"}
    assert set(record["probs"]) == set(LABELS) and abs(sum(record["probs"].values()) - 1) < 1e-4
    low, high = report["metrics"]["macro_f1_interval"]
    assert 0 <= low <= high <= 1
    assert set(report["baselines"]) == {"majority", "weak_rules", "tfidf_logreg"}
    for scores in report["baselines"].values():  # the model tested against each baseline on the same sentences
        paired = scores["paired"]
        assert paired["delta"] == pytest.approx(report["metrics"]["macro_f1"] - scores["macro_f1"])
        assert paired["verdict"] in ("better", "worse", "no significant difference")
    assert report["timing"]["train_samples_per_second"] > 0

    cv = report["cv"]
    assert cv["folds"] == 3 and len(cv["per_fold"]) == 3
    cv_records = [json.loads(line) for line in (run_dir / "cv_predictions.jsonl").read_text().splitlines()]
    # Every labelled sentence is predicted exactly once, by the fold that did not train on it.
    keys = {(r["article_id"], r["sentence_index"]) for r in cv_records}
    n_labelled = len(dataset["train"]) + len(dataset["validation"])  # the test split is never in a fold
    assert len(keys) == len(cv_records) == n_labelled
    assert not {r["article_id"] for r in cv_records} & set(dataset["test"]["article_id"])
    for fold in cv["per_fold"]:
        assert {r["article_id"] for r in cv_records if r["fold"] == fold["fold"]} == set(fold["articles"])
    assert all("cv_macro_f1" in b for b in report["baselines"].values())

    assert "test macro-F1" in process.stdout and "cross-validation macro-F1" in process.stdout
    assert f"report: {run_dir / 'report.md'}" in process.stdout
    assert f"model:  {model_dir}" in process.stdout


@pytest.mark.slow
@pytest.mark.parametrize("context", ["neighbours", "neighbours_rules"])
def test_training_and_prediction_build_the_same_windows(mini_cv_run, processed_dir, context):
    """Training reads windows from the dataset's columns, kalimat-predict builds them from articles: same text."""
    rows = load_processed(processed_dir / "seeds")[0]["train"]
    tokenizer = SimpleNamespace(sep_token="[SEP]")
    articles = {}
    for article_id, text in zip(rows["article_id"], rows["text"]):
        articles.setdefault(article_id, []).append(text)
    assert len(articles) > 1 and all(len(sentences) > 1 for sentences in articles.values())
    assert row_windows(rows, tokenizer.sep_token, context) == article_windows(list(articles.values()), "[SEP]", context)


@pytest.mark.slow
def test_the_served_model_is_scored_and_calibrated(mini_cv_run, processed_dir):
    """The report's served figures are what kalimat's own predictor gives on the export, at its default."""
    _, run_dir, model_dir = mini_cv_run
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    test = load_processed(processed_dir / "seeds")[0]["test"]
    predictor = Predictor(model_dir)  # --precision auto, as kalimat-predict serves it
    served = [p.label for p in predictor.predict(list(test["text"]), row_windows(test, predictor.tokenizer.sep_token, predictor.context))]
    assert predictor.context == "neighbours"  # the default, recorded in the export
    fp32 = [json.loads(line)["label"] for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert report["served"]["precision"] == predictor.precision
    assert report["served"]["macro_f1"] == pytest.approx(macro_f1([LABELS[i] for i in test["label"]], served))
    assert report["served"]["label_agreement_with_fp32"] == pytest.approx(label_agreement(served, fp32))
    # the temperature fitted on validation travels with the export, and the predictor applies it
    calibration = report["calibration"]
    assert predictor.temperature == calibration["temperature"] > 0
    assert {"ece_before", "ece_after", "bins_before", "bins_after"} <= set(calibration)
    assert (run_dir / "reliability.png").is_file()


@pytest.mark.slow
def test_same_config_and_seed_give_the_same_metrics(mini_cv_run, run_train):
    _, first_dir, _ = mini_cv_run
    _, runs_dir, _ = run_train(*TINY_MINI, "cv.folds=3", "run_name=again")
    first = json.loads((first_dir / "report.json").read_text())
    second = json.loads((runs_dir / "again" / "report.json").read_text())
    assert second["metrics"] == first["metrics"]
    assert second["cv"] == first["cv"]
    assert (runs_dir / "again" / "cv_predictions.jsonl").read_text() == (first_dir / "cv_predictions.jsonl").read_text()


@pytest.mark.slow
def test_run_exports_a_model_the_pipeline_loads(mini_cv_run):
    _, run_dir, model_dir = mini_cv_run
    assert (model_dir / "model.safetensors").is_file()
    config = json.loads((model_dir / "config.json").read_text())
    assert config["id2label"] == {str(i): label for i, label in enumerate(LABELS)}
    assert json.loads((model_dir / "report.json").read_text()) == json.loads((run_dir / "report.json").read_text())
    assert "## Limitations" in (model_dir / "README.md").read_text(encoding="utf-8")

    classify = pipeline("text-classification", model=str(model_dir))
    (result,) = classify(SENTENCE)
    assert result["label"] in LABELS
    # The tokenizer exported with the model knows the training vocabulary.
    assert "[UNK]" not in classify.tokenizer.tokenize("Presiden mengatakan bahwa")


@pytest.mark.slow
@pytest.mark.parametrize("model", ["bert", "albert"])
def test_pretrained_checkpoint_from_a_local_folder(model, run_train, tiny_bert_dir, tiny_albert_dir):
    # The ALBERT folder has only a BERT vocab.txt, like indobert-lite: model=indobert_lite names the tokenizer class.
    # model=mini with a checkpoint: its sizes are the checkpoint's, so the report leaves the config's out.
    overrides = (
        ["model=mini", f"model.name_or_path={tiny_bert_dir}", "model.hidden_size=64"]
        if model == "bert"
        else ["model=indobert_lite", f"model.name_or_path={tiny_albert_dir}"]
    )
    _, runs_dir, models_dir = run_train(*overrides, "data=seeds", "trainer.num_train_epochs=1", "trainer.learning_rate=1e-3",
                                        "run_name=pre")
    report = json.loads((runs_dir / "pre" / "report.json").read_text())
    assert report["model"]["name_or_path"] == str(tiny_bert_dir if model == "bert" else tiny_albert_dir)
    assert "model.context" in report["hyperparameters"] and "model.hidden_size" not in report["hyperparameters"]
    config = json.loads((models_dir / "pre" / "config.json").read_text())
    assert config["model_type"] == model
    classify = pipeline("text-classification", model=str(models_dir / "pre"))
    assert classify(SENTENCE)[0]["label"] in LABELS


LONG_TEXT = "Presiden mengatakan bahwa harga beras naik. " * 200


def _longer_than(rows, tokenizer, context: str, limit: int) -> int:
    """Rows whose input (sentence and context window) is longer than ``limit`` tokens, counted without the code under test."""
    encoded = tokenizer(list(rows["text"]), row_windows(rows, tokenizer.sep_token, context))["input_ids"]
    return sum(len(ids) > limit for ids in encoded)


@pytest.mark.slow
def test_inputs_longer_than_the_model_reads_are_counted(run_train, processed_dir):
    process, runs_dir, models_dir = run_train(*TINY_MINI, "trainer.num_train_epochs=1", "trainer.max_length=16",
                                              "run_name=short")
    report = json.loads((runs_dir / "short" / "report.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(models_dir / "short")
    dataset, _ = load_processed(processed_dir / "seeds")
    context = report["hyperparameters"]["model.context"]
    expected = {"max_length": 16, "train": _longer_than(dataset["train"], tokenizer, context, 16),
                "validation": _longer_than(gold(dataset["validation"]), tokenizer, context, 16),
                "test": _longer_than(gold(dataset["test"]), tokenizer, context, 16)}
    assert expected["train"] > 0 and expected["test"] > 0  # the test's own premise
    assert report["truncation"] == expected
    assert (f"final: inputs longer than 16 tokens, cut: {expected['train']} of {len(dataset['train'])} training"
            in process.stdout)
    assert f"{expected['test']} test sentences" in (runs_dir / "short" / "report.md").read_text()


@pytest.mark.slow
def test_max_length_is_clamped_to_the_model_and_the_export_truncates(run_train, tiny_bert_dir):
    process, runs_dir, models_dir = run_train(f"model.name_or_path={tiny_bert_dir}", "data=seeds",
                                              "trainer.num_train_epochs=1", "trainer.max_length=256",
                                              "run_name=clamped")
    positions = json.loads((tiny_bert_dir / "config.json").read_text())["max_position_embeddings"]
    assert positions < 256
    assert (f"warning: trainer.max_length=256 is more than the {positions} positions {tiny_bert_dir} has "
            f"(max_position_embeddings); using {positions}") in process.stderr.splitlines()
    assert json.loads((runs_dir / "clamped" / "report.json").read_text())["truncation"]["max_length"] == positions
    # The README's call: the exported tokenizer cuts at the model's length, so a long text does not crash it.
    classify = pipeline("text-classification", model=str(models_dir / "clamped"), truncation=True)
    assert classify.tokenizer.model_max_length == positions
    assert classify(LONG_TEXT)[0]["label"] in LABELS


@pytest.mark.slow
def test_multirun_gives_every_job_its_own_run_and_model(run_train):
    process, runs_dir, models_dir = run_train(
        *TINY_MINI, "trainer.num_train_epochs=1", "seed=1,2", "run_name=sweep", launcher=(sys.executable, "-m", "train", "-m")
    )
    (sweep_dir,) = (runs_dir / "multirun").iterdir()
    job_dirs = sorted(p for p in sweep_dir.iterdir() if p.is_dir())
    # run_name is fixed: the sweep's launch time (its folder's name) makes the job names its own
    assert [p.name for p in job_dirs] == [f"sweep-{sweep_dir.name}-0", f"sweep-{sweep_dir.name}-1"]
    for job_dir in job_dirs:
        report = json.loads((job_dir / "report.json").read_text())
        assert report["run_name"] == job_dir.name
        assert (models_dir / job_dir.name / "model.safetensors").is_file()
    seeds = [json.loads((d / "report.json").read_text())["hyperparameters"]["seed"] for d in job_dirs]
    assert seeds == [1, 2]


@pytest.mark.slow
def test_a_sweep_with_a_fixed_run_name_can_be_run_again(run_train):
    # As the README's sweep with experiment=quickstart (run_name: quickstart), twice.
    sweep = (*TINY_MINI, "trainer.num_train_epochs=1", "seed=1", "run_name=again")
    run_train(*sweep, launcher=(sys.executable, "-m", "train", "-m"))
    _, runs_dir, models_dir = run_train(*sweep, launcher=(sys.executable, "-m", "train", "-m"))
    jobs = sorted(p.name for p in (runs_dir / "multirun").glob("*/again-*"))
    assert len(jobs) == 2 and sorted(p.name for p in models_dir.iterdir()) == jobs


def _compose(*overrides):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=list(overrides))


@pytest.mark.parametrize(
    "override, named",
    [
        ("cv.folds=1", "cv.folds=1"),
        ("cv.folds=2", "cv.folds=2"),
        ("trainer.learning_rate=-1", "trainer.learning_rate=-1"),
        ("trainer.learning_rate=fast", "trainer.learning_rate=fast"),
        ("trainer.warmup_ratio=1.5", "trainer.warmup_ratio=1.5"),
        ("trainer.class_weights=auto", "trainer.class_weights=auto"),
        ("trainer.precision=fp8", "trainer.precision=fp8"),
        ("model.hidden_size=30", "model.hidden_size=30"),
        ("data.weak_labeler=oracle", "data.weak_labeler=oracle: expected one of rules, teacher"),
        ("data.max_unlabeled_articles=-1", r"data.max_unlabeled_articles=-1: expected null \(all of them\)"),
        ("data.max_unlabeled_articles=true", "data.max_unlabeled_articles=true: expected null"),
        ("data.split.seed=abc", "data.split.seed=abc: expected a whole number >= 0"),
        ("data.name=''", "data.name=: expected a plain folder name"),  # would build into processed/ itself
        ("data.split.train_only=seeds", "data.split.train_only=seeds: expected a list of outlet names"),
        ("data.allow_unlabeled_sentences=yes", "data.allow_unlabeled_sentences=yes: expected true or false"),
        ("trainer.full_determinism=abc", "trainer.full_determinism=abc: expected true or false"),
        ("train.overwrite=1", "train.overwrite=1: expected true or false"),
        ("model.context=null", "model.context=null: expected one of none, rules, neighbours, neighbours_rules"),
        ("model.hidden_dropout_prob=1.5", r"model.hidden_dropout_prob=1.5: expected a probability in \[0, 1\)"),
        ("model.attention_probs_dropout_prob=-0.1", "model.attention_probs_dropout_prob=-0.1"),
        ("optimized_metric=metrics.nope", "optimized_metric=metrics.nope: expected one of selection.validation_macro_f1"),
        ("optimized_metric=cv.macro_f1", "optimized_metric=cv.macro_f1 needs cross-validation: set cv.folds=5"),
    ],
)
def test_bad_settings_are_named_with_the_fix(override, named):
    overrides = ["model=mini", override]
    with pytest.raises(KalimatError, match=f"^{named}"):
        check_config(_compose(*overrides))


def test_a_local_model_without_its_path_is_named():
    with pytest.raises(KalimatError, match="^model=local needs model.name_or_path=<folder or Hub id>"):
        check_config(_compose("model=local"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="fp16 trains on a GPU")
def test_fp16_without_a_gpu_is_refused_by_the_config_check():
    """Before the run writes anything: refused in training, it left a folder that blocked its run_name."""
    with pytest.raises(KalimatError, match="^trainer.precision=fp16 needs a CUDA GPU"):
        check_config(_compose("model=mini", "trainer.precision=fp16"))


def test_cross_validation_refuses_teacher_labels_that_saw_the_folds():
    with pytest.raises(KalimatError, match="^cv.folds with data.weak_labeler=teacher: .* use cv.folds=0"):
        check_config(_compose("experiment=offline", "cv.folds=5"))
    check_config(_compose("experiment=offline", "cv.folds=5", "data.weak_labeler=rules"))


def test_good_settings_pass():
    check_config(_compose("experiment=quickstart"))
    check_config(_compose("model=indobert_lite", "trainer.learning_rate=2e-5", "cv.folds=0"))
    check_config(_compose("model=mini", "cv.folds=5", "optimized_metric=cv.macro_f1", "trainer.full_determinism=true"))


def test_unknown_model_is_one_line_with_the_choices(run_train):
    start = time.monotonic()
    process, _, _ = run_train("model=bert", check=False)
    assert process.returncode == 2
    assert process.stderr.strip().count("\n") == 0
    assert process.stderr.startswith("error: model=bert: no such model config; use one of: indobert_base, indobert_lite, local, mini")
    assert time.monotonic() - start < 60

"""``python -m train``: the labelled dataset -> an evaluated, exported sentence classifier.

Reads ``configs/train.yaml`` (Hydra; every key can be overridden on the command line) and:

1. checks the config and that the model can be had (a missing Hub model fails in seconds),
2. builds the dataset when it is missing or its inputs changed,
3. with ``cv.folds=k``, trains and scores one model per grouped fold,
4. trains the final model (train split, early stopping on validation) and scores the test split,
5. scores the baselines on the same sentences and folds,
6. writes ``runs/<run_name>/`` (resolved config, report, predictions, TensorBoard log) and
   exports ``models/<run_name>/``.

The same command runs on CPU, one GPU, or several processes through ``accelerate launch``:
every process trains, only the main one builds data and writes files.
"""

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from accelerate import PartialState
from omegaconf import DictConfig

from .core.atomic import atomic_dir, write_json
from .core.distributed import process_state
from .core.dotted import select
from .core.errors import KalimatError
from .core.labels import LABELS
from .core.metrics import macro_f1
from .core.precision import device_name, resolve_device, resolve_precision
from .core.run_folder import CHECKPOINTS, RunFolder
from .core.settings import MINI_KEYS, TrainSettings, resolve
from .data.store import ensure_dataset, load_processed
from .modeling.export import save_model, score_served
from .modeling.model_loader import ModelLoader
from .modeling.pretraining import ensure_pretrained
from .modeling.training import cv_phases, final_phase, has_checkpoint, remove_checkpoints, run_phase, unlabelled_texts
from .modeling.training import gold as gold_sentences
from .reporting.baselines import baseline_predictions
from .reporting.evaluation import paired_comparison, scored, summarize_cv
from .reporting.model_card import write_card
from .reporting.report import REPORT_FILE, assemble_report, environment_info, write_run_report


def run(cfg: DictConfig) -> float | None:
    """Train, evaluate and export; return ``optimized_metric`` of the report for a sweeper to maximise."""
    folder = RunFolder("train", cfg, has_checkpoint, REPORT_FILE)
    with folder.stopping_cleanly():  # a refused run leaves no folder it made, and changes none it found
        settings = check_config(cfg)
        report = train_and_export(settings, folder)
    if report is None:  # not the main process of a multi-process launch
        return None
    value = select(report, settings.optimized_metric, None)
    if not isinstance(value, (int, float)):
        raise KalimatError(f"optimized_metric={settings.optimized_metric}: not a number in report.json (got {value!r}); "
                           "use e.g. selection.validation_macro_f1 or cv.macro_f1 with cv.folds=5")
    return float(value)


def train_and_export(settings: TrainSettings, folder: RunFolder) -> dict | None:
    run_dir = folder.path
    state = process_state()
    # In a multirun each job's folder is named <run_name>[-<sweep time>]-<job number>
    # (configs/hydra/default.yaml); that folder name is the run's name everywhere (report,
    # export), so no two jobs, of one sweep or of two, collide.
    run_name = run_dir.name
    model_dir = folder.export
    resume = settings.train.resume
    folder.admit(resume, settings.train.overwrite, "run")  # first: a refused run must not pretrain for nothing

    if state.is_main_process:
        ensure_pretrained(settings)
    state.wait_for_everyone()
    loader = ModelLoader(settings.model, settings.trainer.max_length)
    with state.main_process_first():
        data_dir = ensure_dataset(settings)
    dataset, metadata = load_processed(data_dir)
    check_same_data(run_dir, metadata["content_hash"], resume)
    start_run_dir(folder, metadata["content_hash"], resume, state)
    extra_texts = unlabelled_texts(dataset)

    folds = []
    if settings.cv.folds:
        phases = cv_phases(dataset, settings.cv.folds, settings.cv.seed, list(settings.data.split.train_only))
        for i, phase in enumerate(phases, 1):
            state.print(f"cross-validation fold {i}/{len(phases)}: testing on {', '.join(phase.test_articles)}")
            result, _, _ = run_phase(phase, loader, settings, run_dir, extra_texts, resume)
            folds.append((phase, result))

    state.print("final model: train split, early stopping on validation, scored on test")
    final = final_phase(dataset)
    result, model, tokenizer = run_phase(final, loader, settings, run_dir, extra_texts, resume)

    if state.is_main_process:
        cv_predictions = [record for _, fold in folds for record in fold.predictions] if folds else None
        with atomic_dir(model_dir) as staged:  # scored as served before it replaces any earlier export
            save_model(model, tokenizer, settings.cleaning, final.validation, staged)
            served = score_served(staged, final.test, [r["label"] for r in result.predictions])
            report = build_report(settings, run_name, metadata, final, result, folds, cv_predictions, served)
            write_card(staged, report, model_dir)
        write_run_report(run_dir, report, result.predictions, cv_predictions)
        if not settings.train.keep_checkpoints:
            remove_checkpoints(run_dir)
        print_summary(report, run_dir, model_dir)
    state.wait_for_everyone()
    return report if state.is_main_process else None


def check_config(cfg: DictConfig) -> TrainSettings:
    """The typed settings; one line naming the key and a valid value for the first bad one.

    Everything that can be checked without the data is checked here, before the run writes
    anything: a run refused later would leave a half-made run folder behind.
    """
    settings = resolve(cfg, TrainSettings, "train")
    resolve_precision(settings.trainer.precision, resolve_device(), training=True, option="trainer.precision")
    return settings


DATA_FILE = "dataset.json"


def check_same_data(run_dir: Path, content_hash: str, resume: bool) -> None:
    """Refuse a resume on other data than the run started with (annotations changed since).

    Reusing finished folds on rebuilt data would mix predictions on old and new sentences in
    one report under the new content hash.
    """
    record = run_dir / CHECKPOINTS / DATA_FILE
    if resume and record.is_file():
        before = json.loads(record.read_text(encoding="utf-8"))["content_hash"]
        if before != content_hash:
            raise KalimatError(
                f"train.resume=true: the dataset changed since the run was interrupted (content hash {before[:12]}, "
                f"now {content_hash[:12]}); start a new run, its finished folds were trained on the old data"
            )


def start_run_dir(folder: RunFolder, content_hash: str, resume: bool, state: PartialState) -> None:
    """Once the run is accepted: start its folder (:meth:`RunFolder.start`) and record the dataset it trains on."""
    state.wait_for_everyone()
    if state.is_main_process:
        folder.start(resume)
        write_json(folder.path / CHECKPOINTS / DATA_FILE, {"content_hash": content_hash})
    state.wait_for_everyone()


def build_report(settings: TrainSettings, run_name: str, metadata: dict, final, result, folds: list,
                 cv_predictions: list[dict] | None, served: dict) -> dict:
    """The run's report.json (docs/report_schema.md), built here and only here."""
    seed = settings.seed
    gold = [r["gold"] for r in result.predictions]
    pred = [r["label"] for r in result.predictions]
    metrics = scored(gold, pred, seed)
    # Each baseline scored like the model, and the model tested against it on the same sentences.
    baselines = {
        name: scored(gold, labels, seed) | {"paired": asdict(paired_comparison(gold, labels, pred))}
        for name, labels in _baselines(final, seed).items()
    }

    cv = None
    if folds:
        cv = summarize_cv(cv_predictions, seed=seed)
        oof_gold = [r["gold"] for r in cv_predictions]
        # The baselines' out-of-fold labels, pooled in the same order: one estimate, comparable with cv.macro_f1.
        fold_baselines = [_baselines(phase, seed) for phase, _ in folds]
        for name, scores in baselines.items():
            scores["cv_macro_f1"] = macro_f1(oof_gold, [label for b in fold_baselines for label in b[name]])

    # The mini model's sizes only shape a model built from scratch: beside a checkpoint they are not used.
    unused = {"name", "name_or_path"} | (set(MINI_KEYS) if not settings.model.is_mini else set())
    model_settings = {f"model.{k}": v for k, v in settings.model.model_dump(exclude_unset=True).items() if k not in unused}
    trainer_settings = {f"trainer.{k}": v for k, v in settings.trainer.model_dump().items()}
    device = resolve_device()
    precision = resolve_precision(settings.trainer.precision, device, training=True, option="trainer.precision")
    fields = {
        "run_name": run_name,
        "model": {
            "name": settings.model.name,
            "name_or_path": settings.model.name_or_path,
            "num_parameters": result.num_parameters,
        },
        "hyperparameters": {
            "seed": seed,
            "cv.folds": settings.cv.folds,
            # The effective batch is per_device_train_batch_size x gradient_accumulation_steps x processes.
            "processes": process_state().num_processes,
            **trainer_settings,
            **model_settings,
        },
        "dataset": {
            "name": metadata["name"],
            "content_hash": metadata["content_hash"],
            "label_sources": dict(Counter(final.train["label_source"])),
            "weak_labeler": metadata["weak_labeler"],
        },
        "evaluation": {"split": "test", "num_sentences": len(gold)},
        "metrics": metrics,
        "cv": cv,
        # What model selection (early stopping, a sweep) may look at: never the test split.
        "selection": {"validation_macro_f1": result.validation_macro_f1},
        "served": served,
        "calibration": result.calibration,
        "truncation": result.truncated,
        "baselines": baselines,
        "timing": {
            "train_seconds": result.train_seconds,
            "train_samples_per_second": result.train_samples_per_second,
            "eval_sentences_per_second": result.eval_sentences_per_second,
        },
        "environment": environment_info(device_name(device), precision),
    }
    return assemble_report(fields, result.predictions, cv_predictions)


def _baselines(phase, seed: int) -> dict[str, list[str]]:
    """The baselines trained on a phase's human-labelled training sentences, labeling its test sentences in order.

    Weak or teacher labels never train them: a baseline shows what the annotations alone buy.
    """
    train = gold_sentences(phase.train)
    return baseline_predictions(
        list(train["text"]),
        [LABELS[i] for i in train["label"]],
        list(phase.test["text"]),
        list(phase.test["weak_label"]),
        seed,
    )


def print_summary(report: dict, run_dir: Path, model_dir: Path) -> None:
    metrics, cv = report["metrics"], report["cv"]
    low, high = metrics["macro_f1_interval"]
    tfidf = report["baselines"]["tfidf_logreg"]
    print(
        f"\ntest macro-F1 {metrics['macro_f1']:.3f} (95% interval {low:.3f}-{high:.3f}, "
        f"{report['evaluation']['num_sentences']} sentences); TF-IDF baseline {tfidf['macro_f1']:.3f}"
    )
    if cv:
        low, high = cv["macro_f1_interval"]
        print(
            f"cross-validation macro-F1 {cv['macro_f1']:.3f} (pooled out-of-fold, 95% interval {low:.3f}-{high:.3f}, "
            f"{cv['folds']} folds); TF-IDF baseline {tfidf['cv_macro_f1']:.3f}"
        )
    print(f"report: {run_dir / 'report.md'}\nmodel:  {model_dir}")

"""Training and scoring one model with the Hugging Face Trainer, once or across folds.

A *phase* is one training: a cross-validation fold or the final model. Each phase trains
on its training articles (gold and weak labels), keeps the epoch with the best validation
macro-F1 and predicts its test sentences. Phases write their results under
``<run_dir>/checkpoints/<phase>/`` so that ``train.resume=true`` skips finished phases and
continues the interrupted one from its last checkpoint.
"""

import json
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch.nn import functional as F
from torch.utils.tensorboard import SummaryWriter
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.integrations import TensorBoardCallback

from ..core.atomic import write_json
from ..core.distributed import process_state
from ..core.errors import KalimatError
from ..core.labels import LABELS
from ..core.precision import resolve_device, resolve_precision
from ..core.run_folder import CHECKPOINTS
from ..data.context import row_windows
from ..data.splits import GoldArticle, article_folds, check_folds
from ..inference.predictor import Predictor, count_truncated
from .calibration import expected_calibration_error, fit_temperature, reliability, softmax
from ..core.metrics import macro_f1
from .model_loader import ModelLoader

RESULT_FILE = "result.json"
FINAL_MODEL_DIR = "model"


@dataclass
class Phase:
    """One training: its name (``fold-0``, ``final``), its rows, and the fold it scores."""

    name: str
    train: datasets.Dataset
    validation: datasets.Dataset
    test: datasets.Dataset
    fold: int | None = None

    @property
    def test_articles(self) -> list[str]:
        return sorted(set(self.test["article_id"]))


@dataclass
class PhaseResult:
    """What a phase leaves behind: test predictions (records of docs/report_schema.md) and timings."""

    predictions: list[dict]
    train_seconds: float
    train_samples_per_second: float
    eval_sentences_per_second: float
    num_parameters: int
    validation_macro_f1: float | None  # the kept epoch's, the figure model selection may use
    calibration: dict  # temperature fitted on validation; ECE and reliability bins on test, before and after
    # Inputs longer than the model reads, cut to max_length: {"max_length", "train", "validation", "test"}
    # (None in results written before it was counted).
    truncated: dict | None = None


def gold(rows: datasets.Dataset) -> datasets.Dataset:
    """Only human-labelled sentences are ever scored."""
    return rows.select([i for i, source in enumerate(rows["label_source"]) if source == "gold"])


def final_phase(dataset: datasets.DatasetDict) -> Phase:
    """Train on the train split, stop early on validation, score the test split."""
    for split in ("validation", "test"):
        if len(gold(dataset[split])) == 0:
            raise KalimatError(
                f"data: the {split} split has no human-labelled sentences; annotate more articles "
                "or change data.split so that validation and test each get one"
            )
    return Phase("final", dataset["train"], gold(dataset["validation"]), gold(dataset["test"]))


def cv_phases(dataset: datasets.DatasetDict, folds: int, seed: int, train_only: list[str]) -> list[Phase]:
    """Grouped, stratified folds over the gold-labeled articles of the train and validation splits.

    The test split is left out: it is scored once, by the final model, and never takes part
    in model selection (a sweep that optimises the cross-validation score never sees it).
    Fold ``i`` is scored on its articles and stops early on those of fold ``i+1``; every
    other article, articles with only weak labels and those of ``train_only`` outlets train it.
    """
    check_folds(folds)
    rows = datasets.concatenate_datasets([dataset["train"], dataset["validation"]])
    labels = defaultdict(list)
    category = {}
    for article, label, source, outlet, cat in zip(
        rows["article_id"], rows["label"], rows["label_source"], rows["outlet"], rows["category"]
    ):
        if source == "gold" and outlet not in train_only:
            labels[article].append(LABELS[label])
            category[article] = cat
    fold_of = article_folds([GoldArticle(a, category[a], tuple(labs)) for a, labs in labels.items()], folds, seed)
    fold_ids = sorted(set(fold_of.values()))
    if len(fold_ids) < 3:
        raise KalimatError(
            f"cv.folds={folds}: {len(labels)} labeled articles give {len(fold_ids)} folds, but each fold "
            "needs one to test, one to stop early on and one to train; use cv.folds=3 or more, or cv.folds=0"
        )
    row_folds = [fold_of.get(article) for article in rows["article_id"]]

    def rows_in(wanted: set) -> datasets.Dataset:
        return rows.select([i for i, fold in enumerate(row_folds) if fold in wanted])

    phases = []
    for i, fold in enumerate(fold_ids):
        stop_on = fold_ids[(i + 1) % len(fold_ids)]
        train_folds = {f for f in fold_ids if f not in (fold, stop_on)} | {None}
        phases.append(
            Phase(f"fold-{fold}", rows_in(train_folds), gold(rows_in({stop_on})), gold(rows_in({fold})), fold=fold)
        )
    return phases


def unlabelled_texts(dataset: datasets.DatasetDict) -> list[str]:
    """Sentences with weak labels only, from any split: text the mini tokenizer may learn from, never scored."""
    return [
        text
        for split in dataset.values()
        for text, source in zip(split["text"], split["label_source"])
        if source != "gold"
    ]


class WeightedCrossEntropy:
    """Cross-entropy with per-class weights, summed and divided by the labels in the whole accumulated batch.

    Dividing by the Trainer's ``num_items_in_batch`` (rather than averaging per batch)
    keeps the loss the same with or without gradient accumulation and across processes.
    """

    def __init__(self, weights: torch.Tensor | None):
        self.weights = weights

    def __call__(self, outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"].float()
        weights = None if self.weights is None else self.weights.to(logits.device)
        losses = F.cross_entropy(logits, labels, weight=weights, reduction="none")
        return losses.sum() / (num_items_in_batch if num_items_in_batch is not None else len(labels))


def class_weights(labels: list[int], mode: str) -> torch.Tensor | None:
    """``balanced``: scikit-learn's n / (classes x n_class) for the classes present, 1 for absent ones."""
    if mode == "none":
        return None
    present = np.unique(labels)
    weights = np.ones(len(LABELS))
    weights[present] = compute_class_weight("balanced", classes=present, y=np.asarray(labels))
    return torch.tensor(weights, dtype=torch.float32)


def training_arguments(trainer, seed: int, output_dir: Path, precision: str, **loop) -> TrainingArguments:
    """The Trainer's arguments from the typed trainer settings, for fine-tuning and pretraining alike.

    ``trainer`` is :class:`~train.core.settings.OptimizerSettings` (either command's);
    ``loop`` gives what only one of them has: epochs or steps, evaluation and saving.
    ``warmup_ratio`` passes as a fraction, which the Trainer turns into steps once it knows
    how many there are.
    """
    cuda = torch.cuda.is_available()
    return TrainingArguments(
        output_dir=str(output_dir),
        learning_rate=trainer.learning_rate,
        per_device_train_batch_size=trainer.per_device_train_batch_size,
        warmup_steps=float(trainer.warmup_ratio),
        weight_decay=trainer.weight_decay,
        max_grad_norm=trainer.max_grad_norm,
        logging_strategy="steps",
        logging_steps=trainer.logging_steps,
        report_to="none",
        seed=seed,
        data_seed=seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=not cuda,
        dataloader_num_workers=0,
        dataloader_pin_memory=cuda,
        disable_tqdm=False,
        **loop,
    )


def fine_tuning_arguments(settings, output_dir: Path, precision: str) -> TrainingArguments:
    """Epochs, evaluated and saved each epoch, the best validation macro-F1 kept."""
    t = settings.trainer
    return training_arguments(
        t, settings.seed, output_dir, precision,
        num_train_epochs=t.num_train_epochs,
        per_device_eval_batch_size=t.per_device_eval_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        save_total_limit=t.save_total_limit,
        restore_callback_states_from_checkpoint=True,
        full_determinism=t.full_determinism,
        # Batches of similar length: far less padding than shuffled batches on CPU.
        train_sampling_strategy="group_by_length",
        ddp_find_unused_parameters=False,
    )


def _encode(rows: datasets.Dataset, tokenizer, max_length: int, context: str) -> tuple[datasets.Dataset, int]:
    """The rows tokenized for the Trainer, and how many of them were longer than ``max_length`` and cut."""
    encoded = tokenizer(list(rows["text"]), row_windows(rows, tokenizer.sep_token, context), truncation=True, max_length=max_length)
    truncated = count_truncated(encoded)
    return datasets.Dataset.from_dict({**encoded, "labels": list(rows["label"])}), truncated


def _trainer_metrics(eval_prediction) -> dict:
    pred = eval_prediction.predictions.argmax(-1)
    return {"macro_f1": macro_f1([LABELS[i] for i in eval_prediction.label_ids], [LABELS[i] for i in pred])}


def run_phase(phase: Phase, loader: ModelLoader, cfg, run_dir: Path, extra_texts: list[str], resume: bool):
    """Train (or, when resuming, finish or reuse) one phase; return its result, model and tokenizer.

    The model and tokenizer are returned only for the final phase, which is exported.
    """
    state = process_state()
    phase_dir = run_dir / CHECKPOINTS / phase.name
    result_path = phase_dir / RESULT_FILE
    if resume and result_path.is_file():
        state.print(f"{phase.name}: finished before, reusing its predictions")
        result = PhaseResult(**json.loads(result_path.read_text(encoding="utf-8")))
        if phase.name != "final":
            return result, None, None
        model_dir = phase_dir / FINAL_MODEL_DIR
        return (
            result,
            AutoModelForSequenceClassification.from_pretrained(model_dir, use_safetensors=True),
            AutoTokenizer.from_pretrained(model_dir),
        )

    precision = resolve_precision(cfg.trainer.precision, resolve_device(), training=True, option="trainer.precision")
    tokenizer = loader.tokenizer(list(phase.train["text"]) + extra_texts)
    max_length = loader.max_length  # trainer.max_length, clamped to the model's positions
    set_seed(cfg.seed)
    model = loader.model(tokenizer)
    model.config.kalimat_context = cfg.model.context  # saved with the export: the predictor reads the same
    callbacks = []
    if cfg.trainer.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.trainer.early_stopping_patience))
    if state.is_main_process:
        callbacks.append(TensorBoardCallback(SummaryWriter(log_dir=str(run_dir / "tensorboard" / phase.name))))
    train_dataset, train_cut = _encode(phase.train, tokenizer, max_length, cfg.model.context)
    eval_dataset, validation_cut = _encode(phase.validation, tokenizer, max_length, cfg.model.context)
    trainer = Trainer(
        model=model,
        args=fine_tuning_arguments(cfg, phase_dir, precision),
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_metrics=_trainer_metrics,
        compute_loss_func=WeightedCrossEntropy(class_weights(list(phase.train["label"]), cfg.trainer.class_weights)),
        callbacks=callbacks,
    )
    checkpoint = last_complete_checkpoint(phase_dir) if resume else None
    if checkpoint:
        state.print(f"{phase.name}: resuming from {checkpoint}")
    output = trainer.train(resume_from_checkpoint=checkpoint)
    predictions, calibration, eval_seconds, test_cut = predict(
        trainer.model, tokenizer, phase.validation, phase.test, cfg.trainer.per_device_eval_batch_size
    )
    truncated = {"max_length": max_length, "train": train_cut, "validation": validation_cut, "test": test_cut}
    if train_cut or validation_cut or test_cut:
        state.print(f"{phase.name}: inputs longer than {max_length} tokens, cut: {train_cut} of {len(phase.train)} "
                    f"training, {validation_cut} of {len(phase.validation)} validation, {test_cut} of "
                    f"{len(phase.test)} test sentences")
    result = PhaseResult(
        predictions=[record | ({"fold": phase.fold} if phase.fold is not None else {}) for record in predictions],
        train_seconds=output.metrics["train_runtime"],
        train_samples_per_second=output.metrics["train_samples_per_second"],
        eval_sentences_per_second=len(predictions) / eval_seconds,
        num_parameters=trainer.model.num_parameters(),
        validation_macro_f1=trainer.state.best_metric,
        calibration=calibration,
        truncated=truncated,
    )
    if phase.name == "final":
        trainer.save_model(str(phase_dir / FINAL_MODEL_DIR))
    if state.is_main_process:
        write_json(result_path, result.__dict__)
    state.wait_for_everyone()
    return result, (trainer.model if phase.name == "final" else None), (tokenizer if phase.name == "final" else None)


def predict(model, tokenizer, validation: datasets.Dataset, test: datasets.Dataset, batch_size: int):
    """Calibrate on ``validation``, then label ``test``: its records, calibration figures, seconds, and how
    many test inputs were longer than the model reads and cut.

    The project's :class:`~train.inference.predictor.Predictor` labels them (the same code
    and record format as ``kalimat-predict``, with the gold label added). The temperature
    fitted on the validation rows is stored in the model's config, so the export applies it.
    """
    predictor = Predictor.from_model(model, tokenizer, batch_size)
    separator = tokenizer.sep_token
    validation_logits = predictor.logits(list(validation["text"]), row_windows(validation, separator, predictor.context))
    temperature = fit_temperature(validation_logits.numpy(), np.array(validation["label"]))
    model.config.kalimat_temperature = predictor.temperature = temperature
    start, cut_before = time.perf_counter(), predictor.truncated
    logits = predictor.logits(list(test["text"]), row_windows(test, separator, predictor.context)).numpy()
    seconds = time.perf_counter() - start
    probabilities = softmax(logits, temperature)
    records = [
        prediction.record(row["article_id"], row["sentence_index"], row["text"]) | {"gold": LABELS[row["label"]]}
        for row, prediction in zip(test, predictor.from_probabilities(torch.from_numpy(probabilities)))
    ]
    gold = np.array(test["label"])
    raw, calibrated = softmax(logits), probabilities
    calibration = {
        "temperature": temperature,
        "ece_before": expected_calibration_error(raw, gold),
        "ece_after": expected_calibration_error(calibrated, gold),
        "bins_before": reliability(raw, gold),
        "bins_after": reliability(calibrated, gold),
    }
    return records, calibration, seconds, predictor.truncated - cut_before


def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest ``checkpoint-N`` the Trainer finished writing, or ``None``.

    The Trainer writes ``trainer_state.json`` last, after weights, optimizer and random
    states, so a checkpoint without it was cut short (a kill during the save) and resuming
    from it would fail: it is passed over for the one before.
    """
    if not folder.is_dir():
        return None
    checkpoints = [p for p in folder.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    for checkpoint in sorted(checkpoints, key=lambda p: int(p.name.split("-")[-1]), reverse=True):
        if (checkpoint / "trainer_state.json").is_file():
            return str(checkpoint)
    return None


def has_checkpoint(run_dir: Path) -> bool:
    """Whether a run has work to continue from: a finished phase or a complete checkpoint of one."""
    phases = [p for p in (run_dir / CHECKPOINTS).glob("*") if p.is_dir()]
    return any((phase / RESULT_FILE).is_file() or last_complete_checkpoint(phase) for phase in phases)


def remove_checkpoints(run_dir: Path) -> None:
    shutil.rmtree(run_dir / CHECKPOINTS, ignore_errors=True)

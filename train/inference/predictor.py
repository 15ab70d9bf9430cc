"""Load an exported kalimat model and label sentences as fast as the hardware allows.

An exported model folder (``models/<run_name>/``) holds ``config.json`` whose
``id2label``/``label2id`` name exactly the four labels of :mod:`train.core.labels`, safetensors
weights and a fast tokenizer. :func:`check_model_dir` refuses anything else with a
one-line message before a byte of it is loaded; code shipped inside a model folder is
never run (``trust_remote_code`` stays off).

Speed comes from doing little useless work:

* a whole list of sentences is tokenized at once by the fast (Rust) tokenizer;
* sentences are sorted by length and batched only with sentences of the same token length
  (:meth:`Predictor.batches`): no padding at all, and no sentence's result depends on the
  sentences batched with it, so labels are the same however a job is batched, chunked or
  resumed; results come back in input order;
* the forward pass runs under ``torch.inference_mode`` (no autograd bookkeeping);
* the precision and engine are chosen per device (``auto``; the policy lives in
  :mod:`train.core.precision`, shared with training), by measurement. fp32 alone cannot
  go far beyond the naive pipeline: the length-sorted fp32 predictor already runs at about
  half to two thirds of a 2-core CPU's fp32 matrix-product peak. Lower precisions do more
  per cycle. On x86 CPUs without AMX bf16 is no faster than fp32 (on a 2-core Xeon without
  AMX: 146 GFLOP/s against 294), while int8 products reach about 1,000 GOP/s: there the int8
  engine (:mod:`train.inference.int8_engine`: ONNX Runtime, activation scales fixed at
  export) labels the base shape at about 7x the naive pipeline. On a 2-core Xeon with AMX
  tiles (bf16 products at about 2,700 GFLOP/s, int8 at 3,300 GOP/s) the int8 engine is
  still the fastest: 12x the naive pipeline on the base shape, against 8.9x for the model
  cast to bf16, whose probabilities also move with the batch. ``fp32`` forces the plain model,
  the exact reference; ``scripts/benchmark.py`` prints every precision's agreement with it
  (:func:`label_agreement`).

PyTorch's dynamic int8 quantization, the earlier default on CPUs without AMX, is not
offered: it computes activation scales per batch, so labels changed with ``--batch-size``.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import torch
from huggingface_hub.errors import StrictDataclassError
from safetensors import SafetensorError
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from ..core.errors import KalimatError
from ..core.log import warn
from ..core.labels import LABELS
from ..core.precision import resolve_device, resolve_precision, without_int8_engine
from ..data.context import article_windows, model_context
from .int8_engine import Int8Engine, find_int8_engine

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
UNSAFE_WEIGHT_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")


@dataclass
class Prediction:
    label: str
    score: float  # probability of ``label``
    probs: dict[str, float]  # every label, in :data:`~train.core.labels.LABELS` order

    def record(self, article_id: str, sentence_index: int, text: str) -> dict:
        """The one output record of a labeled sentence: what ``kalimat-predict`` writes and
        what run reports store (with ``gold`` added), probabilities to 4 decimals."""
        return {
            "article_id": article_id,
            "sentence_index": sentence_index,
            "text": text,
            "label": self.label,
            "score": round(self.score, 4),
            "probs": {label: round(p, 4) for label, p in self.probs.items()},
        }


def check_model_dir(model_dir) -> None:
    """Raise a one-line :class:`KalimatError` unless ``model_dir`` looks like a kalimat export."""
    path = Path(model_dir)
    if not path.is_dir():
        raise KalimatError(f"{path}: no such model folder; give --model models/<run_name>")
    config_path = path / "config.json"
    if not config_path.is_file():
        raise KalimatError(f"{path}: no config.json; is this an exported kalimat model?")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise KalimatError(f"{config_path}: not valid JSON; re-export the model") from None
    if not isinstance(config, dict):
        raise KalimatError(f"{config_path}: not a JSON object; re-export the model")
    id2label, label2id = config.get("id2label") or {}, config.get("label2id") or {}
    # Ids must be 0..3: the model's outputs are read by position.
    if (
        not isinstance(id2label, dict)
        or not isinstance(label2id, dict)
        or sorted(id2label) != [str(i) for i in range(len(LABELS))]
        or sorted(map(str, id2label.values())) != sorted(LABELS)
        or {v: k for k, v in id2label.items()} != {k: str(v) for k, v in label2id.items()}
    ):
        raise KalimatError(
            f"{config_path}: id2label/label2id must name exactly the labels {', '.join(LABELS)}; "
            "is this an exported kalimat model?"
        )
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        if any((path / name).is_file() for name in UNSAFE_WEIGHT_FILES):
            raise KalimatError(
                f"{path}: weights are pytorch_model.bin (pickle), which is not loaded for safety; "
                "re-save the model with save_pretrained(..., safe_serialization=True)"
            )
        raise KalimatError(f"{path}: no model weights (model.safetensors); re-export the model")
    if not (path / "tokenizer.json").is_file():
        # Without it transformers may build a tokenizer with an empty vocabulary, silently.
        raise KalimatError(f"{path}: no tokenizer.json (a fast tokenizer); re-export the model")


# What a damaged folder that passed check_model_dir raises: cut weights or tokenizer, wrong types in config.json.
LOAD_ERRORS = (OSError, ValueError, TypeError, KeyError, SafetensorError, StrictDataclassError)


def cannot_load(model_dir, err: Exception) -> KalimatError:
    detail = " ".join(str(err).split())
    return KalimatError(f"{model_dir}: cannot load the model or tokenizer ({type(err).__name__}: {detail}); "
                        "re-export the model")


def load_tokenizer(model_dir):
    """The folder's fast tokenizer; a damaged ``tokenizer.json`` is one line, never a traceback."""
    try:
        return AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
    except LOAD_ERRORS as err:
        raise cannot_load(model_dir, err) from None


class Predictor:
    """An exported model ready to label sentences; see the module docstring."""

    def __init__(self, model_dir, device: str = "auto", precision: str = "auto", batch_size: int = 32):
        check_model_dir(model_dir)
        device = resolve_device(device) if isinstance(device, str) else device
        chosen = resolve_precision(precision, device, training=False, option="--precision")
        if chosen == "int8" and (missing := find_int8_engine(model_dir)):
            fix = f"build it with: python scripts/quantize.py --model {model_dir} --calibration ARTICLES"
            if precision != "auto":
                raise KalimatError(f"--precision int8: {missing}; {fix}")
            chosen = without_int8_engine()
            warn(f"{missing}, so it runs in {chosen} (slower); {fix}")
        tokenizer = load_tokenizer(model_dir)
        try:
            if chosen == "int8":
                model, config = Int8Engine(model_dir), AutoConfig.from_pretrained(model_dir, trust_remote_code=False)
            else:
                model = AutoModelForSequenceClassification.from_pretrained(
                    model_dir, trust_remote_code=False, use_safetensors=True, dtype=torch.float32
                )
                config = model.config
        except LOAD_ERRORS as err:
            raise cannot_load(model_dir, err) from None
        self._prepare(model, config, tokenizer, device, chosen, batch_size)

    @classmethod
    def from_model(cls, model, tokenizer, batch_size: int = 64) -> "Predictor":
        """A model in memory (training scores its test split with it), run exactly: fp32 on its own device.

        Predicting in place would change the weights for bf16, so only fp32 is offered here.
        """
        predictor = cls.__new__(cls)
        predictor._prepare(model, model.config, tokenizer, model.device, "fp32", batch_size)
        return predictor

    def _prepare(self, model, config, tokenizer, device: torch.device, precision: str, batch_size: int) -> None:
        if batch_size < 1:
            raise KalimatError("--batch-size must be at least 1")
        self.device = device
        self.precision = precision
        self.batch_size = batch_size
        self.tokenizer = tokenizer
        if isinstance(model, Int8Engine):
            self.model = model
        else:
            self.model = model.eval().to(self.device)
            if self.precision in ("bf16", "fp16"):
                self.model.to(torch.bfloat16 if self.precision == "bf16" else torch.float16)
        self.id2label = [config.id2label[i] for i in range(len(LABELS))]
        self.max_length = min(self.tokenizer.model_max_length, config.max_position_embeddings)
        self.truncated = 0  # inputs longer than max_length, cut to it (counted for the summary and reports)
        self.context = model_context(config)  # what the model was trained to read beside a sentence
        # Fitted on the validation articles at export (train.reporting.calibration); 1: uncalibrated.
        self.temperature = float(getattr(config, "kalimat_temperature", 1.0))

    def _forward(self, batch) -> torch.Tensor:
        if isinstance(self.model, Int8Engine):
            return self.model(batch)
        return self.model(**{key: value.to(self.device) for key, value in batch.items()}).logits.float().cpu()

    def batches(self, lengths: list[int]) -> Iterator[list[int]]:
        """The indices of every batch: sentences of one token length each, shortest first.

        Batching only sentences of equal length means no padding at all, and a sentence's
        numbers never depend on which other sentences are labeled with it: with the int8
        engine the same input gives bit-identical probabilities however it is batched,
        chunked or resumed (PyTorch's fp32 kernels, chosen by batch shape, may still move
        the last bits of a float). On 2,000 news sentences this also ran the IndoBERT-base
        shape 1.4x faster than padding each sentence to a multiple of 8.
        """
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        for _, group in groupby(order, key=lambda i: lengths[i]):
            group = list(group)
            for start in range(0, len(group), self.batch_size):
                yield group[start : start + self.batch_size]

    def logits(self, sentences: list[str], windows: list[str] | None = None) -> torch.Tensor:
        """Raw logits, one row per sentence in input order, columns in model label order.

        ``windows`` are the sentences' contexts (see :meth:`predict_articles`) for a model
        trained with them; without them such a model sees an empty window at every sentence.
        """
        logits = torch.empty(len(sentences), len(LABELS))
        if not sentences:
            return logits
        if self.context != "none" and windows is None:  # each sentence alone in its article
            windows = article_windows([[s] for s in sentences], self.tokenizer.sep_token, self.context)
        batch = self.tokenizer(sentences, windows, truncation=True, max_length=self.max_length)
        self.truncated += count_truncated(batch)
        encoded = dict(batch)
        with torch.inference_mode():
            for indices in self.batches([len(ids) for ids in encoded["input_ids"]]):
                batch = {key: torch.tensor([values[i] for i in indices]) for key, values in encoded.items()}
                logits[indices] = self._forward(batch)
        return logits

    def probabilities(self, sentences: list[str], windows: list[str] | None = None) -> torch.Tensor:
        """Calibrated label probabilities: the logits divided by the export's temperature, then softmax."""
        return (self.logits(sentences, windows) / self.temperature).softmax(dim=-1)

    def predict(self, sentences: list[str], windows: list[str] | None = None) -> list[Prediction]:
        """Label every sentence; the result is in the order of ``sentences``."""
        return self.from_probabilities(self.probabilities(sentences, windows))

    def predict_articles(self, articles: list[list[str]]) -> list[list[Prediction]]:
        """Label the sentences of several articles in one batched pass, each read in its own article.

        A model trained with context (``model.context=neighbours`` or ``neighbours_rules``) gets
        every sentence's window from its article (train.data.context); articles never share a window.
        """
        windows = article_windows(articles, self.tokenizer.sep_token, self.context)
        predictions = iter(self.predict([s for sentences in articles for s in sentences], windows))
        return [[next(predictions) for _ in sentences] for sentences in articles]

    def from_probabilities(self, probabilities: torch.Tensor) -> list[Prediction]:
        """One :class:`Prediction` per row of probabilities (model label order)."""
        predictions = []
        for row in probabilities.tolist():
            by_label = dict(zip(self.id2label, row))
            label = max(by_label, key=by_label.get)
            predictions.append(Prediction(label, by_label[label], {l: by_label[l] for l in LABELS}))
        return predictions


def count_truncated(encoded) -> int:
    """How many inputs of a fast tokenizer's output were longer than ``max_length`` and cut."""
    return sum(bool(encoding.overflowing) for encoding in encoded.encodings or ())


def label_agreement(labels: list[str], reference: list[str]) -> float:
    """Share of positions where ``labels`` equals ``reference`` (e.g. int8 against fp32)."""
    if len(labels) != len(reference):
        raise ValueError(f"cannot compare {len(labels)} labels with {len(reference)}")
    if not labels:
        return 1.0
    return sum(a == b for a, b in zip(labels, reference)) / len(labels)

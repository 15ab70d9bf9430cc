"""Load an exported kalimat model and label sentences as fast as the hardware allows.

An exported model folder (``models/<run_name>/``) holds ``config.json`` whose
``id2label``/``label2id`` name exactly the four labels of :mod:`train.core.labels`, safetensors
weights and a fast tokenizer. :func:`check_model_dir` refuses anything else with a
one-line message before a byte of it is loaded; code shipped inside a model folder is
never run (``trust_remote_code`` stays off).

Speed comes from doing little useless work:

* a whole list of sentences is tokenized at once by the fast (Rust) tokenizer;
* sentences are sorted by length and cut into batches, each padded only to its own
  longest sentence, so almost no time goes into padding; results come back in input order;
* the forward pass runs under ``torch.inference_mode`` (no autograd bookkeeping);
* the precision is chosen per device (``auto``), by measurement. fp32 alone cannot go
  far beyond the naive pipeline: on a 2-core AVX-512 CPU fp32 matrix products peak at
  about 190-340 GFLOP/s and the length-sorted fp32 predictor already reaches 70% of that.
  Lower precisions do more per cycle: on CPUs with AMX tiles (bf16 matrix products at
  about 2,200 GFLOP/s on 2 cores) a model cast to bf16 labels the IndoBERT-base shape 2.8x
  faster than fp32 and 1.5x faster than int8; on CPUs without AMX (AMD Zen 4: bf16 411
  GFLOP/s, int8 570-860 GOP/s) int8 dynamic quantization is the fastest (40.8 sentences/s
  against 30.6 for bf16 autocast and 13.8 for fp32). So ``auto`` means bf16 with AMX, int8 on
  other x86 CPUs, bf16 on GPUs that support it, and fp32 elsewhere. Both kept the labels
  of a trained quickstart model on at least 99.7% of 2,000 news sentences (the policy
  itself lives in :mod:`train.core.precision`, shared with training);
  ``scripts/benchmark.py`` prints that agreement (:func:`label_agreement`), and
  ``fp32`` forces the plain model.

int8 quantizes activations with one scale per batch, so its probabilities (rarely its
labels) move slightly with the sentences a sentence is batched with; fp32 and bf16 give
each sentence the same result in any batch, up to rounding.

ONNX Runtime is not used: on a CPU without AMX its fused int8 graph was only about 15%
faster than PyTorch int8 while adding an export step to every model load and a second
runtime; with AMX, PyTorch bf16 is faster still.
"""

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from huggingface_hub.errors import StrictDataclassError
from safetensors import SafetensorError
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from ..core.errors import KalimatError
from ..core.labels import LABELS
from ..core.precision import resolve_device, resolve_precision
from ..data.context import context_text, neighbours

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


def quantize_int8(model: torch.nn.Module) -> None:
    """Swap the encoder's Linear layers for int8 dynamic-quantized ones, in place.

    The classification head stays fp32: it is tiny, and keeping it exact keeps labels
    closer to the fp32 model. ``torch.ao.quantization`` announces its future removal on
    every call; it still works in the PyTorch versions this project supports, and its
    successor (torchao) would be an extra dependency, so those two warnings are silenced
    here rather than shown to every user.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated")
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor")
        torch.ao.quantization.quantize_dynamic(
            model.base_model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )


class Predictor:
    """An exported model ready to label sentences; see the module docstring."""

    def __init__(self, model_dir, device: str = "auto", precision: str = "auto", batch_size: int = 32):
        check_model_dir(model_dir)
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
            model = AutoModelForSequenceClassification.from_pretrained(
                model_dir, trust_remote_code=False, use_safetensors=True, dtype=torch.float32
            )
        except (OSError, ValueError, TypeError, KeyError, SafetensorError, StrictDataclassError) as err:
            # What a damaged folder that passed check_model_dir raises: cut weights, wrong types in config.json.
            detail = " ".join(str(err).split())
            raise KalimatError(
                f"{model_dir}: cannot load the model or tokenizer ({type(err).__name__}: {detail}); "
                "re-export the model"
            ) from None
        self._prepare(model, tokenizer, resolve_device(device) if isinstance(device, str) else device,
                      precision, batch_size)

    @classmethod
    def from_model(cls, model, tokenizer, batch_size: int = 64) -> "Predictor":
        """A model in memory (training scores its test split with it), run exactly: fp32 on its own device.

        Predicting in place would change the weights for int8 or bf16, so only fp32 is offered here.
        """
        predictor = cls.__new__(cls)
        predictor._prepare(model, tokenizer, model.device, "fp32", batch_size)
        return predictor

    def _prepare(self, model, tokenizer, device: torch.device, precision: str, batch_size: int) -> None:
        if batch_size < 1:
            raise KalimatError("--batch-size must be at least 1")
        self.device = device
        self.precision = resolve_precision(precision, self.device, training=False, option="--precision")
        self.batch_size = batch_size
        self.tokenizer = tokenizer
        self.model = model.eval().to(self.device)
        if self.precision in ("bf16", "fp16"):
            self.model.to(torch.bfloat16 if self.precision == "bf16" else torch.float16)
        elif self.precision == "int8":
            quantize_int8(self.model)
        self.id2label = [self.model.config.id2label[i] for i in range(len(LABELS))]
        self.max_length = min(self.tokenizer.model_max_length, self.model.config.max_position_embeddings)
        self.truncated = 0  # inputs longer than max_length, cut to it (counted for the summary and reports)
        # What the model was trained to read beside a sentence (train.data.context); older exports read none.
        self.context = getattr(self.model.config, "kalimat_context", "none")
        # Fitted on the validation articles at export (train.reporting.calibration); 1: uncalibrated.
        self.temperature = float(getattr(self.model.config, "kalimat_temperature", 1.0))

    def _batch(self, encoded: dict[str, list[list[int]]], indices: list[int]) -> dict[str, torch.Tensor]:
        """Pad the sentences at ``indices`` to the longest of them (dynamic padding)."""
        rows = {key: [values[i] for i in indices] for key, values in encoded.items()}
        return self.tokenizer.pad(rows, padding="longest", return_tensors="pt").to(self.device)

    def logits(self, sentences: list[str], windows: list[str] | None = None) -> torch.Tensor:
        """Raw logits, one row per sentence in input order, columns in model label order.

        ``windows`` are the sentences' contexts (see :meth:`predict_articles`) for a model
        trained with them; without them such a model sees an empty window at every sentence.
        """
        logits = torch.empty(len(sentences), len(LABELS))
        if not sentences:
            return logits
        if self.context != "none" and windows is None:
            windows = [context_text("", "", self.tokenizer.sep_token)] * len(sentences)
        batch = self.tokenizer(sentences, windows, truncation=True, max_length=self.max_length)
        self.truncated += sum(bool(encoding.overflowing) for encoding in batch.encodings or ())
        encoded = dict(batch)
        order = sorted(range(len(sentences)), key=lambda i: len(encoded["input_ids"][i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                indices = order[start : start + self.batch_size]
                logits[indices] = self.model(**self._batch(encoded, indices)).logits.float().cpu()
        return logits

    def probabilities(self, sentences: list[str], windows: list[str] | None = None) -> torch.Tensor:
        """Calibrated label probabilities: the logits divided by the export's temperature, then softmax."""
        return (self.logits(sentences, windows) / self.temperature).softmax(dim=-1)

    def predict(self, sentences: list[str], windows: list[str] | None = None) -> list[Prediction]:
        """Label every sentence; the result is in the order of ``sentences``."""
        return self.from_probabilities(self.probabilities(sentences, windows))

    def predict_articles(self, articles: list[list[str]]) -> list[list[Prediction]]:
        """Label the sentences of several articles in one batched pass, each read in its own article.

        A model trained with ``model.context=neighbours`` gets every sentence's window from
        its article (train.data.context); articles never share a window.
        """
        windows = None
        if self.context != "none":
            separator = self.tokenizer.sep_token
            windows = [context_text(p, n, separator) for sentences in articles for p, n in neighbours(sentences)]
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


def label_agreement(labels: list[str], reference: list[str]) -> float:
    """Share of positions where ``labels`` equals ``reference`` (e.g. int8 against fp32)."""
    if len(labels) != len(reference):
        raise ValueError(f"cannot compare {len(labels)} labels with {len(reference)}")
    if not labels:
        return 1.0
    return sum(a == b for a, b in zip(labels, reference)) / len(labels)

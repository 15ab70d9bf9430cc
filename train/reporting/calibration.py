"""Calibrated scores: a temperature that makes ``score`` and ``probs`` mean what they say.

A fine-tuned classifier is usually over-confident: among sentences it labels with
probability 0.9, far fewer than 90% are right. Temperature scaling divides the logits by
one number fitted on the validation articles (minimising their negative log-likelihood),
which keeps every label (the arg-max does not change) and makes the probabilities honest.
The export stores it (``kalimat_temperature`` in ``config.json``) and ``kalimat-predict``
applies it; a plain ``pipeline()`` call reads the raw logits, so its scores are uncalibrated.

Expected calibration error (ECE) measures the gap: sentences are put in bins by their
top probability, and ECE is the sentence-weighted mean of |accuracy - mean confidence| over
the bins. Reports show it before and after, on the test sentences, with a reliability plot.
"""

import numpy as np
import torch
from matplotlib.figure import Figure

BINS = 10


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of ``labels``.

    A one-dimensional, convex problem in log-temperature: a golden-section search finds it
    to 4 decimals without an optimiser's tuning.
    """
    logits_t = torch.as_tensor(logits, dtype=torch.float64)
    labels_t = torch.as_tensor(labels, dtype=torch.long)

    def nll(log_t: float) -> float:
        return float(torch.nn.functional.cross_entropy(logits_t / np.exp(log_t), labels_t))

    low, high = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    while high - low > 1e-6:
        if nll(a) < nll(b):
            high, b = b, a
            a = high - ratio * (high - low)
        else:
            low, a = a, b
            b = low + ratio * (high - low)
    return round(float(np.exp((low + high) / 2)), 4)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> list[dict]:
    """Per confidence bin: sentences, mean confidence and accuracy (empty bins left out)."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            rows.append({"low": float(low), "high": float(high), "sentences": int(inside.sum()),
                         "confidence": float(confidence[inside].mean()), "accuracy": float(correct[inside].mean())})
    return rows


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    rows = reliability(probs, labels, bins)
    total = sum(r["sentences"] for r in rows)
    return float(sum(r["sentences"] * abs(r["accuracy"] - r["confidence"]) for r in rows) / total)


def reliability_figure(before: list[dict], after: list[dict], title: str) -> Figure:
    """Accuracy against confidence per bin, before and after temperature scaling; the diagonal is perfect."""
    figure = Figure(figsize=(5, 5))
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="#888", linestyle="--", label="perfectly calibrated")
    for rows, name, marker in ((before, "raw", "o"), (after, "calibrated", "s")):
        axes.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], marker=marker, label=name)
    axes.set_xlabel("confidence (top probability)")
    axes.set_ylabel("accuracy")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.legend(loc="upper left")
    axes.set_title(title, parse_math=False)
    return figure

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
from scipy.optimize import minimize_scalar
from scipy.special import softmax as scipy_softmax

BINS = 10


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of ``labels``.

    A one-dimensional, convex problem in log-temperature: SciPy's bounded scalar minimiser
    (Brent's method) finds it without an optimiser's tuning.
    """
    logits_t = torch.as_tensor(logits, dtype=torch.float64)
    labels_t = torch.as_tensor(labels, dtype=torch.long)

    def nll(log_t: float) -> float:
        return float(torch.nn.functional.cross_entropy(logits_t / np.exp(log_t), labels_t))

    best = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-6})
    return round(float(np.exp(best.x)), 4)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Label probabilities of each row of logits divided by ``temperature``."""
    return scipy_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)


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

"""Temperature scaling and calibration error on constructed logits whose answers are known by hand."""

import math

import numpy as np
import pytest

from train.modeling.calibration import expected_calibration_error, fit_temperature, reliability, softmax


def test_the_fitted_temperature_is_the_known_optimum():
    """Every sentence has logits (a, 0) and a share p is of class 0: the best temperature makes
    softmax(a / T) give exactly p, so T = a / logit(p)."""
    a, p, n = 4.0, 0.8, 1000
    logits = np.tile([a, 0.0], (n, 1))
    labels = np.array([0] * int(p * n) + [1] * (n - int(p * n)))
    assert fit_temperature(logits, labels) == pytest.approx(a / math.log(p / (1 - p)), abs=1e-3)
    # an under-confident model gets a temperature below 1
    assert fit_temperature(np.tile([0.5, 0.0], (n, 1)), np.zeros(n, dtype=int)) < 1


def test_temperature_keeps_every_label():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 4)) * 3
    assert (softmax(logits, 2.5).argmax(axis=1) == softmax(logits).argmax(axis=1)).all()
    assert softmax(logits, 2.5).sum(axis=1) == pytest.approx(np.ones(200))


def test_expected_calibration_error_by_hand():
    # 4 sentences at confidence 0.9 (3 right) and 6 at 0.6 (3 right):
    # ECE = 0.4 * |0.75 - 0.9| + 0.6 * |0.5 - 0.6| = 0.06 + 0.06
    probs = np.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 6)
    labels = np.array([0, 0, 0, 1] + [0, 0, 0, 1, 1, 1])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.12)
    bins = reliability(probs, labels)
    assert [(b["sentences"], b["accuracy"]) for b in bins] == [(6, 0.5), (4, 0.75)]

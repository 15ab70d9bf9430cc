"""Macro-F1 from label lists with numpy: the number every stage scores with.

The dataset build (the rules' and the teacher's scores), training (model selection) and the
reports all need it, thousands of times in the bootstrap: counting a confusion matrix with
numpy gives the same number as the ``evaluate`` module of :mod:`train.reporting.evaluation`
(the tests check it) far faster. Macro-F1 is the unweighted mean of per-class F1 over the
labels that occur in the gold labels or the predictions (scikit-learn's ``average="macro"``),
so a bootstrap sample that happens to miss a rare class is not scored 0 on it.
"""

from collections.abc import Sequence

import numpy as np

from .labels import LABEL2ID, LABELS

N_LABELS = len(LABELS)


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Macro-F1 of one set of predictions (same number as ``compute_metrics(...)["macro_f1"]``)."""
    check_lengths(gold, pred)
    counts = np.bincount(pair_codes(gold, pred), minlength=N_LABELS * N_LABELS)
    return float(macro_f1_from_confusions(counts.reshape(1, N_LABELS, N_LABELS))[0])


def check_lengths(gold: Sequence[str], pred: Sequence[str]) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    if len(gold) == 0:
        raise ValueError("no sentences to evaluate")


def pair_codes(gold: Sequence[str], pred: Sequence[str]) -> np.ndarray:
    """One integer per sentence, ``gold_id * N_LABELS + pred_id``: its cell of the confusion matrix."""
    gold_ids = np.array([LABEL2ID[label] for label in gold])
    pred_ids = np.array([LABEL2ID[label] for label in pred])
    return gold_ids * N_LABELS + pred_ids


def macro_f1_from_confusions(confusions: np.ndarray) -> np.ndarray:
    """Macro-F1 of each confusion matrix in a ``(k, labels, labels)`` stack (rows gold, columns predicted)."""
    true_positives = np.diagonal(confusions, axis1=1, axis2=2)
    gold_totals = confusions.sum(axis=2)
    pred_totals = confusions.sum(axis=1)
    denominators = gold_totals + pred_totals  # 2 TP + FP + FN
    present = denominators > 0
    f1 = np.divide(2 * true_positives, denominators, out=np.zeros(confusions.shape[:2]), where=present)
    return f1.sum(axis=1) / present.sum(axis=1)

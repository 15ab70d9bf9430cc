"""Scores for one set of predictions: metrics, macro-F1 and its bootstrap interval.

The full metrics come from the ``evaluate`` module shipped in ``train/metrics`` (loaded by
path, so it works offline). Bootstrap loops need macro-F1 thousands of times, which is too
slow through ``evaluate``: :func:`train.core.metrics.macro_f1` computes the same number from
a confusion matrix with numpy, and the tests check that both agree.
"""

import functools
import statistics
from collections.abc import Sequence
from pathlib import Path

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest, chi2

from ..core.labels import LABELS
from ..core.metrics import N_LABELS, check_lengths, macro_f1, macro_f1_from_confusions, pair_codes

METRIC_PATH = Path(__file__).parent / "metrics" / "kalimat_classification"


@functools.lru_cache(maxsize=1)
def _classification_metric():
    # Imported here: `evaluate` takes seconds to import, and the report comparison tool,
    # which only needs macro_f1, should not pay for it.
    import evaluate

    return evaluate.load(str(METRIC_PATH), keep_in_memory=True)


def compute_metrics(gold: Sequence[str], pred: Sequence[str]) -> dict:
    """The *Metrics* object of ``docs/report_schema.md``: accuracy, macro-F1, per class, confusion matrix."""
    check_lengths(gold, pred)
    return _classification_metric().compute(
        predictions=list(pred), references=list(gold), labels=list(LABELS)
    )


def bootstrap_macro_f1(
    gold: Sequence[str], preds: Sequence[Sequence[str]], seed: int, n_resamples: int = 1000
) -> np.ndarray:
    """Macro-F1 of several prediction sets on the same bootstrap resamples of the sentences.

    Returns an array of shape ``(n_resamples, len(preds))``. Resampling all prediction
    sets with the same indices is what makes a paired comparison between them possible.
    """
    for pred in preds:
        check_lengths(gold, pred)
    rng = np.random.default_rng(seed)
    n = len(gold)
    codes_of_sets = np.stack([pair_codes(gold, pred) for pred in preds])  # (sets, n)
    scores = np.empty((n_resamples, len(preds)))
    # Resample in chunks so memory stays bounded for large prediction files.
    chunk = max(1, 2_000_000 // max(n, 1))
    for start in range(0, n_resamples, chunk):
        stop = min(start + chunk, n_resamples)
        indices = rng.integers(0, n, size=(stop - start, n))
        for j in range(len(preds)):
            codes = codes_of_sets[j][indices] + np.arange(stop - start)[:, None] * N_LABELS * N_LABELS
            counts = np.bincount(codes.ravel(), minlength=(stop - start) * N_LABELS * N_LABELS)
            scores[start:stop, j] = macro_f1_from_confusions(counts.reshape(-1, N_LABELS, N_LABELS))
    return scores


def macro_f1_interval(gold: Sequence[str], pred: Sequence[str], seed: int, n_resamples: int = 1000) -> list[float]:
    """Bootstrap 95% percentile interval of macro-F1, resampling sentences with replacement."""
    scores = bootstrap_macro_f1(gold, [pred], seed=seed, n_resamples=n_resamples)[:, 0]
    low, high = np.percentile(scores, [2.5, 97.5])
    return [float(low), float(high)]


def scored(gold: Sequence[str], pred: Sequence[str], seed: int) -> dict:
    """*Metrics* plus ``macro_f1_interval``: how every system in a report is scored."""
    return compute_metrics(gold, pred) | {"macro_f1_interval": macro_f1_interval(gold, pred, seed=seed)}


def summarize_cv(records: Sequence[dict], seed: int) -> dict:
    """The report's ``cv`` object from the out-of-fold prediction records (each with ``fold``).

    One estimate, one interval: ``macro_f1`` is the macro-F1 of the pooled out-of-fold
    predictions (every labeled sentence predicted once, by the fold that did not train on
    it) and ``macro_f1_interval`` its bootstrap interval over those same sentences.
    ``per_fold`` holds each fold's *Metrics* with its ``articles``, and ``macro_f1_fold_sd``
    only shows how much single folds scatter around the estimate.
    """
    folds = sorted({record["fold"] for record in records})
    if len(folds) < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {len(folds)}")
    per_fold = []
    for fold in folds:
        rows = [record for record in records if record["fold"] == fold]
        metrics = compute_metrics([r["gold"] for r in rows], [r["label"] for r in rows])
        per_fold.append(metrics | {"fold": fold, "articles": sorted({str(r["article_id"]) for r in rows})})
    gold, pred = [r["gold"] for r in records], [r["label"] for r in records]
    return {
        "folds": len(per_fold),
        "per_fold": per_fold,
        "macro_f1": macro_f1(gold, pred),
        "macro_f1_interval": macro_f1_interval(gold, pred, seed=seed),
        "macro_f1_fold_sd": statistics.stdev(fold["macro_f1"] for fold in per_fold),
    }


# The paired comparison of two prediction sets on the same sentences (kalimat-compare, reports).
ALPHA = 0.05
N_RESAMPLES = 1000
SEED = 0
EXACT_MCNEMAR_BELOW = 25


@dataclass(frozen=True)
class Paired:
    """The paired comparison of a run against a baseline, as reports and kalimat-compare show it."""

    delta: float  # macro-F1 of the run minus the baseline's
    delta_interval: list[float]  # its 95% bootstrap interval
    bootstrap_p: float
    fixed: int  # sentences the baseline gets wrong and the run right
    broken: int  # sentences the baseline gets right and the run wrong
    mcnemar_p: float
    mcnemar_method: str
    verdict: str  # better, worse or no significant difference


def paired_comparison(gold: Sequence[str], base_pred: Sequence[str], run_pred: Sequence[str]) -> Paired:
    """Is ``run_pred`` better than ``base_pred`` on these sentences, or only different by chance?

    A paired bootstrap of the macro-F1 difference (the same resamples for both) and
    McNemar's test on the sentences exactly one of them gets right (exact binomial below
    :data:`EXACT_MCNEMAR_BELOW` such sentences, continuity-corrected chi-square above). The
    verdict is *better* or *worse* only when both tests give p < :data:`ALPHA` in the same
    direction, else *no significant difference*.
    """
    scores = bootstrap_macro_f1(gold, [base_pred, run_pred], seed=SEED, n_resamples=N_RESAMPLES)
    differences = scores[:, 1] - scores[:, 0]
    delta = macro_f1(gold, run_pred) - macro_f1(gold, base_pred)
    # Two-sided percentile-bootstrap p-value, with the +1 that keeps it from claiming p = 0.
    extreme = min(np.sum(differences <= 0), np.sum(differences >= 0))
    bootstrap_p = min(1.0, 2 * (extreme + 1) / (N_RESAMPLES + 1))
    base_right = np.array(gold) == np.array(base_pred)
    run_right = np.array(gold) == np.array(run_pred)
    fixed = int(np.sum(~base_right & run_right))
    broken = int(np.sum(base_right & ~run_right))
    mcnemar_p, method = _mcnemar(fixed, broken)
    significant = bootstrap_p < ALPHA and mcnemar_p < ALPHA
    if significant and delta > 0 and fixed > broken:
        verdict = "better"
    elif significant and delta < 0 and fixed < broken:
        verdict = "worse"
    else:
        verdict = "no significant difference"
    low, high = np.percentile(differences, [2.5, 97.5])
    return Paired(float(delta), [float(low), float(high)], float(bootstrap_p), fixed, broken, mcnemar_p, method, verdict)


def _mcnemar(fixed: int, broken: int) -> tuple[float, str]:
    disagreements = fixed + broken
    if disagreements == 0:
        return 1.0, "no disagreements"
    if disagreements < EXACT_MCNEMAR_BELOW:
        return float(binomtest(fixed, disagreements, 0.5).pvalue), "exact"
    statistic = (abs(fixed - broken) - 1) ** 2 / disagreements
    return float(chi2.sf(statistic, df=1)), "chi-square"



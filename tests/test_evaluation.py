import random

import pytest

from train.core.labels import LABELS
from train.core.metrics import macro_f1
from train.reporting.evaluation import bootstrap_macro_f1, compute_metrics, macro_f1_interval, summarize_cv

QUOTE, OPINION, CLAIM, BACKGROUND = "quote", "opinion", "claim", "background"


def random_labels(n, seed, labels=LABELS):
    rng = random.Random(seed)
    return [rng.choice(labels) for _ in range(n)]


def test_metrics_of_a_hand_computed_example():
    gold = [QUOTE, QUOTE, QUOTE, OPINION, OPINION, CLAIM, BACKGROUND, BACKGROUND]
    pred = [QUOTE, QUOTE, CLAIM, OPINION, CLAIM, CLAIM, BACKGROUND, QUOTE]
    metrics = compute_metrics(gold, pred)

    # quote: tp 2, fp 1, fn 1 -> p 2/3, r 2/3; opinion: tp 1, fp 0, fn 1 -> p 1, r 1/2;
    # claim: tp 1, fp 2, fn 0 -> p 1/3, r 1; background: tp 1, fp 0, fn 1 -> p 1, r 1/2.
    assert metrics["accuracy"] == pytest.approx(5 / 8)
    quote = {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3}
    assert metrics["per_class"][QUOTE] == pytest.approx(quote)
    assert metrics["per_class"][CLAIM] == pytest.approx({"precision": 1 / 3, "recall": 1.0, "f1": 0.5, "support": 1})
    assert metrics["per_class"][OPINION]["f1"] == pytest.approx(2 / 3)
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0.5 + 2 / 3) / 4)
    assert metrics["confusion_matrix"]["labels"] == list(LABELS)
    assert metrics["confusion_matrix"]["matrix"] == [
        [2, 0, 1, 0],
        [0, 1, 1, 0],
        [0, 0, 1, 0],
        [1, 0, 0, 1],
    ]


@pytest.mark.parametrize("seed", range(5))
def test_fast_macro_f1_agrees_with_compute_metrics(seed):
    # Seeds 3 and 4 leave labels out of gold or predictions: macro-F1 averages over present labels only.
    labels = LABELS if seed < 3 else LABELS[: seed - 1]
    gold = random_labels(50, seed, labels)
    pred = random_labels(50, seed + 100, LABELS[1:] if seed == 4 else labels)
    assert macro_f1(gold, pred) == pytest.approx(compute_metrics(gold, pred)["macro_f1"])


def test_macro_f1_ignores_labels_absent_from_gold_and_predictions():
    gold = [QUOTE, QUOTE, CLAIM, CLAIM]
    pred = [QUOTE, CLAIM, CLAIM, CLAIM]
    assert macro_f1(gold, pred) == pytest.approx((2 / 3 + 0.8) / 2)


def test_bootstrap_interval_contains_the_estimate_and_is_reproducible():
    gold = random_labels(300, seed=3)
    pred = [g if i % 4 else random_labels(1, seed=i)[0] for i, g in enumerate(gold)]
    low, high = macro_f1_interval(gold, pred, seed=7)
    assert low < macro_f1(gold, pred) < high
    assert macro_f1_interval(gold, pred, seed=7) == [low, high]
    assert macro_f1_interval(gold, pred, seed=8) != [low, high]


def test_bootstrap_resamples_the_sentences_the_same_way_for_every_prediction_set():
    gold = random_labels(120, seed=1)
    pred = [g if i % 3 else random_labels(1, seed=i)[0] for i, g in enumerate(gold)]
    scores = bootstrap_macro_f1(gold, [pred, gold, pred], seed=11, n_resamples=200)
    assert scores.shape == (200, 3)
    assert (scores[:, 1] == 1.0).all()  # the gold labels themselves score 1 on every resample
    assert (scores[:, 0] == scores[:, 2]).all()  # paired: the same sentences for each set in a resample
    assert len(set(scores[:, 0].round(6))) > 50  # and a different draw of them each time
    assert abs(scores[:, 0].mean() - macro_f1(gold, pred)) < 0.02  # centred near the estimate


def test_summarize_cv():
    gold, pred = random_labels(80, seed=4), random_labels(80, seed=5)
    records = [{"article_id": f"a{i // 8}", "gold": g, "label": p, "fold": i % 2}
               for i, (g, p) in enumerate(zip(gold, pred))]
    cv = summarize_cv(records, seed=0)
    scores = [macro_f1(gold[i::2], pred[i::2]) for i in range(2)]
    assert cv["folds"] == 2 and [f["macro_f1"] for f in cv["per_fold"]] == pytest.approx(scores)
    assert cv["per_fold"][0]["articles"] == sorted({f"a{i // 8}" for i in range(0, 80, 2)})
    # One estimate: the pooled out-of-fold macro-F1, not the mean of the folds' scores.
    assert cv["macro_f1"] == macro_f1(gold, pred) != pytest.approx(sum(scores) / 2)
    low, high = cv["macro_f1_interval"]
    assert low < cv["macro_f1"] < high
    assert cv["macro_f1_fold_sd"] == pytest.approx(abs(scores[0] - scores[1]) / 2 ** 0.5)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="3 gold labels but 2 predictions"):
        macro_f1([QUOTE] * 3, [QUOTE] * 2)

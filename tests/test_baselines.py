import random

import pytest

from train.baselines import run_baselines
from train.errors import KalimatError
from train.evaluation import compute_metrics

# Each label has its own cue words, so a bag of n-grams separates them perfectly.
CUES = {
    "quote": ["kata", "ujarnya", "tuturnya"],
    "opinion": ["sebaiknya", "seharusnya", "menurut saya"],
    "claim": ["persen", "miliar", "meningkat"],
    "background": ["pada tahun", "didirikan", "terletak"],
}
FILLER = ["pemerintah", "warga", "kota", "jakarta", "proyek", "pekan", "lalu", "itu", "ini", "baru"]


def toy_sentences(counts: dict, seed: int):
    rng = random.Random(seed)
    texts, labels = [], []
    for label, count in counts.items():
        for _ in range(count):
            words = rng.sample(FILLER, 4) + [rng.choice(CUES[label])]
            rng.shuffle(words)
            texts.append(" ".join(words) + ".")
            labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def toy():
    train_texts, train_labels = toy_sentences({"quote": 15, "opinion": 15, "claim": 40, "background": 15}, seed=0)
    eval_texts, eval_labels = toy_sentences({"quote": 8, "opinion": 8, "claim": 8, "background": 8}, seed=1)
    weak = ["quote" if label == "quote" else "background" for label in eval_labels]
    return train_texts, train_labels, eval_texts, eval_labels, weak


def test_baselines(toy):
    train_texts, train_labels, eval_texts, eval_labels, weak = toy
    results = run_baselines(train_texts, train_labels, eval_texts, eval_labels, weak, seed=0)
    assert set(results) == {"majority", "weak_rules", "tfidf_logreg"}

    majority = results["majority"]
    claim_column = majority["confusion_matrix"]["labels"].index("claim")
    assert all(sum(row) == row[claim_column] for row in majority["confusion_matrix"]["matrix"])
    assert majority["accuracy"] == pytest.approx(0.25)

    weak_rules = results["weak_rules"]
    assert {k: v for k, v in weak_rules.items() if k != "macro_f1_interval"} == compute_metrics(eval_labels, weak)

    assert results["tfidf_logreg"]["macro_f1"] > 0.9 > majority["macro_f1"]
    for scores in results.values():
        low, high = scores["macro_f1_interval"]
        assert low <= scores["macro_f1"] <= high


def test_baselines_are_deterministic(toy):
    assert run_baselines(*toy, seed=3) == run_baselines(*toy, seed=3)


def test_tfidf_needs_two_labels():
    with pytest.raises(KalimatError, match="at least two labels"):
        run_baselines(["a b", "c d"], ["claim", "claim"], ["a"], ["claim"], ["claim"], seed=0)

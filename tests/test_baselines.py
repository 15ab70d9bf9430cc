import random

import datasets
import pytest

from train.core.errors import KalimatError
from train.core.labels import LABELS
from train.modeling.training import Phase
from train.pipeline import _baselines
from train.reporting.baselines import baseline_predictions

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
    results = baseline_predictions(train_texts, train_labels, eval_texts, weak, seed=0)
    assert set(results) == {"majority", "weak_rules", "tfidf_logreg"}
    assert results["majority"] == ["claim"] * len(eval_texts)  # the most frequent training label
    assert results["weak_rules"] == weak
    tfidf_correct = sum(p == g for p, g in zip(results["tfidf_logreg"], eval_labels))
    assert tfidf_correct / len(eval_labels) > 0.9


def test_tfidf_needs_two_labels():
    with pytest.raises(KalimatError, match="at least two labels"):
        baseline_predictions(["a b", "c d"], ["claim", "claim"], ["a"], ["claim"], seed=0)


def test_the_baselines_of_a_run_learn_from_the_human_labels_only(toy):
    # Ten times as many weak sentences, every one labelled opinion: a baseline that learned
    # from them would answer opinion almost everywhere.
    train_texts, train_labels, eval_texts, eval_labels, weak = toy
    weak_texts, _ = toy_sentences({"quote": 150, "opinion": 150, "claim": 400, "background": 150}, seed=2)

    def rows(texts, labels, sources, weak_labels):
        return datasets.Dataset.from_dict({
            "text": texts, "label": [LABELS.index(label) for label in labels],
            "label_source": sources, "weak_label": weak_labels, "article_id": ["a"] * len(texts)})

    train = rows(train_texts + weak_texts, train_labels + ["opinion"] * len(weak_texts),
                 ["gold"] * len(train_texts) + ["weak"] * len(weak_texts), ["claim"] * (len(train_texts) + len(weak_texts)))
    test = rows(eval_texts, eval_labels, ["gold"] * len(eval_texts), weak)
    results = _baselines(Phase("final", train, test, test), seed=0)
    assert results["majority"] == ["claim"] * len(eval_texts)
    assert sum(p == g for p, g in zip(results["tfidf_logreg"], eval_labels)) / len(eval_labels) > 0.9

"""Cheap baselines scored on the same sentences as the model.

A fine-tuned transformer is only worth its training and serving cost if it clearly beats
what costs nothing: always answering the most frequent label, the project's own labeling
rules, and a linear model on TF-IDF features. Every report carries these three next to the
model's score.
"""

from collections import Counter
from collections.abc import Sequence

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from ..core.errors import KalimatError
from ..data.teacher import tfidf_features


def baseline_predictions(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    eval_texts: Sequence[str],
    eval_weak_labels: Sequence[str],
    seed: int,
) -> dict[str, list[str]]:
    """The three baselines' labels for the evaluation sentences.

    ``eval_weak_labels`` holds, for each evaluation sentence, the label the project's
    labeling functions voted for (``train.data.weak_labels.vote``), so ``weak_rules`` shows
    what the rules alone achieve on sentences a human labeled.

    Returns ``{"majority": [...], "weak_rules": [...], "tfidf_logreg": [...]}``; the caller
    scores them exactly like the model (and can pool them over cross-validation folds).
    """
    majority_label = Counter(train_labels).most_common(1)[0][0]
    return {
        "majority": [majority_label] * len(eval_texts),
        "weak_rules": list(eval_weak_labels),
        "tfidf_logreg": _tfidf_logreg(train_texts, train_labels, seed).predict(list(eval_texts)).tolist(),
    }


def _tfidf_logreg(texts: Sequence[str], labels: Sequence[str], seed: int):
    """A balanced logistic regression on :func:`tfidf_features`."""
    if len(set(labels)) < 2:
        raise KalimatError(
            f"the tfidf_logreg baseline needs at least two labels in the training data, found {sorted(set(labels))}; "
            "add labelled sentences of other roles"
        )
    classifier = LogisticRegression(class_weight="balanced", max_iter=2000, random_state=seed)
    model = make_pipeline(tfidf_features(), classifier)
    model.fit(list(texts), list(labels))
    return model

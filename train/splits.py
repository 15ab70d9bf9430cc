"""Article-grouped splits and cross-validation folds.

Sentences of one article share a topic, speakers and wording, so a sentence-level split
would let the model see the test article while training. Every split here is by article:
no article is in two splits, and the same seed always gives the same assignment.
"""

import random

from .errors import KalimatError


def _shuffled(article_ids, seed: int) -> list[str]:
    ids = sorted(set(article_ids))
    random.Random(seed).shuffle(ids)
    return ids


def assign_splits(article_ids, validation: float, test: float, seed: int) -> dict[str, str]:
    """Map each article to ``train``, ``validation`` or ``test``.

    Each of validation and test gets ``round(fraction * n)`` articles, at least one (training
    stops early on the validation articles and is scored on the test ones), and train keeps
    at least one.
    """
    fractions = all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in (validation, test))
    if not (fractions and 0 < validation < 1 and 0 < test < 1 and validation + test < 1):
        raise KalimatError(
            f"data.split: validation={validation} and test={test} must be fractions in (0, 1) "
            "summing to less than 1, e.g. data.split.validation=0.2 data.split.test=0.2"
        )
    ids = _shuffled(article_ids, seed)
    n_test, n_val = (max(1, round(f * len(ids))) for f in (test, validation))
    if n_test + n_val >= len(ids):
        raise KalimatError(
            f"data.split: {len(ids)} articles are too few for a train, a validation and a test "
            "article; add articles to data.sources"
        )
    names = ["test"] * n_test + ["validation"] * n_val
    return {aid: names[i] if i < len(names) else "train" for i, aid in enumerate(ids)}


def assign_folds(article_ids, k: int, seed: int, key: str = "cv.folds") -> dict[str, int]:
    """Map each article to one of ``k`` folds (dealt round-robin after a seeded shuffle).

    With ``k`` or fewer articles every article is its own fold: leave-one-article-out.
    Each fold needs an article to test on, one to stop early on and one to train on, so
    ``k`` is at least 3. ``key`` names the setting in errors.
    """
    if not isinstance(k, int) or k < 3:
        raise KalimatError(f"{key}={k}: cross-validation needs at least 3 folds; set {key}=3 or more")
    ids = _shuffled(article_ids, seed)
    return {aid: i % k for i, aid in enumerate(ids)}

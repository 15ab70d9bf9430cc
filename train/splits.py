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

    Each of validation and test gets ``round(fraction * n)`` articles, at least one while
    the fraction is positive, and train keeps at least one.
    """
    if not (0 <= validation < 1 and 0 <= test < 1 and validation + test < 1):
        raise KalimatError(
            f"data.split: validation={validation} and test={test} must be fractions in [0, 1) "
            "summing to less than 1"
        )
    ids = _shuffled(article_ids, seed)
    sizes = [max(1, round(f * len(ids))) if f > 0 else 0 for f in (test, validation)]
    if sum(sizes) >= len(ids):
        raise KalimatError(
            f"data.split: {len(ids)} articles are too few for a train, validation and test "
            "split; add articles or set data.split.validation=0"
        )
    n_test, n_val = sizes
    names = ["test"] * n_test + ["validation"] * n_val
    return {aid: names[i] if i < len(names) else "train" for i, aid in enumerate(ids)}


def assign_folds(article_ids, k: int, seed: int) -> dict[str, int]:
    """Map each article to one of ``k`` folds (dealt round-robin after a seeded shuffle).

    With ``k`` or fewer articles every article is its own fold: leave-one-article-out.
    """
    if k < 2:
        raise KalimatError(f"cross-validation needs at least 2 folds, got {k}; set cv.folds=2 or more")
    ids = _shuffled(article_ids, seed)
    return {aid: i % k for i, aid in enumerate(ids)}

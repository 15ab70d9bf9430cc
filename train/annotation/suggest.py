"""What to annotate next: unannotated articles ranked by how much the model would learn from them.

Pool-based active learning. The current model labels every sentence of every pool article;
an article's **uncertainty** is the mean entropy of its sentences' label distributions (a
sentence the model cannot place carries more information once labeled). Uncertainty alone
piles up one kind of article (one outlet's house style, one section), so the default
strategy, **balanced**, deals the ranked articles round-robin over their (outlet, section)
groups, most uncertain first within each. ``random`` is the baseline any strategy must beat;
``scripts/simulate_active_learning.py`` measures all three on the gold corpus.

No active-learning library is used: the libraries (small-text, scikit-activeml, modAL) wrap
their own training loops, while here the ranking is entropy and a round-robin over an
export's predictions.
"""

import random
from collections import defaultdict

import numpy as np

STRATEGIES = ("balanced", "uncertainty", "random")


def entropy(probabilities: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each row of label probabilities."""
    p = np.clip(probabilities, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def rank(articles: list[dict], strategy: str, seed: int = 0) -> list[dict]:
    """``articles`` (each with ``uncertainty`` and ``group``) in the order the strategy picks them."""
    if strategy == "random":
        order = list(articles)
        random.Random(seed).shuffle(order)
        return order
    by_uncertainty = sorted(articles, key=lambda a: (-a["uncertainty"], a["id"]))
    if strategy == "uncertainty":
        return by_uncertainty
    groups = defaultdict(list)
    for article in by_uncertainty:
        groups[article["group"]].append(article)
    # Round-robin over the groups, the group of the most uncertain remaining article first.
    order, queues = [], sorted(groups.values(), key=lambda q: (-q[0]["uncertainty"], q[0]["id"]))
    while queues:
        order += [queue.pop(0) for queue in queues]
        queues = sorted((q for q in queues if q), key=lambda q: (-q[0]["uncertainty"], q[0]["id"]))
    return order

"""Article-grouped, stratified splits and cross-validation folds.

Sentences of one article share a topic, speakers and wording, so a sentence-level split
would let the model see the test article while training. Every split here is by article
(no article is in two splits) and stratified by the article's category and its sentences'
gold labels (scikit-learn's ``StratifiedGroupKFold``), so sport, technology and
entertainment, and the rare labels, are in every split in about their share.

Only gold-labeled articles are split: an article with weak labels only is never scored, so
it always trains. The same articles, labels and seed always give the same assignment,
whatever order the articles come in.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from ..core.errors import KalimatError


@dataclass(frozen=True)
class GoldArticle:
    """What stratification needs of an article: its category and its sentences' gold labels."""

    id: str
    category: str
    labels: tuple[str, ...]


def article_folds(articles: list[GoldArticle], k: int, seed: int) -> dict[str, int]:
    """Map each article to one of ``k`` folds, grouped by article and stratified by category and label.

    With ``k`` or fewer articles every article is its own fold (leave-one-article-out).
    """
    ordered = sorted(articles, key=lambda a: a.id)
    if len(ordered) <= k:
        return {a.id: i for i, a in enumerate(ordered)}
    groups = [a.id for a in ordered for _ in a.labels]
    strata = [f"{a.category}|{label}" for a in ordered for label in a.labels]
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    fold_of = {}
    for fold, (_, test_rows) in enumerate(splitter.split(np.zeros(len(groups)), strata, groups)):
        fold_of.update({groups[row]: fold for row in test_rows})
    return fold_of


def _check_fractions(validation, test) -> None:
    fractions = all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in (validation, test))
    if not (fractions and 0 < validation < 1 and 0 < test < 1 and validation + test < 1):
        raise KalimatError(
            f"data.split: validation={validation} and test={test} must be fractions in (0, 1) "
            "summing to less than 1, e.g. data.split.validation=0.15 data.split.test=0.2"
        )


def _share(articles: list[GoldArticle], fraction: float, seed: int) -> set[str]:
    """About ``fraction`` of the articles (one stratified fold of ``round(1 / fraction)``), at least one."""
    k = min(len(articles), max(2, round(1 / fraction)))
    folds = article_folds(articles, k, seed)
    return {aid for aid, fold in folds.items() if fold == 0}


def assign_splits(articles: list[GoldArticle], validation: float, test: float, seed: int,
                  fixed_test: set[str] | None = None) -> dict[str, str]:
    """Map each gold-labeled article to ``train``, ``validation`` or ``test``.

    The test articles are ``fixed_test`` when given (a committed list, so the test set stays
    the same however the corpus grows), else drawn first, as one stratified fold of about
    ``test`` of the articles. Validation is drawn the same way from the rest, so it holds
    about ``validation`` of all articles. Each gets at least one article (training stops
    early on validation and is scored on test) and train keeps at least one.
    """
    _check_fractions(validation, test)
    if len(articles) < 3:
        raise KalimatError(
            f"data.split: {len(articles)} gold-labeled articles are too few for a train, a validation "
            "and a test article; annotate more articles"
        )
    if fixed_test is None:
        test_ids = _share(articles, test, seed)
        share_of_rest = validation / (1 - test)
    else:
        test_ids = {a.id for a in articles} & fixed_test
        if not test_ids or len(test_ids) >= len(articles) - 1:
            raise KalimatError(f"data.split.test_articles: {len(test_ids)} of the {len(articles)} gold-labeled "
                               "articles are listed; list at least one and leave two to train and validate on")
        share_of_rest = min(validation * len(articles) / (len(articles) - len(test_ids)), 0.5)
    rest = [a for a in articles if a.id not in test_ids]
    validation_ids = _share(rest, share_of_rest, seed)
    if len(rest) - len(validation_ids) < 1:
        raise KalimatError(f"data.split: no article is left to train on; lower data.split.validation={validation}")
    return {a.id: "test" if a.id in test_ids else "validation" if a.id in validation_ids else "train" for a in articles}


def check_folds(k) -> None:
    """Each fold needs an article to test on, one to stop early on and one to train on."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 3:
        raise KalimatError(f"cv.folds={k}: cross-validation needs at least 3 folds; set cv.folds=3 or more")

"""Grouped splits and folds: no article in two places, reproducible from a seed."""

import pytest

from train.errors import KalimatError
from train.splits import assign_folds, assign_splits

ARTICLES = [f"a{i:02d}" for i in range(20)]


def test_splits_cover_every_article_once_with_the_asked_sizes():
    split = assign_splits(ARTICLES, validation=0.2, test=0.1, seed=3)
    assert set(split) == set(ARTICLES)
    sizes = {name: sum(v == name for v in split.values()) for name in ("train", "validation", "test")}
    assert sizes == {"train": 14, "validation": 4, "test": 2}


def test_splits_are_reproducible_and_depend_on_the_seed():
    first = assign_splits(ARTICLES, 0.2, 0.2, seed=1)
    assert first == assign_splits(list(reversed(ARTICLES)), 0.2, 0.2, seed=1)
    assert first != assign_splits(ARTICLES, 0.2, 0.2, seed=2)


def test_few_articles_still_get_one_validation_and_one_test_article():
    split = assign_splits(["x", "y", "z"], 0.2, 0.2, seed=0)
    assert sorted(split.values()) == ["test", "train", "validation"]
    with pytest.raises(KalimatError, match="too few"):
        assign_splits(["x", "y"], 0.2, 0.2, seed=0)
    with pytest.raises(KalimatError, match="fractions"):
        assign_splits(ARTICLES, 0.6, 0.5, seed=0)
    with pytest.raises(KalimatError, match="fractions"):  # training needs validation articles
        assign_splits(ARTICLES, 0, 0.2, seed=0)


def test_folds_are_balanced_and_leave_one_article_out_when_few():
    folds = assign_folds(ARTICLES, k=4, seed=5)
    assert sorted(list(folds.values()).count(f) for f in range(4)) == [5, 5, 5, 5]
    assert folds == assign_folds(ARTICLES, k=4, seed=5)
    few = assign_folds(["x", "y", "z"], k=5, seed=5)
    assert sorted(few.values()) == [0, 1, 2]
    with pytest.raises(KalimatError, match="^data.folds=2: .*at least 3 folds; set data.folds=3"):
        assign_folds(ARTICLES, k=2, seed=0, key="data.folds")

"""Grouped, stratified splits and folds: no article in two places, every category everywhere, reproducible."""

import random
from collections import Counter

import pytest

from train.core.errors import KalimatError
from train.data.splits import GoldArticle, article_folds, assign_splits, check_folds

CATEGORIES = ("tajuk utama", "olahraga", "teknologi", "hiburan")


def articles(n: int, seed: int = 0) -> list[GoldArticle]:
    """``n`` articles over four categories; one in ten holds the rare label."""
    rng = random.Random(seed)
    made = []
    for i in range(n):
        labels = [rng.choice(("claim", "background", "quote")) for _ in range(rng.randint(5, 20))]
        if i % 10 == 0:
            labels.append("opinion")
        made.append(GoldArticle(f"a{i:03d}", CATEGORIES[i % 4], tuple(labels)))
    return made


def test_splits_cover_every_article_once_with_about_the_asked_sizes():
    split = assign_splits(articles(200), validation=0.15, test=0.2, seed=3)
    assert len(split) == 200
    sizes = Counter(split.values())
    assert 36 <= sizes["test"] <= 44 and 26 <= sizes["validation"] <= 34
    assert sizes["train"] == 200 - sizes["test"] - sizes["validation"]


def test_every_category_and_the_rare_label_reach_every_split():
    items = articles(200)
    split = assign_splits(items, validation=0.15, test=0.2, seed=3)
    for name in ("train", "validation", "test"):
        chosen = [a for a in items if split[a.id] == name]
        assert {a.category for a in chosen} == set(CATEGORIES)
        assert any("opinion" in a.labels for a in chosen)
        # each category holds about its share (a quarter) of the split's articles
        shares = Counter(a.category for a in chosen)
        assert max(shares.values()) - min(shares.values()) <= max(3, len(chosen) // 8)


def test_splits_are_reproducible_whatever_the_order_and_depend_on_the_seed():
    items = articles(60)
    first = assign_splits(items, 0.2, 0.2, seed=1)
    assert first == assign_splits(list(reversed(items)), 0.2, 0.2, seed=1)
    assert first != assign_splits(items, 0.2, 0.2, seed=2)


def test_few_articles_still_get_one_validation_and_one_test_article():
    split = assign_splits(articles(3), 0.2, 0.2, seed=0)
    assert sorted(split.values()) == ["test", "train", "validation"]
    with pytest.raises(KalimatError, match="too few"):
        assign_splits(articles(2), 0.2, 0.2, seed=0)
    with pytest.raises(KalimatError, match="fractions"):
        assign_splits(articles(20), 0.6, 0.5, seed=0)
    with pytest.raises(KalimatError, match="fractions"):  # training needs validation articles
        assign_splits(articles(20), 0, 0.2, seed=0)


def test_folds_are_balanced_stratified_and_leave_one_article_out_when_few():
    items = articles(100)
    folds = article_folds(items, k=4, seed=5)
    assert set(folds) == {a.id for a in items}
    sizes = Counter(folds.values())
    assert sorted(sizes) == [0, 1, 2, 3] and max(sizes.values()) - min(sizes.values()) <= 6
    assert all({a.category for a in items if folds[a.id] == f} == set(CATEGORIES) for f in range(4))
    assert folds == article_folds(items, k=4, seed=5)
    assert sorted(article_folds(articles(3), k=5, seed=5).values()) == [0, 1, 2]
    with pytest.raises(KalimatError, match="^cv.folds=2: .*at least 3 folds; set cv.folds=3"):
        check_folds(2)


def test_a_fixed_test_list_is_the_test_set_whatever_else_changes():
    items = articles(120)
    fixed = {a.id for a in items[::6]}
    split = assign_splits(items, 0.15, 0.2, seed=3, fixed_test=fixed | {"not-built"})
    assert {aid for aid, s in split.items() if s == "test"} == fixed
    assert 14 <= Counter(split.values())["validation"] <= 22  # about 15% of all the articles
    grown = assign_splits(items + [GoldArticle("new", "olahraga", ("claim",))],
                          0.15, 0.2, seed=3, fixed_test=fixed)
    assert {aid for aid, s in grown.items() if s == "test"} == fixed
    with pytest.raises(KalimatError, match="test_articles: 0 of the 120"):
        assign_splits(items, 0.15, 0.2, seed=3, fixed_test={"elsewhere"})

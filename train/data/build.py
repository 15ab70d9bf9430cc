"""Build the labeled dataset's records: articles -> clean sentences -> gold and weak labels -> splits.

:func:`build_records` reads ``data.sources`` (annotated articles) and
``data.unlabeled_sources``, cleans and splits them exactly as ``kalimat-predict`` does,
matches the gold annotations, draws the splits and gives every sentence without a gold label
a weak one. :mod:`train.data.store` writes the result; :mod:`train.data.card` describes it.
"""

import random
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import KalimatError
from ..core.log import warn
from ..core.metrics import macro_f1
from ..core.settings import DataSettings
from .agreement import agreement, annotator_pairs
from .annotations import load_annotations, match_annotations
from .articles import Article, read_articles
from .context import neighbours
from .preprocess import Preprocessor
from .splits import GoldArticle, assign_splits
from .splitter import split_sentences
from .teacher import fit_teacher
from .weak_labels import fired_rules, vote


def _read(inputs, on_bad_file: str) -> list[Article]:
    """Read articles; bad and empty files fail the build or are skipped, as configured.

    An article without an outlet or a category of its own (a ``.txt`` file) takes the name
    of the input it came from for both: the seed articles are the outlet "seeds".
    """
    if on_bad_file not in ("fail", "skip"):
        raise KalimatError(f"data.on_bad_file={on_bad_file!r}; use fail or skip")
    skip = on_bad_file == "skip"
    articles = []
    for item in inputs:
        for article in read_articles([item], skip_bad=skip, warn=warn):
            if article.is_empty:
                message = f"{article.source}: empty article"
                if not skip:
                    raise KalimatError(f"{message}; remove it or set data.on_bad_file=skip")
                warn(f"skipped: {message}")
                continue
            article.outlet = article.outlet or Path(item).stem
            article.category = article.category or article.outlet
            articles.append(article)
    return articles


def _check_unique(articles: list[Article]) -> None:
    seen: dict[str, str] = {}
    for article in articles:
        if article.id in seen:
            raise KalimatError(
                f"article id {article.id!r} appears in {seen[article.id]} and {article.source}; "
                "give every article a unique id"
            )
        seen[article.id] = article.source


# Warnings of one kind printed in full; an empty or wrong annotations file would print thousands.
SHOWN_WARNINGS = 5


def _warn_some(messages: list[str], kind: str) -> None:
    for message in messages[:SHOWN_WARNINGS]:
        warn(message)
    if len(messages) > SHOWN_WARNINGS:
        warn(f"... and {len(messages) - SHOWN_WARNINGS} more {kind}")


def _report_matching(match, allow_unmatched: bool, allow_unlabeled: bool) -> None:
    _warn_some([f"{a.where}: no sentence of {a.article_id} reads {a.text[:70]!r}" for a in match.unmatched],
               "annotations that match no sentence")
    _warn_some([f"{article_id}: no annotation for sentence {text[:70]!r}" for article_id, text in match.unlabeled],
               "sentences without an annotation")
    problems = []
    if match.unmatched and not allow_unmatched:
        problems.append(f"{len(match.unmatched)} annotations match no sentence (fix their text, "
                        "or set data.allow_unmatched_annotations=true)")
    if match.unlabeled and not allow_unlabeled:
        problems.append(f"{len(match.unlabeled)} sentences of annotated articles have no annotation "
                        "(label them, or set data.allow_unlabeled_sentences=true to weak-label them)")
    if problems:
        raise KalimatError("; ".join(problems))


@dataclass
class Built:
    """A built dataset before it is written: the records, the cleaning log, annotator agreement, who gave weak
    labels, and, for the teacher, its score on the validation articles (so users see what its labels are worth)."""

    records: list[dict]
    removed: dict[str, list[str]]
    agreement: dict | None
    weak_labeler: str
    teacher: dict | None = None


def build_records(data: DataSettings, cleaning: dict) -> Built:
    """Every sentence as a record, the cleaning log (removed snippets per article), agreement.

    Sentences without a gold label get the rules' vote, or the teacher's label with
    ``data.weak_labeler=teacher`` (whose validation score the result then carries).
    """
    preprocessor = Preprocessor.from_config(cleaning)
    labeled = _read(data.sources, data.on_bad_file)
    unlabeled = _read(data.unlabeled_sources, data.on_bad_file)
    # An unlabeled corpus may hold the annotated articles too (IndoSum does): the same article (id
    # and text) is read once, from data.sources; another article under a taken id still fails below.
    labeled_keys = {_identity(a) for a in labeled}
    new = [a for a in unlabeled if _identity(a) not in labeled_keys]
    if len(new) < len(unlabeled):
        print(f"{len(unlabeled) - len(new)} articles of data.unlabeled_sources are also in data.sources: "
              "read once, from there")
    limit = data.max_unlabeled_articles
    unlabeled = new if limit is None else new[:limit]
    articles = labeled + unlabeled
    if not articles:
        raise KalimatError("no articles found in data.sources; point it at a folder of .txt files")
    _check_unique(articles)

    sentences, removed, left_out = {}, {}, {}
    for article in articles:
        split = preprocessor.split(article)
        sentences[article.id] = split.sentences
        removed[article.id] = [f"{line.text} ({line.reason})" for line in split.left_out] + split.stripped
        # An annotation may name a left-out line whole or sentence by sentence (annotated before it was left out).
        left_out[article.id] = {text for line in split.left_out for text in (line.text, *split_sentences(line.text))}

    annotations = load_annotations(data.annotations)
    match = match_annotations(sentences, annotations, {a.id for a in labeled}, left_out)
    _report_matching(match, data.allow_unmatched_annotations, data.allow_unlabeled_sentences)
    if match.left_out:
        print(f"{len(match.left_out)} annotations are of lines cleaning now leaves out as not prose "
              "(kept in the annotation files, not used; the dataset card lists the lines)")

    # Splits over the gold-labeled articles only; weak-only articles, and those of outlets
    # in data.split.train_only (the seeds, which the labeling functions were written from), always train.
    train_only = data.split.train_only
    gold_articles = []
    for article in articles:
        labels = [match.labels.get((article.id, index)) for index in range(len(sentences[article.id]))]
        if any(labels) and article.outlet not in train_only:
            gold_articles.append(GoldArticle(article.id, article.category, tuple(lab for lab in labels if lab)))
    split_of = assign_splits(gold_articles, data.split.validation, data.split.test, data.split.seed,
                             _fixed_test(data.split.test_articles))
    hidden = _gold_beyond(articles, sentences, split_of, data.gold_train_sentences, data.split.seed)
    records = []
    for article in articles:
        if article.id in hidden and data.gold_train_rest == "drop":
            continue
        texts = sentences[article.id]
        for index, (text, rules, (previous, following)) in enumerate(
            zip(texts, fired_rules(texts), neighbours(texts))
        ):
            gold = None if article.id in hidden else match.labels.get((article.id, index))
            weak = vote(rules)
            records.append({
                "article_id": article.id, "sentence_index": index, "text": text,
                "label": gold or weak, "label_source": "gold" if gold else "weak",
                "rules": rules, "weak_label": weak, "split": split_of.get(article.id, "train"),
                "outlet": article.outlet, "category": article.category,
                "previous": previous, "next": following,
            })
    teacher = _teacher_labels(records) if data.weak_labeler == "teacher" else None
    first, second, _ = annotator_pairs(a for a in annotations.values() if a.article_id in sentences)
    return Built(records, removed, agreement(first, second) if first else None, data.weak_labeler, teacher)


def _gold_beyond(articles: list[Article], sentences: dict, split_of: dict, limit: int | None, seed: int) -> set[str]:
    """The training articles whose gold labels are left unused: those beyond about ``limit`` gold sentences.

    For learning curves and quick recipes. Training articles are taken in a seeded order
    (always the same ones for the same seed, a smaller set inside a larger one) until ``limit``
    sentences; the seed articles always stay. Validation and test articles are never touched.
    """
    if limit is None:
        return set()
    train = [a for a in articles if split_of.get(a.id) == "train"]
    random.Random(seed).shuffle(train)
    kept = sum(len(sentences[a.id]) for a in articles if a.id not in split_of)  # the seeds: always gold
    beyond = set()
    for article in train:
        if kept >= limit:
            beyond.add(article.id)
        else:
            kept += len(sentences[article.id])
    return beyond


def _fixed_test(path) -> set[str] | None:
    """The article ids of ``data.split.test_articles`` (one a line, ``#`` starts a comment), or None."""
    if path is None:
        return None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise KalimatError(f"data.split.test_articles={path}: cannot read it ({err}); give a text file of "
                           "article ids, or null to draw the test articles") from None
    return {line.split("#")[0].strip() for line in lines} - {""}


def _identity(article: Article) -> tuple:
    return article.id, article.text, tuple(article.sentences or ())


def _teacher_labels(records: list[dict]) -> dict | None:
    """Relabel the weak sentences with the teacher fit on the gold training sentences (train/data/teacher.py).

    Returns the teacher's and the rules' macro-F1 on the gold validation sentences; None when
    there are no weak sentences to label or no validation sentences to score it on.
    """
    weak = [r for r in records if r["label_source"] == "weak"]
    train = [r for r in records if r["label_source"] == "gold" and r["split"] == "train"]
    if not weak:
        return None
    if len({r["label"] for r in train}) < 2:
        raise KalimatError("data.weak_labeler=teacher needs gold training sentences of at least two labels; "
                           "annotate more articles or use data.weak_labeler=rules")
    teacher = fit_teacher(train)
    for record, label in zip(weak, teacher.predict(weak)):
        record["label"] = str(label)
    validation = [r for r in records if r["label_source"] == "gold" and r["split"] == "validation"]
    if not validation:
        return None
    gold = [r["label"] for r in validation]
    return {"sentences": len(validation), "macro_f1": macro_f1(gold, list(teacher.predict(validation))),
            "rules_macro_f1": macro_f1(gold, [r["weak_label"] for r in validation])}

"""Build the labeled dataset: articles -> clean sentences -> gold and weak labels -> splits.

``python -m train.dataset`` (config ``configs/dataset.yaml``) writes ``data.output_dir``:

* ``dataset_dict/``: a ``datasets.DatasetDict`` (``train``, ``validation``, ``test``),
* ``sentences.jsonl``: one sentence a line, for reading and diffing,
* ``dataset_card.md``: counts, cleaning log, label sources, labeling-function quality,
* ``metadata.json``: name, content hash, and the fingerprint of the inputs it was built from.

The folder is replaced atomically, so an interrupted build leaves the previous dataset as
it was. Training calls :func:`ensure_dataset`, which rebuilds only when the fingerprint of
the inputs (articles, annotations, config, preprocessing code) changed or the folder is damaged.
"""

import hashlib
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import datasets
import hydra
from omegaconf import DictConfig, OmegaConf

from ..core import labels as labels_module
from ..core import paths  # also registers the ${kalimat_root:} resolver
from ..core.atomic import atomic_dir, write_json, write_jsonl, write_text
from ..core.errors import Interrupted, KalimatError, exit_on_error
from ..core.labels import LABELS
from ..core.overrides import check_overrides
from ..core.settings import BOOLEAN, PATH, PLAIN_NAME, as_written, check_settings
from ..core.metrics import macro_f1
from ..core.render import Heading, Paragraph, Table, to_markdown
from .agreement import agreement, annotator_pairs
from .annotations import load_annotations, match_annotations
from .articles import Article, expand_inputs, read_articles
from .context import neighbours
from .preprocess import Preprocessor
from .splits import GoldArticle, assign_splits
from .splitter import split_sentences
from .teacher import WEAK_LABELERS, fit_teacher
from .weak_labels import RULE_LABELS, RULE_NAMES, fired_rules, vote

SPLITS = ("train", "validation", "test")
FEATURES = datasets.Features({
    "article_id": datasets.Value("string"),
    "sentence_index": datasets.Value("int32"),
    "text": datasets.Value("string"),
    "label": datasets.ClassLabel(names=list(LABELS)),
    "label_source": datasets.Value("string"),
    "rules": datasets.Sequence(datasets.Value("string")),
    "weak_label": datasets.Value("string"),
    "split": datasets.Value("string"),
    "outlet": datasets.Value("string"),
    "category": datasets.Value("string"),
    "previous": datasets.Value("string"),
    "next": datasets.Value("string"),
})
# The data settings the build reads: (is it valid, what is expected), checked here for
# python -m train.dataset and by python -m train's config check before any pretraining.
DATA_SETTINGS = {
    "data.name": PLAIN_NAME,
    "paths.processed_dir": PATH,
    "data.output_dir": PATH,
    "data.weak_labeler": (lambda v: v in WEAK_LABELERS, "one of " + ", ".join(WEAK_LABELERS)),
    "data.max_unlabeled_articles": (
        lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0),
        "null (all of them) or a whole number >= 0",
    ),
    "data.split.seed": (lambda v: isinstance(v, int) and v >= 0, "a whole number >= 0"),
    "data.gold_train_sentences": (
        lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1),
        "null (every gold training sentence) or a whole number >= 1",
    ),
    "data.gold_train_rest": (lambda v: v in ("drop", "weak"), "drop or weak"),
    "data.allow_unmatched_annotations": BOOLEAN,
    "data.allow_unlabeled_sentences": BOOLEAN,
}
# Modules whose code decides what the dataset contains: a change to any of them rebuilds it.
_CODE = ("articles", "cleaning", "splitter", "quotes", "preprocess", "annotations", "agreement", "weak_labels",
         "context", "splits", "teacher", "build")


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _sources(data: DictConfig, key: str, what: str = "paths") -> list[str]:
    """``data.<key>`` as a list of strings (``what`` they are, for the message).

    A bare string would be read letter by letter (``train_only=seeds`` would match any outlet
    whose name holds those letters), and a number is no path or name.
    """
    value = OmegaConf.select(data, key)
    if not OmegaConf.is_list(value) or not all(isinstance(item, str) for item in value):
        example = value if isinstance(value, str) else "..."
        raise KalimatError(f"data.{key}={as_written(value)}: expected a list of {what}, e.g. data.{key}=[{example}]")
    return list(value)


def check_lists(cfg: DictConfig) -> None:
    """The data settings that are lists, checked with the others before any work (see :data:`DATA_SETTINGS`)."""
    for key in ("sources", "unlabeled_sources", "annotations"):
        _sources(cfg.data, key)
    _sources(cfg.data, "split.train_only", "outlet names")


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
        for article in read_articles([item], skip_bad=skip, warn=_warn):
            if article.is_empty:
                message = f"{article.source}: empty article"
                if not skip:
                    raise KalimatError(f"{message}; remove it or set data.on_bad_file=skip")
                _warn(f"skipped: {message}")
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


def input_fingerprint(cfg: DictConfig) -> str:
    """Hash of everything the dataset is built from, to tell when a rebuild is due."""
    digest = hashlib.sha256()
    settings = {key: OmegaConf.to_container(cfg[key], resolve=True) for key in ("data", "cleaning")}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    inputs = [*_sources(cfg.data, "sources"), *_sources(cfg.data, "unlabeled_sources")]
    files = [path for path, _ in expand_inputs(inputs) if path is not None]
    files += [Path(path) for path in _sources(cfg.data, "annotations")]
    if cfg.data.split.test_articles is not None:
        files.append(Path(cfg.data.split.test_articles))
    files += [Path(__file__).with_name(f"{name}.py") for name in _CODE]
    files.append(Path(labels_module.__file__))  # the label order decides what the stored integers mean
    for file in files:
        digest.update(str(file).encode())
        digest.update(_file_bytes(file))
    return digest.hexdigest()


def _file_bytes(file: Path) -> bytes:
    """A file's content for the fingerprint; an unreadable one is reported (or skipped) by the reading."""
    try:
        return file.read_bytes() if file.is_file() else b"<missing>"
    except OSError:
        return b"<unreadable>"


def content_hash(records: list[dict]) -> str:
    """Hash of the dataset's content: reports quote it, so runs on different data differ."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


# Warnings of one kind printed in full; an empty or wrong annotations file would print thousands.
SHOWN_WARNINGS = 5


def _warn_some(messages: list[str], kind: str) -> None:
    for message in messages[:SHOWN_WARNINGS]:
        _warn(message)
    if len(messages) > SHOWN_WARNINGS:
        _warn(f"... and {len(messages) - SHOWN_WARNINGS} more {kind}")


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


def rule_quality(records: list[dict]) -> list[dict]:
    """Per labeling function: coverage over all sentences, accuracy against the gold labels of the training split.

    Only training sentences judge the functions: the rules are developed on them, and the
    test articles stay unseen for the rules baseline (see :func:`rules_on_test`).
    """
    rows = []
    for name in RULE_NAMES:
        fired = [r for r in records if name in r["rules"]]
        gold = [r for r in fired if r["label_source"] == "gold" and r["split"] == "train"]
        correct = sum(r["label"] == RULE_LABELS[name] for r in gold)
        rows.append({
            "rule": name, "votes": RULE_LABELS[name], "fired": len(fired),
            "coverage": len(fired) / len(records) if records else 0.0,
            "gold_fired": len(gold), "accuracy": correct / len(gold) if gold else None,
        })
    return rows


def rules_on_test(records: list[dict]) -> dict | None:
    """The labeling functions' vote scored on the gold sentences of the test articles."""
    test = [r for r in records if r["split"] == "test" and r["label_source"] == "gold"]
    if not test:
        return None
    gold, vote_ = [r["label"] for r in test], [r["weak_label"] for r in test]
    return {"sentences": len(test), "accuracy": sum(g == v for g, v in zip(gold, vote_)) / len(test),
            "macro_f1": macro_f1(gold, vote_)}


@dataclass
class Built:
    """A built dataset before it is written: the records, the cleaning log, annotator agreement, who gave weak
    labels, and, for the teacher, its score on the validation articles (so users see what its labels are worth)."""

    records: list[dict]
    removed: dict[str, list[str]]
    agreement: dict | None
    weak_labeler: str
    teacher: dict | None = None


def build_records(cfg: DictConfig) -> Built:
    """Every sentence as a record, the cleaning log (removed snippets per article), agreement.

    Sentences without a gold label get the rules' vote, or the teacher's label with
    ``data.weak_labeler=teacher`` (whose validation score the result then carries).
    """
    data = cfg.data
    preprocessor = Preprocessor.from_config(cfg.cleaning)
    labeled = _read(_sources(data, "sources"), data.on_bad_file)
    unlabeled = _read(_sources(data, "unlabeled_sources"), data.on_bad_file)
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

    annotations = load_annotations(_sources(data, "annotations"))
    match = match_annotations(sentences, annotations, {a.id for a in labeled}, left_out)
    _report_matching(match, data.allow_unmatched_annotations, data.allow_unlabeled_sentences)
    if match.left_out:
        print(f"{len(match.left_out)} annotations are of lines cleaning now leaves out as not prose "
              "(kept in the annotation files, not used; the dataset card lists the lines)")

    # Splits over the gold-labeled articles only; weak-only articles, and those of outlets
    # in data.split.train_only (the seeds, which the labeling functions were written from), always train.
    train_only = _sources(data, "split.train_only", "outlet names")
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


def _count_table(records: list[dict], key: str) -> Table:
    """Gold sentences per label for each value of ``key`` (split, category, outlet), with article counts."""
    values = sorted({r[key] for r in records}, key=lambda v: SPLITS.index(v) if v in SPLITS else v)
    rows = []
    for value in values:
        rows_of = [r for r in records if r[key] == value]
        gold = Counter(r["label"] for r in rows_of if r["label_source"] == "gold")
        rows.append([value, len({r["article_id"] for r in rows_of}), *(gold[lab] for lab in LABELS),
                     sum(gold.values()), sum(r["label_source"] == "weak" for r in rows_of)])
    return Table([key, "articles", *LABELS, "gold", "weak"], rows)


def _agreement_blocks(figures: dict | None) -> list:
    if figures is None:
        return [Paragraph("No sentence was labeled by two annotators.")]
    confusion = figures["confusion"]
    return [
        Paragraph(f"{figures['sentences']} sentences labeled twice, independently: Cohen's kappa "
                  f"{figures['cohen_kappa']:.3f}, raw agreement {figures['raw_agreement']:.1%}. "
                  "Per label, specific agreement 2·both / (first + second): "
                  + ", ".join(f"{lab} {'-' if v is None else f'{v:.2f}'}" for lab, v in figures["per_label"].items())
                  + ". Disagreements were adjudicated; the final label is the gold label."),
        Table(["first \\ second", *confusion["labels"]],
              [[label, *row] for label, row in zip(confusion["labels"], confusion["matrix"])]),
    ]


def dataset_card(name: str, built: Built, hash_: str) -> str:
    """The Markdown card written beside the data."""
    records = built.records
    articles = list(dict.fromkeys(r["article_id"] for r in records))
    by_article = {a: [r for r in records if r["article_id"] == a] for a in articles}
    sources = Counter(r["label_source"] for r in records)
    rules = rules_on_test(records)
    blocks = [
        Heading(f"Dataset card: {name}", 1),
        Paragraph(f"Content hash: {hash_} (reports quote it; runs on data with another hash are not comparable)."),
        Paragraph(f"{len(records)} sentences from {len(articles)} articles. Label sources: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(sources.items()))
                  + (f"; weak labels by {WEAK_LABELERS[built.weak_labeler]}." if sources["weak"] else ".")
                  + (f" The teacher's macro-F1 on the {built.teacher['sentences']} validation sentences: "
                     f"{built.teacher['macro_f1']:.3f} (the rules' vote: {built.teacher['rules_macro_f1']:.3f})."
                     if built.teacher else "")),
        Heading("Labels per split"),
        Paragraph("Gold sentences per label; the test articles are never used for model selection, early "
                  "stopping or rule development."),
        _count_table(records, "split"),
        Heading("Per category"),
        _count_table(records, "category"),
        Heading("Per outlet"),
        _count_table(records, "outlet"),
        Heading("Annotator agreement"),
        *_agreement_blocks(built.agreement),
        Heading("Labeling functions"),
        Paragraph("The rules baseline on the test articles: " + (
            "no gold test sentences." if rules is None else
            f"accuracy {rules['accuracy']:.3f}, macro-F1 {rules['macro_f1']:.3f} on {rules['sentences']} sentences.")),
        Paragraph("Per function: coverage over all sentences; accuracy of its vote against the gold labels of the "
                  "training split where it fired."),
        Table(["function", "votes", "fired", "coverage", "accuracy on training gold"],
              [[q["rule"], q["votes"], q["fired"], f"{q['coverage']:.0%}",
                "-" if q["accuracy"] is None else f"{q['accuracy']:.0%} of {q['gold_fired']}"]
               for q in rule_quality(records)]),
        Heading("Articles"),
        Table(["article", "outlet", "category", "split", "sentences", *LABELS],
              [[a, rs[0]["outlet"], rs[0]["category"], rs[0]["split"], len(rs),
                *(sum(r["label"] == lab for r in rs) for lab in LABELS)] for a, rs in by_article.items()]),
        Heading("Cleaning log"),
        Paragraph("What the cleaning patterns (configs/cleaning/) removed from each article."),
        Table(["article", "removed"], [[a, "; ".join(built.removed.get(a, [])) or "nothing"] for a in articles]),
    ]
    return to_markdown(blocks)


def write_dataset(output_dir, name: str, built: Built, fingerprint: str) -> str:
    """Write all four outputs into a fresh folder that replaces ``output_dir`` atomically."""
    records = built.records
    hash_ = content_hash(records)
    with atomic_dir(output_dir) as tmp:
        splits = {s: [r for r in records if r["split"] == s] for s in SPLITS}
        datasets.disable_progress_bars()  # a bar per split for a few thousand rows is noise
        datasets.DatasetDict({
            s: datasets.Dataset.from_list(rows, features=FEATURES) if rows
            else datasets.Dataset.from_dict({k: [] for k in FEATURES}, features=FEATURES)
            for s, rows in splits.items()
        }).save_to_disk(tmp / "dataset_dict")
        datasets.enable_progress_bars()
        write_jsonl(tmp / "sentences.jsonl", records)
        write_text(tmp / "dataset_card.md", dataset_card(name, built, hash_))
        write_json(tmp / "metadata.json", {"name": name, "content_hash": hash_, "fingerprint": fingerprint,
                                           "num_sentences": len(records), "labels": list(LABELS),
                                           "agreement": built.agreement, "rules_on_test": rules_on_test(records),
                                           "weak_labeler": built.weak_labeler, "teacher_on_validation": built.teacher})
    return hash_


def check_output_dir(output_dir: Path) -> None:
    """Refuse, before the build, an output the build must not replace or cannot make.

    The build replaces ``data.output_dir`` as a whole: only a folder that is a dataset
    already (it holds ``metadata.json``) or is empty may go, never a folder of other files
    (``data.output_dir=~/Documents``) or a file.
    """
    fix = "choose another data.name or data.output_dir"
    if output_dir.exists() and not output_dir.is_dir():
        raise KalimatError(f"data.output_dir={output_dir}: is a file, not a dataset folder; {fix}")
    if output_dir.is_dir() and not (output_dir / "metadata.json").is_file() and any(output_dir.iterdir()):
        raise KalimatError(f"data.output_dir={output_dir}: holds files that are not a dataset (no metadata.json), "
                           f"which the build would replace; {fix}")
    parent = next(folder for folder in output_dir.absolute().parents if folder.exists())
    if not parent.is_dir():
        raise KalimatError(f"data.output_dir={output_dir}: {parent} is a file, not a folder; "
                           "choose another paths.processed_dir")


def build_dataset(cfg: DictConfig) -> Path:
    """Build ``cfg.data.output_dir`` from scratch and print its summary."""
    output_dir = Path(cfg.data.output_dir)
    check_settings(cfg, DATA_SETTINGS)
    check_lists(cfg)
    check_output_dir(output_dir)
    built = build_records(cfg)
    hash_ = write_dataset(output_dir, cfg.data.name, built, input_fingerprint(cfg))
    print_summary(built, output_dir, hash_)
    return output_dir


def print_summary(built: Built, output_dir: Path, hash_: str) -> None:
    records = built.records
    labels = Counter(r["label"] for r in records)
    sources = Counter(r["label_source"] for r in records)
    articles = len({r["article_id"] for r in records})
    print("\nlabeling functions (coverage, accuracy on training gold):")
    for q in rule_quality(records):
        accuracy = "-" if q["accuracy"] is None else f"{q['accuracy']:.0%} of {q['gold_fired']}"
        print(f"  {q['rule']:<30} -> {q['votes']:<10} {q['coverage']:>5.0%}  {accuracy}")
    rules = rules_on_test(records)
    if rules:
        print(f"rules baseline on the test articles: macro-F1 {rules['macro_f1']:.3f}, accuracy {rules['accuracy']:.3f}")
    if built.teacher:
        print(f"teacher on the validation articles: macro-F1 {built.teacher['macro_f1']:.3f} "
              f"(the rules' vote: {built.teacher['rules_macro_f1']:.3f})")
    if built.agreement:
        print(f"annotator agreement on {built.agreement['sentences']} sentences: Cohen's kappa "
              f"{built.agreement['cohen_kappa']:.3f}, raw {built.agreement['raw_agreement']:.1%}")
    print(f"\n{len(records)} sentences from {articles} articles "
          f"(gold {sources['gold']}, weak {sources['weak']}), content hash {hash_}")
    for label in LABELS:
        print(f"  {label:<11} {labels[label]:>5}")
    for split in SPLITS:
        rows = [r for r in records if r["split"] == split]
        print(f"  {split:<11} {len(rows):>5} sentences, {len({r['article_id'] for r in rows})} articles")
    print(f"written to {output_dir}")


class DamagedDataset(KalimatError):
    """A dataset folder whose metadata.json is there but not all of its ``dataset_dict/``."""

    def __init__(self, path: Path, reason: str):
        self.problem = f"{path} is incomplete or damaged ({reason})"
        super().__init__(f"{self.problem}; rebuild it with python -m train.dataset and the same data settings")


def _load_splits(path: Path) -> datasets.DatasetDict:
    """The ``dataset_dict/`` of a dataset folder; a missing or damaged part is a :class:`DamagedDataset`."""
    try:
        return datasets.load_from_disk(str(path / "dataset_dict"))
    except (FileNotFoundError, ValueError) as err:  # ValueError: pyarrow's ArrowInvalid for a cut-off file
        raise DamagedDataset(path, str(err).strip().splitlines()[0]) from None


def ensure_dataset(cfg: DictConfig) -> Path:
    """Return the dataset folder, building it first if it is missing, damaged or its inputs changed.

    A damaged folder (parts of ``dataset_dict/`` deleted by hand) is rebuilt: its inputs are
    all there, and the fingerprint alone would trust it.
    """
    output_dir = Path(cfg.data.output_dir)
    metadata = output_dir / "metadata.json"
    if metadata.is_file():
        if json.loads(metadata.read_text()).get("fingerprint") != input_fingerprint(cfg):
            print(f"inputs of {output_dir} changed: rebuilding the dataset")
        else:
            try:
                _load_splits(output_dir)
                return output_dir
            except DamagedDataset as err:
                print(f"{err.problem}: rebuilding the dataset")
    return build_dataset(cfg)


def load_processed(path) -> tuple[datasets.DatasetDict, dict]:
    """Load a built dataset folder: the DatasetDict and its metadata."""
    path = Path(path)
    if not (path / "metadata.json").is_file():
        raise KalimatError(f"{path}: no dataset here; build it with python -m train.dataset")
    metadata = json.loads((path / "metadata.json").read_text())
    if metadata.get("labels") != list(LABELS):
        # Labels are stored as integers: another order would silently swap their meaning.
        raise KalimatError(f"{path}: built with the labels {metadata.get('labels')}, not {list(LABELS)}; "
                           "rebuild it with python -m train.dataset")
    return _load_splits(path), metadata


@exit_on_error
def main() -> None:
    check_overrides("dataset", sys.argv[1:])
    try:
        build()
    except KeyboardInterrupt:
        # The folder is replaced only once the new dataset is complete (write_dataset): one line, no traceback.
        raise Interrupted("interrupted; no dataset was written, a previous one is left as it was") from None


@hydra.main(config_path=str(paths.CONFIG_DIR), config_name="dataset", version_base="1.3")
@exit_on_error
def build(cfg: DictConfig) -> None:
    build_dataset(cfg)


if __name__ == "__main__":
    main()

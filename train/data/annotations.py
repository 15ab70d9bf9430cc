"""Gold labels: hand annotations matched to sentences by article and sentence text.

An annotation names its sentence by ``article_id`` and ``text``, not by position, so a
change to the cleaning or the splitter can never silently move a label onto another
sentence: a sentence whose text changed simply stops matching, and the build reports it.
A text an article holds more than once (a list number, a repeated caption, a brand cut at
its dots) is matched occurrence by occurrence: the k-th annotation of that text in file
order labels its k-th appearance in the article.

File format (JSONL, one sentence a line)::

    {"article_id": "000_da2521d8e10fc030", "text": "...", "label": "claim", "note": "optional"}

A sentence read by two annotators also keeps both original labels and what settled a
disagreement (``label`` is the final one; see :mod:`train.data.agreement`)::

    {..., "label": "claim", "annotators": {"first": "claim", "second": "background"},
     "adjudication": "new event reported in this article: claim (guidelines, hard cases)"}
"""

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import KalimatError
from ..core.labels import check_label
from .articles import decode_text
from .cleaning import normalize_whitespace


Key = tuple[str, str, int]  # article id, whitespace-normalised text, occurrence of that text in the article


def sentence_keys(article_id: str, texts: list[str]) -> list[Key]:
    """The key of each of an article's sentences, in order: equal texts get occurrences 0, 1, ..."""
    seen: dict[str, int] = {}
    keys = []
    for text in texts:
        text = normalize_whitespace(text)
        keys.append((article_id, text, seen.get(text, 0)))
        seen[text] = seen.get(text, 0) + 1
    return keys


@dataclass
class Annotation:
    article_id: str
    text: str
    label: str
    note: str = ""
    annotators: dict[str, str] | None = None  # annotator -> original label, on doubly read sentences
    where: str = ""  # "file:line", for messages


def load_annotations(paths) -> dict[Key, Annotation]:
    """Read annotation files; every problem is a one-line error naming file and line."""
    annotations: dict[Key, Annotation] = {}
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        _load_file(Path(path), annotations)
    return annotations


def jsonl_records(path: Path, fields: tuple[str, ...]):
    """``(file:line, record)`` for each line of an annotation file; every record must hold ``fields``.

    One reader for the gold files and the annotation sheets' label files, so both name a bad
    line the same way.
    """
    try:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise KalimatError(f"cannot read {path} ({err.strerror or err}); check the path") from None
    for number, line in enumerate(decode_text(data, str(path)).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise KalimatError(f"{where}: malformed JSON ({err.msg}); fix the line") from None
        if not isinstance(record, dict) or any(key not in record for key in fields):
            raise KalimatError(f"{where}: needs the fields {', '.join(fields)}; fix the line")
        yield where, record


def _load_file(path: Path, annotations: dict[Key, Annotation]) -> None:
    if not path.is_file():
        raise KalimatError(f"{path}: annotation file not found; set data.annotations to existing files")
    for where, record in jsonl_records(path, ()):
        if not all(isinstance(record.get(key), str) for key in ("article_id", "text", "label")):
            raise KalimatError(f'{where}: needs string fields "article_id", "text" and "label"')
        annotators = record.get("annotators")
        if annotators is not None:
            if not isinstance(annotators, dict) or not annotators:
                raise KalimatError(f'{where}: "annotators" must map annotator names to labels')
            annotators = {name: check_label(label, where) for name, label in annotators.items()}
        annotation = Annotation(
            record["article_id"], record["text"], check_label(record["label"], where),
            record.get("note", ""), annotators, where,
        )
        text = normalize_whitespace(annotation.text)
        occurrence = sum(1 for key in _keys_of(annotations, annotation.article_id, text))
        annotations[annotation.article_id, text, occurrence] = annotation


def _keys_of(annotations: dict[Key, Annotation], article_id: str, text: str):
    occurrence = 0
    while (article_id, text, occurrence) in annotations:
        yield article_id, text, occurrence
        occurrence += 1


@dataclass
class MatchResult:
    labels: dict[tuple[str, int], str]  # (article id, sentence index) -> gold label
    unmatched: list[Annotation]  # annotations of known articles whose sentence no longer exists
    unlabeled: list[tuple[str, str]]  # (article id, text) of annotated-article sentences without an annotation
    left_out: list[Annotation] = field(default_factory=list)  # annotations of lines cleaning leaves out as not prose


def match_annotations(
    sentences: dict[str, list[str]],
    annotations: dict[Key, Annotation],
    annotated_articles: set[str],
    left_out: dict[str, set[str]] | None = None,
) -> MatchResult:
    """Match annotations to sentences.

    ``sentences`` maps article id to its sentences. ``annotated_articles`` are the articles
    that must be labeled in full; their sentences without an annotation are reported.
    Annotations of articles that are not being built at all are ignored (a user may build a
    subset), but one whose article is present and whose text is not is reported, unless
    cleaning leaves that text out as not prose (``left_out``: article id -> lines), which is
    counted apart. A text annotated more often than its article holds it is an error naming both lines.
    """
    left_out = left_out or {}
    labels, present, unlabeled = {}, set(), []
    for aid, texts in sentences.items():
        for index, key in enumerate(sentence_keys(aid, texts)):
            present.add(key)
            if key in annotations:
                labels[aid, index] = annotations[key].label
            elif aid in annotated_articles:
                unlabeled.append((aid, key[1]))
    unmatched, not_prose = [], []
    for key, annotation in annotations.items():
        if key in present or annotation.article_id not in sentences:
            continue
        aid, text, occurrence = key
        if text in left_out.get(aid, ()):
            not_prose.append(annotation)
        elif occurrence and (aid, text, occurrence - 1) in present:
            first = annotations[aid, text, 0]
            raise KalimatError(f"{annotation.where}: article {aid} holds the sentence {text[:60]!r} "
                               f"{occurrence} time(s), but it is annotated again here (first at {first.where}); "
                               "keep one annotation per appearance")
        else:
            unmatched.append(annotation)
    return MatchResult(labels, unmatched, unlabeled, not_prose)

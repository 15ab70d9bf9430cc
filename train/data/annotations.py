"""Gold labels: hand annotations matched to sentences by article and sentence text.

An annotation names its sentence by ``article_id`` and ``text``, not by position, so a
change to the cleaning or the splitter can never silently move a label onto another
sentence: a sentence whose text changed simply stops matching, and the build reports it.

File format (JSONL, one sentence a line)::

    {"article_id": "000_da2521d8e10fc030", "text": "...", "label": "claim", "note": "optional"}

A sentence read by two annotators also keeps both original labels and what settled a
disagreement (``label`` is the final one; see :mod:`train.data.agreement`)::

    {..., "label": "claim", "annotators": {"first": "claim", "second": "background"},
     "adjudication": "new event reported in this article: claim (guidelines, hard cases)"}
"""

import json
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import KalimatError
from ..core.labels import check_label
from .articles import decode_text
from .cleaning import normalize_whitespace


def sentence_key(article_id: str, text: str) -> tuple[str, str]:
    """How an annotation and a sentence are matched: article id and whitespace-normalised text."""
    return article_id, normalize_whitespace(text)


@dataclass
class Annotation:
    article_id: str
    text: str
    label: str
    note: str = ""
    annotators: dict[str, str] | None = None  # annotator -> original label, on doubly read sentences
    where: str = ""  # "file:line", for messages


def load_annotations(paths) -> dict[tuple[str, str], Annotation]:
    """Read annotation files; every problem is a one-line error naming file and line."""
    annotations: dict[tuple[str, str], Annotation] = {}
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
    except OSError as err:
        raise KalimatError(f"cannot read {path} ({err.strerror}); check the path") from None
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


def _load_file(path: Path, annotations: dict[tuple[str, str], Annotation]) -> None:
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
        key = sentence_key(annotation.article_id, annotation.text)
        earlier = annotations.get(key)
        if earlier is not None and earlier.label != annotation.label:
            raise KalimatError(
                f"{where}: the same sentence is labeled {earlier.label!r} at {earlier.where} "
                f"and {annotation.label!r} here; keep one"
            )
        annotations[key] = annotation


@dataclass
class MatchResult:
    labels: dict[tuple[str, str], str]  # sentence key -> gold label
    unmatched: list[Annotation]  # annotations of known articles whose sentence no longer exists
    unlabeled: list[tuple[str, str]]  # sentence keys of annotated articles without an annotation


def match_annotations(
    sentences: dict[str, list[str]],
    annotations: dict[tuple[str, str], Annotation],
    annotated_articles: set[str],
) -> MatchResult:
    """Match annotations to sentences.

    ``sentences`` maps article id to its sentences. ``annotated_articles`` are the articles
    that must be labeled in full; their sentences without an annotation are reported.
    Annotations of articles that are not being built at all are ignored (a user may build a
    subset), but one whose article is present and whose text is not is reported.
    """
    present = {sentence_key(aid, s) for aid, texts in sentences.items() for s in texts}
    labels = {key: a.label for key, a in annotations.items() if key in present}
    unmatched = [
        a for key, a in annotations.items() if key not in present and a.article_id in sentences
    ]
    unlabeled = [
        key for key in dict.fromkeys(
            sentence_key(aid, s) for aid in sentences if aid in annotated_articles for s in sentences[aid]
        )
        if key not in labels
    ]
    return MatchResult(labels, unmatched, unlabeled)

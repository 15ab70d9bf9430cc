"""Gold labels: hand annotations matched to sentences by article and sentence text.

An annotation names its sentence by ``article_id`` and ``text``, not by position, so a
change to the cleaning or the splitter can never silently move a label onto another
sentence: a sentence whose text changed simply stops matching, and the build reports it.

File format (JSONL, one sentence a line)::

    {"article_id": "000_da2521d8e10fc030", "text": "...", "label": "claim", "note": "optional"}
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .articles import decode_text
from .errors import KalimatError
from .labels import check_label


def sentence_key(article_id: str, text: str) -> tuple[str, str]:
    """How an annotation and a sentence are matched: article id and whitespace-normalised text."""
    return article_id, re.sub(r"\s+", " ", text).strip()


@dataclass
class Annotation:
    article_id: str
    text: str
    label: str
    note: str = ""
    line: int = 0


def load_annotations(path) -> dict[tuple[str, str], Annotation]:
    """Read an annotation file; every problem is a one-line error naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise KalimatError(f"{path}: annotation file not found; set data.annotations to an existing file")
    annotations: dict[tuple[str, str], Annotation] = {}
    for number, line in enumerate(decode_text(path.read_bytes(), str(path)).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise KalimatError(f"{where}: malformed JSON ({err.msg}); fix the line") from None
        if not isinstance(record, dict) or not all(
            isinstance(record.get(key), str) for key in ("article_id", "text", "label")
        ):
            raise KalimatError(f'{where}: needs string fields "article_id", "text" and "label"')
        annotation = Annotation(
            record["article_id"], record["text"], check_label(record["label"], where),
            record.get("note", ""), number,
        )
        key = sentence_key(annotation.article_id, annotation.text)
        earlier = annotations.get(key)
        if earlier is not None and earlier.label != annotation.label:
            raise KalimatError(
                f"{where}: the same sentence is labeled {earlier.label!r} on line {earlier.line} "
                f"and {annotation.label!r} here; keep one"
            )
        annotations[key] = annotation
    return annotations


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

"""Score a sentence splitter against a reference segmentation (IndoSum's, in practice).

A segmentation is compared through its boundaries: the number of non-space characters
before each sentence break inside a paragraph. Counting only non-space characters makes
the comparison indifferent to how either side spaces the text, so only where the breaks
fall matters. Scores are micro-averaged over all boundaries of all paragraphs.
"""

import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import KalimatError
from .cleaning import normalize_whitespace
from .splitter import split_sentences


def boundaries(sentences: list[str]) -> set[int]:
    """Positions of the breaks between ``sentences``, in non-space characters."""
    positions, count = set(), 0
    for sentence in sentences[:-1]:
        count += sum(not c.isspace() for c in sentence)
        positions.add(count)
    return positions


@dataclass
class BoundaryScore:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    paragraphs: int = 0

    def add(self, gold: list[str], predicted: list[str]) -> bool:
        """Count one paragraph; True when both segmentations agree on it."""
        gold_breaks, predicted_breaks = boundaries(gold), boundaries(predicted)
        self.paragraphs += 1
        self.true_positives += len(gold_breaks & predicted_breaks)
        self.false_positives += len(predicted_breaks - gold_breaks)
        self.false_negatives += len(gold_breaks - predicted_breaks)
        return gold_breaks == predicted_breaks

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def corpus_records(path, limit: int | None = None, fields: tuple[str, ...] = ("paragraphs",)) -> Iterator[dict]:
    """Yield the articles of a corpus JSONL file (IndoSum layout, ``.jsonl`` or ``.jsonl.gz``), each with ``fields``.

    ``limit`` stops after that many articles, for quick checks on a sample. A line that is
    not such an article raises a one-line :class:`KalimatError` naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise KalimatError(f"{path}: corpus file not found; give the path to an IndoSum-layout JSONL file")
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            articles = 0
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                if limit is not None and articles == limit:
                    return
                articles += 1
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise KalimatError(f"{path}:{number}: not valid JSON ({err.msg}); give an IndoSum-layout "
                                       "JSONL file, one article a line") from None
                if not isinstance(record, dict) or any(key not in record for key in fields) \
                        or not _is_paragraphs(record["paragraphs"]):
                    raise KalimatError(f"{path}:{number}: not an IndoSum article (a JSON object with "
                                       f"{', '.join(fields)}; its paragraphs lists of sentences); fix or remove the line")
                yield record
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise KalimatError(f"{path}: cannot be read as UTF-8 JSONL ({err}); give an IndoSum-layout JSONL "
                           "file, gzip-compressed only if its name ends in .gz") from None


def _is_paragraphs(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(paragraph, list) and all(isinstance(s, str) for s in paragraph) for paragraph in value
    )


def corpus_paragraphs(path, limit: int | None = None) -> Iterator[list[str]]:
    """Yield each paragraph of a corpus file (see :func:`corpus_records`) as its sentences."""
    for record in corpus_records(path, limit):
        for paragraph in record["paragraphs"]:
            sentences = [normalize_whitespace(s) for s in paragraph]
            yield [s for s in sentences if s]


def evaluate(
    paragraphs: Iterable[list[str]],
    split: Callable[[str], list[str]] = split_sentences,
    on_disagreement: Callable[[list[str], list[str]], None] | None = None,
) -> BoundaryScore:
    """Split every paragraph (its reference sentences joined by spaces) and score the breaks."""
    score = BoundaryScore()
    for gold in paragraphs:
        if not gold:
            continue
        predicted = split(" ".join(gold))
        if not score.add(gold, predicted) and on_disagreement is not None:
            on_disagreement(gold, predicted)
    return score

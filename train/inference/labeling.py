"""Articles in, labeled records out: the unit of work every way of labeling shares.

``kalimat-predict`` (one process or ``accelerate launch``) and its Ray mode both clean and split
an article with the model's own :class:`~train.data.preprocess.Preprocessor` and label all its
sentences in one pass, so each sentence is read with its real neighbours and an article is
never split across workers.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..data.preprocess import Preprocessor
from .predictor import Predictor


@dataclass
class ArticleResult:
    """One article's records; ``resumed`` ones are already in the output file."""

    article_id: str
    source: str
    records: list[dict] = field(default_factory=list)
    resumed: bool = False
    left_out: list[dict] = field(default_factory=list)  # lines left out as not prose (see :func:`left_out_records`)


def label_articles(articles: Iterable, preprocessor: Preprocessor, predictor: Predictor,
                   chunk_sentences: int) -> Iterator[ArticleResult]:
    """Label articles chunk by chunk, so one forward batch can mix sentences of many articles."""
    chunk, size = [], 0
    for article in articles:
        split = preprocessor.split(article)
        chunk.append((article, split))
        size += len(split.sentences)
        if size >= chunk_sentences:
            yield from label_chunk(chunk, predictor)
            chunk, size = [], 0
    yield from label_chunk(chunk, predictor)


def label_chunk(chunk, predictor: Predictor) -> Iterator[ArticleResult]:
    """``(article, split)`` pairs labeled in one batched pass, one :class:`ArticleResult` each, in order."""
    labeled = predictor.predict_articles([split.sentences for _, split in chunk])
    for (article, split), predictions in zip(chunk, labeled):
        records = [p.record(article.id, index, sentence)
                   for index, (sentence, p) in enumerate(zip(split.sentences, predictions))]
        yield ArticleResult(article.id, article.source, records, left_out=left_out_records(article.id, split))


def left_out_records(article_id: str, split) -> list[dict]:
    """The lines cleaning left out of an article as not prose: where they stood and why."""
    return [{"article_id": article_id, "after_sentence": line.after, "text": line.text, "reason": line.reason}
            for line in split.left_out]

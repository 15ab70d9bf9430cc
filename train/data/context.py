"""A sentence in its article: the neighbouring sentences a model may read beside it.

A sentence's role often depends on its neighbours: a sentence in the middle of a quotation
that spans several sentences has no quotation marks of its own, and background is told
around the news. With ``model.context=neighbours`` the model reads each sentence as the
first segment of a sentence pair and its previous and next sentence, joined by the
tokenizer's separator, as the second. The target sentence is thereby marked (it alone is
segment A), while the window still shows whether a quotation was opened before it.

The same two functions build the pair in the dataset, in training, in evaluation and in
``kalimat-predict``, so a model always reads what it was trained on. A plain
``pipeline("text-classification")`` call on a lone sentence still works (an empty window);
``{"text": sentence, "text_pair": context}`` passes the window (see the model card).
"""

CONTEXTS = ("none", "neighbours")


def neighbours(sentences: list[str]) -> list[tuple[str, str]]:
    """``(previous, next)`` sentence of each sentence of one article; ``""`` at the article's edges."""
    return [
        (sentences[i - 1] if i > 0 else "", sentences[i + 1] if i + 1 < len(sentences) else "")
        for i in range(len(sentences))
    ]


def context_text(previous: str, following: str, separator: str) -> str:
    """The second segment of the pair: the window around the sentence, the sentence itself left out."""
    return f"{previous} {separator} {following}".strip()


def article_windows(articles: list[list[str]], separator: str) -> list[str]:
    """The windows of every sentence of several articles, flattened in order; articles never share one."""
    return [context_text(p, n, separator) for sentences in articles for p, n in neighbours(sentences)]

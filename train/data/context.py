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
``model.context=neighbours_rules`` also puts the names of the labeling functions
(:mod:`train.data.weak_labels`) that fire on the sentence at the head of its window.
"""

from .weak_labels import fired_rules

CONTEXTS = ("none", "neighbours", "neighbours_rules")


def model_context(config) -> str:
    """What a model reads beside each sentence: ``kalimat_context`` in its config, set by training.

    Models exported before the setting existed read the sentence alone.
    """
    return getattr(config, "kalimat_context", "none")


def neighbours(sentences: list[str]) -> list[tuple[str, str]]:
    """``(previous, next)`` sentence of each sentence of one article; ``""`` at the article's edges."""
    return [
        (sentences[i - 1] if i > 0 else "", sentences[i + 1] if i + 1 < len(sentences) else "")
        for i in range(len(sentences))
    ]


def context_text(previous: str, following: str, separator: str, rules: list[str] | None = None) -> str:
    """The second segment of the pair: the window around the sentence, the sentence itself left out.

    With ``rules`` (``neighbours_rules``) the names of the labeling functions that fired on
    the sentence lead the window: the model sees the rules' evidence and can learn when to
    trust it, rather than being trained on the rules' votes as labels.
    """
    window = f"{previous} {separator} {following}".strip()
    return window if rules is None else f"{' '.join(rules)} {separator} {window}"


def article_windows(articles: list[list[str]], separator: str, context: str) -> list[str] | None:
    """The windows of every sentence of several articles for ``context``, flattened in order
    (``None`` for ``none``); articles never share a window."""
    if context == "none":
        return None
    windows = []
    for sentences in articles:
        rules = fired_rules(sentences) if context == "neighbours_rules" else [None] * len(sentences)
        windows += [context_text(p, n, separator, r) for (p, n), r in zip(neighbours(sentences), rules)]
    return windows

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
(:mod:`train.data.weak_labels`) that fire on the sentence at the head of its window;
``model.context=rules`` gives those names alone, a window a third as long (one of them,
``inside_multi_sentence_quote``, carries the quotation the neighbours would show).
"""

from .weak_labels import fired_rules


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


def windows(previous: list[str], following: list[str], rules: list, separator: str, context: str) -> list[str] | None:
    """The second segments for ``context`` from each sentence's neighbours and fired rules (``None`` for ``none``).

    The one dispatch on ``model.context``: training and export read the neighbours and rules
    stored in the dataset's rows, inference computes them from whole articles
    (:func:`article_windows`); both end here.
    """
    if context == "none":
        return None
    if context == "rules":
        return [" ".join(r) for r in rules]
    with_rules = context == "neighbours_rules"
    return [context_text(p, n, separator, r if with_rules else None) for p, n, r in zip(previous, following, rules)]


def article_windows(articles: list[list[str]], separator: str, context: str) -> list[str] | None:
    """The windows of every sentence of several articles for ``context``, flattened in order
    (``None`` for ``none``); articles never share a window."""
    if context == "none":
        return None
    previous, following, rules = [], [], []
    for sentences in articles:
        pairs = neighbours(sentences)
        previous += [p for p, _ in pairs]
        following += [n for _, n in pairs]
        rules += fired_rules(sentences) if context in ("rules", "neighbours_rules") else [None] * len(sentences)
    return windows(previous, following, rules, separator, context)


def row_windows(rows, separator: str, context: str) -> list[str] | None:
    """The windows of a dataset's rows (their ``previous``, ``next`` and ``rules`` columns)."""
    if context == "none":
        return None
    return windows(rows["previous"], rows["next"], rows["rules"], separator, context)

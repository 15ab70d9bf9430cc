"""Weak labels: labeling functions that vote on sentences nobody has annotated.

Users add unlabeled articles to grow the training data; these functions give their
sentences a label without a human. Each function looks for one cue named in
``docs/annotation_guidelines.md`` (quotation marks with a speaker, reporting verbs, modal
and evaluative words, numbers and estimates, ...) and, when it fires, votes for one label.
The vote follows the guidelines' precedence (quote, then opinion, then claim, then
background): the first label with a firing function wins, and a sentence on which nothing
fires is background. Every example records which functions fired, and the dataset build
prints each function's coverage and its accuracy against the gold labels, so the rules can
be judged rather than trusted.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..core.labels import LABELS
from .quotes import CLOSING, CURLY_CLOSING, CURLY_OPENING, DOUBLE_CLOSING, DOUBLE_OPENING

FALLBACK = "no_cue_background"


@dataclass(frozen=True)
class LabelingFunction:
    name: str
    label: str
    fires: Callable[[str], bool]


def _words(*words: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)


_QUOTED_SPAN = re.compile(f"[{DOUBLE_OPENING}]([^{DOUBLE_OPENING}{DOUBLE_CLOSING}]+)[{DOUBLE_CLOSING}]")
_REPORTING_VERB = _words(
    "kata", "katanya", "ujar", "ujarnya", "ungkap", "ungkapnya", "tutur", "tuturnya",
    "jelas(?:nya)?", "tegas(?:nya)?", "sebut(?:nya)?", "menurut", "mengatakan", "menyatakan",
    "menegaskan", "menambahkan", "mengungkapkan", "menjelaskan", "menyebut(?:kan)?",
    "berkata", "ucap(?:nya)?", "imbuh(?:nya)?",
)
_NUMBER = re.compile(r"\d|\b(?:ribu|juta|miliar|triliun|ratusan|ribuan|jutaan|puluhan|persen)\b", re.IGNORECASE)
_ESTIMATE = _words(
    "sekitar", "sebanyak", "hingga", "lebih dari", "kurang dari", "diperkirakan",
    "memperkirakan", "perkiraan", "setidaknya", "mencapai",
)
_MODAL = _words(
    "harus", "seharusnya", "sebaiknya", "semestinya", "perlu", "diperlukan", "penting bagi",
    "hendaknya", "wajib",
)
_EVALUATIVE = _words(
    "mengkhawatirkan", "berbahaya", "buruk", "baik", "jelas", "tentu saja", "sangat",
    "paranoid", "ilegal", "serius", "tidak sulit", "menyedihkan", "luar biasa", "mustahil",
    "sayangnya", "untungnya", "seolah", "tampaknya", "sepertinya", "mungkin", "bisa jadi",
)
_NEWS_ACTION = _words(
    "mengirim(?:kan)?", "mengerahkan", "menyerang", "meminta", "mendesak", "menyerukan",
    "melaporkan", "dilaporkan", "mengumumkan", "menandatangani", "menuduh", "membantah",
    "menampik", "membenarkan", "mengonfirmasi", "berencana", "akan",
)
_BACKGROUND_CUE = _words(
    "sejak", "sebelumnya", "tahun lalu", "telah lama", "adalah", "merupakan", "dijadwalkan",
    "pada bulan", "sebelum invasi", "selama",
)


def _long_quote(sentence: str) -> bool:
    return any(len(span.split()) >= 3 for span in _QUOTED_SPAN.findall(sentence))


LABELING_FUNCTIONS: tuple[LabelingFunction, ...] = (
    LabelingFunction("quote_with_speaker", "quote",
                     lambda s: _long_quote(s) and bool(_REPORTING_VERB.search(s))),
    LabelingFunction("quote_marks_3_words", "quote", _long_quote),
    LabelingFunction("rhetorical_question", "opinion", lambda s: s.rstrip(CLOSING).endswith("?")),
    LabelingFunction("modal_should", "opinion", lambda s: bool(_MODAL.search(s))),
    LabelingFunction("evaluative_word", "opinion", lambda s: bool(_EVALUATIVE.search(s))),
    LabelingFunction("number_or_estimate", "claim",
                     lambda s: bool(_NUMBER.search(s) or _ESTIMATE.search(s))),
    LabelingFunction("reporting_verb", "claim", lambda s: bool(_REPORTING_VERB.search(s))),
    LabelingFunction("news_action", "claim", lambda s: bool(_NEWS_ACTION.search(s))),
    LabelingFunction("background_cue", "background", lambda s: bool(_BACKGROUND_CUE.search(s))),
)
INSIDE_QUOTE = "inside_multi_sentence_quote"
RULE_NAMES = (INSIDE_QUOTE,) + tuple(lf.name for lf in LABELING_FUNCTIONS) + (FALLBACK,)
RULE_LABELS = {lf.name: lf.label for lf in LABELING_FUNCTIONS} | {INSIDE_QUOTE: "quote", FALLBACK: "background"}


def _quote_balance(sentence: str) -> int:
    """+1 when the sentence opens a quotation it does not close, -1 for the reverse."""
    opens = sum(sentence.count(c) for c in CURLY_OPENING)
    closes = sum(sentence.count(c) for c in CURLY_CLOSING)
    straight = sentence.count('"')
    if straight % 2:  # an odd straight quote opens at the start, closes otherwise
        opens, closes = (opens + 1, closes) if sentence.lstrip().startswith('"') else (opens, closes + 1)
    return opens - closes


def fired_rules(sentences: list[str]) -> list[list[str]]:
    """The names of the functions that fire on each sentence of one article, in order.

    Article order matters for one cue: a sentence that lies inside a quotation opened in an
    earlier sentence and closed in a later one (or in itself) is part of a quote.
    """
    fired, inside = [], False
    for sentence in sentences:
        balance = _quote_balance(sentence)
        names = [INSIDE_QUOTE] if inside or balance > 0 else []
        names += [lf.name for lf in LABELING_FUNCTIONS if lf.fires(sentence)]
        inside = (inside or balance > 0) and not (inside and balance < 0)
        fired.append(names or [FALLBACK])
    return fired


def vote(rules: list[str]) -> str:
    """The label of the fired rules: the first in :data:`LABELS`, the guidelines' precedence."""
    voted = {RULE_LABELS[name] for name in rules}
    return next(label for label in LABELS if label in voted)

"""The four sentence roles: the one place that names them and fixes their order.

The order is the annotation guidelines' precedence (a sentence takes the first label whose
definition fits), the model's output order (``id2label``), the column order of confusion
matrices and the order of every per-label table, so it must never be derived elsewhere.
"""

from .errors import KalimatError

LABELS: tuple[str, ...] = ("quote", "opinion", "claim", "background")
# One-line definitions, for model cards and page legends; docs/annotation_guidelines.md has the full ones.
DEFINITIONS: dict[str, str] = {
    "quote": "a direct quotation (at least three words in quotation marks) or a sentence inside one",
    "opinion": "a subjective main assertion: evaluation, judgment, recommendation, speculation",
    "claim": "a factual, checkable assertion that carries the news",
    "background": "factual context: earlier events, who someone is, schedules, general description",
}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))
LABEL2ID: dict[str, int] = {label: i for i, label in ID2LABEL.items()}


def check_label(label: str, where: str = "") -> str:
    """Return ``label`` if it is one of :data:`LABELS`, else raise a one-line error."""
    if label not in LABEL2ID:
        place = f" in {where}" if where else ""
        raise KalimatError(
            f"unknown label {label!r}{place}; use one of: {', '.join(LABELS)}"
        )
    return label

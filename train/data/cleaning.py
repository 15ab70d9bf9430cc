"""Lines that are not prose: what news sites leave around an article (logos, bylines, ads, links).

Scraped news is full of lines that are not sentences of the article: separators, ad markers,
bylines and photo credits, page numbers, "Baca juga" links, channel promotions, markup. Given
to the model, each would get a role and a confident score. The patterns that recognise them
are data, not code: ``configs/cleaning/default.yaml``, by kind, so a new outlet's leftovers are
handled by adding a line there. Four lists:

* ``drop_lines`` (kind -> patterns): a line that matches a pattern as a whole is left out as
  not prose, under that kind; so is a sentence, after splitting (a list number or a byline
  that shared a line with the text).
* ``drop_sentences`` (kind -> patterns): tried on single sentences only, for leftovers that
  a real paragraph could match as a whole ("..., klik di sini" closing a sentence).
* ``drop_with_next`` (kind -> patterns): a line that only announces the next one ("Baca
  juga:" alone) is left out with the line after it, the linked headline (unless that line
  ends like a sentence: a headline has no full stop).
* ``strip``: every match is cut out of a line (closing initials such as ``(bbn)``, a dateline
  naming the outlet); a line left empty goes.

Every line break is a paragraph boundary, because some outlets put each paragraph on its own
line without a blank line between them. Nothing is left out silently: every line and snippet
is returned with its reason, for the dataset card, ``kalimat-predict``'s summary and its
``--nonprose`` listing. Dropping a real sentence is worse than keeping a leftover, so every
pattern is anchored and narrow; ``data/nonprose/lines.jsonl`` measures both kinds of error.
"""

import re
from dataclasses import dataclass

from ..core.errors import KalimatError

_SPACES = re.compile(r"\s+")
_SENTENCE_END = tuple('.?!…"”’\'')


def compile_patterns(patterns, key: str) -> list[re.Pattern]:
    """Compile the regexes of config key ``key``; a bad one is a user error naming both."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(str(pattern)))
        except re.error as err:
            raise KalimatError(
                f"cleaning.{key}: bad regular expression {str(pattern)!r} ({err}); fix it in the cleaning config"
            ) from None
    return compiled


def compile_kinds(kinds, key: str) -> list[tuple[str, re.Pattern]]:
    """``kind -> patterns`` (or a plain list, as exports before kinds saved it) as ``(kind, pattern)`` pairs."""
    if not isinstance(kinds, dict):
        kinds = {"leftover": kinds}
    return [(str(kind), pattern) for kind, patterns in kinds.items()
            for pattern in compile_patterns(patterns or [], f"{key}.{kind}")]


def normalize_whitespace(text: str) -> str:
    """Collapse every run of whitespace (non-breaking spaces included) into one space.

    Annotations are matched by sentence text, so the same sentence must always come out
    with the same spacing.
    """
    return _SPACES.sub(" ", text).strip()


def strip_matches(paragraph: str, patterns: list[re.Pattern]) -> tuple[str, list[str]]:
    """Cut every match of ``patterns`` out of ``paragraph``: (what is left, what was cut)."""
    removed = []
    for pattern in patterns:
        removed += [m.group(0).strip() for m in pattern.finditer(paragraph) if m.group(0).strip()]
        paragraph = normalize_whitespace(pattern.sub(" ", paragraph))
    return paragraph, removed


def kind_of(text: str, patterns: list[tuple[str, re.Pattern]]) -> str | None:
    """The kind of the first pattern ``text`` matches as a whole, or ``None``."""
    return next((kind for kind, pattern in patterns if pattern.fullmatch(text)), None)


@dataclass
class LeftOut:
    """A line (or sentence) left out as not prose: its text, why, and where (``position``: paragraphs kept before it)."""

    text: str
    reason: str
    position: int = 0


def clean_text(text: str, drop_lines, drop_with_next, strip) -> tuple[list[str], list[LeftOut], list[str]]:
    """Split ``text`` into paragraphs: (paragraphs kept, lines left out as not prose, snippets stripped)."""
    kept, left_out, stripped = [], [], []
    announced = None  # the kind of a line that left the next one out with it
    for line in text.splitlines():
        paragraph = normalize_whitespace(line)
        if not paragraph:
            continue
        if announced is not None and not paragraph.endswith(_SENTENCE_END):
            # A linked headline has no closing full stop; a line that has one is prose after all
            # (the link itself may be gone from the page the text was taken from).
            left_out.append(LeftOut(paragraph, announced, len(kept)))
            announced = None
            continue
        announced = None
        announced = kind_of(paragraph, drop_with_next)  # first: "Baca juga:" alone is a link line too
        kind = announced or kind_of(paragraph, drop_lines)
        if kind is not None:
            left_out.append(LeftOut(paragraph, kind, len(kept)))
            continue
        paragraph, cut = strip_matches(paragraph, strip)
        stripped += cut
        if paragraph:
            kept.append(paragraph)
    return kept, left_out, stripped

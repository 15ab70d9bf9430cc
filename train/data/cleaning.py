"""Remove what news sites leave around an article: logos, related-article links, footers.

The patterns are data, not code: they live in ``configs/cleaning/default.yaml`` so a new
outlet's leftovers are handled by adding a line there. Two kinds:

* ``drop_lines``: a paragraph that matches a pattern as a whole is removed.
* ``strip``: every match is cut out of a paragraph (bylines, datelines naming the outlet);
  a paragraph left empty is removed.

Every line break is a paragraph boundary, because some outlets put each paragraph on its
own line without a blank line between them. Whatever is removed is returned, so the dataset
card can show per article what cleaning took away and a reader can check nothing real went.
"""

import re

from ..core.errors import KalimatError

_SPACES = re.compile(r"\s+")


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


def clean_text(
    text: str, drop_lines: list[re.Pattern], strip: list[re.Pattern]
) -> tuple[list[str], list[str]]:
    """Split ``text`` into paragraphs and remove leftovers: (paragraphs kept, removed snippets)."""
    kept, removed = [], []
    for line in text.splitlines():
        paragraph = normalize_whitespace(line)
        if not paragraph:
            continue
        if any(pattern.fullmatch(paragraph) for pattern in drop_lines):
            removed.append(paragraph)
            continue
        paragraph, cut = strip_matches(paragraph, strip)
        removed += cut
        if paragraph:
            kept.append(paragraph)
    return kept, removed

"""Rule-based Indonesian sentence splitter, tuned to IndoSum's segmentation conventions.

A paragraph is cut into words at whitespace, and a sentence ends after a word that ends
with ``.``, ``?`` or ``!`` (possibly followed by closing quotes or brackets), unless:

* the next word starts with a lowercase letter or with ``,;:)]”’``: a sentence never starts
  so. This keeps ``"Ini kenapa?" tanya Djarot.`` whole, so speech stays with its speaker,
  and lets ``dkk.``, ``dll.``, ``tsb.`` end a sentence only when a capital follows;
* the full stop belongs to a title or reference abbreviation that never ends a sentence
  (``Dr.``, ``Jl.``, ``No.``, ``a.n.``, ``yth.``) or to an initial (``J. K. Rowling``,
  ``Susilo B. Yudhoyono``);
* the word ends with an ellipsis (``...``; ``…`` is not a stop), which IndoSum treats as a pause;
* the break would fall inside brackets that close later: ``(Uu. H-RF/I015)``.

Numbers (``100.000``, ``3,5``, ``3.5``, ``10.30 WIB``, ``27/3``), URLs, e-mail addresses and
domains (``kumparan.com``) need no rule: a full stop inside a word is never a break. Inside a
quotation the sentences are split like any others (a quote of three sentences gives three
sentences), as IndoSum does. Quotes set off by spaces (``“ Saya ... . ” katanya``, as in
IndoSum's detokenised text) are attached to the word they close.
"""

import re

from .quotes import CLOSING, FAMILIES, ONLY_CLOSING, OPENING

# Never end a sentence: words that stand before a name, a number or a place, abbreviated
# with a full stop. Compared case-sensitively, so that words such as "sen" (cent) or "hal"
# (matter) still end sentences.
_NO_BREAK = {
    # titles and forms of address
    "Dr", "dr", "drg", "Drg", "Drs", "Dra", "Prof", "Ir", "H", "Hj", "KH", "K.H", "Ust", "Tgk",
    "Sdr", "Sdri", "Bpk", "Bp", "Tn", "Ny", "Nn", "Mr", "Mrs", "Ms", "Mt", "St", "Sen", "Rep",
    "Gov", "Moh", "Muh", "Moch", "Mochd", "Mhd", "Abd",
    # police and military ranks: "AKBP. Arman", "Brigjen. Pol. Ahmad"
    "Gen", "Jend", "Kol", "Kapt", "Lt", "AKBP", "AKP", "Kompol", "Kombes", "Kombespol", "Pol",
    "Brigjen", "Brigjenpol", "Irjen", "Irjenpol", "Komjen", "Iptu", "Ipda", "Aiptu", "Aipda",
    "Bripka", "Brigpol", "Briptu", "Bripda", "Mayjen", "Letjen", "Letkol", "Lettu", "Letda",
    "Serma", "Serka", "Sertu", "Serda", "Kopka", "Kopda", "Koptu", "Praka", "Pratu", "Prada",
    "Pelda", "Peltu", "Laksma", "Laksda", "Laksdya", "Marsma", "Marsda", "Marsdya",
    # company and institution forms before their name: "PT. Pertamina", "RS. Siloam"
    "PT", "CV", "UD", "RS", "RSU", "RSUD",
    # streets, places and references
    "Jl", "Jln", "Gg", "No", "Kav", "Kab", "Kec", "Kel", "Ds", "Dsn", "Kp", "Prov", "Yth", "yth",
    "Sp", "med", "Rp", "Vol", "vol", "Hlm", "hlm", "Tgl", "tgl", "Telp", "telp", "vs", "Vs",
    "a.n", "u.p", "s.d", "a.l", "d.a", "q.q", "e.g", "i.e",
}
_NO_BREAK |= {a.upper() for a in _NO_BREAK if len(a) > 1}
# Degrees that look like initials but follow a name, so they may end a sentence.
_DEGREES = {"S.H", "S.E", "S.T", "S.S", "S.P", "M.H", "M.M", "M.A", "M.T", "M.P", "B.A"}
_INITIALS = re.compile(r"(?:[A-Z]\.)*[A-Z]")  # "J", "J.K", "A.S" (the last dot is cut off)

_CLOSERS = CLOSING + ")]"
_OPENERS = OPENING + "(["
_NOT_A_START = ",;:)]" + ONLY_CLOSING


def _quote_edges(token: str) -> str:
    """The quote marks at the start and end of a word (inner apostrophes, as in Syar'i, excluded)."""
    core = token.strip(OPENING + CLOSING)
    if not core:
        return token
    start = token.index(core)
    return token[:start] + token[start + len(core):]


def _update_quotes(token: str, inside: dict[str, bool]) -> None:
    """Track whether a double or single quotation is open after ``token``."""
    for mark in _quote_edges(token):
        for opening, closing, straight in FAMILIES:
            if mark == opening:
                inside[straight] = True
            elif mark == closing:
                inside[straight] = False
            elif mark == straight:
                inside[straight] = not inside[straight]


def _attach_closing_quotes(tokens: list[str]) -> list[str]:
    """Glue a spaced closing quote (``baik. ”``) to the word it closes.

    ``”``, ``’`` and ``»`` always close; a straight mark closes when a quotation of its
    family is open.
    """
    words: list[str] = []
    inside = {'"': False, "'": False}
    for token in tokens:
        only_quotes = all(c in CLOSING for c in token)
        closes = token[0] in ONLY_CLOSING or inside.get(token[0], False)
        if words and only_quotes and closes:
            words[-1] += " " + token
        else:
            words.append(token)
        _update_quotes(token, inside)
    return words


def _inside_brackets(words: list[str]) -> list[bool]:
    """For each word, whether a bracket is open after it and closed later in the paragraph.

    A bracket that is never closed is ignored, so a stray ``(`` cannot glue a paragraph
    into one sentence.
    """
    depths, depth = [], 0
    for word in words:
        depth = max(0, depth + sum(c in "([" for c in word) - sum(c in ")]" for c in word))
        depths.append(depth)
    inside = [False] * len(words)
    lowest_after = depths[-1] if depths else 0
    for i in range(len(words) - 2, -1, -1):
        lowest_after = min(lowest_after, depths[i + 1])
        inside[i] = lowest_after < depths[i]
    return inside


def _is_abbreviation(stem: str) -> bool:
    """Whether a word whose full stop was cut off is an abbreviation that never ends a sentence."""
    stem = stem.lstrip(_OPENERS)
    return stem in _NO_BREAK or (_INITIALS.fullmatch(stem) is not None and stem not in _DEGREES)


def ends_sentence(word: str, next_word: str) -> bool:
    """Whether a sentence break falls between ``word`` and ``next_word``."""
    word = word.replace(" ", "")
    core = word.rstrip(_CLOSERS)
    if not core or core[-1] not in ".?!" or core.endswith(".."):
        return False
    if next_word[0].islower() or next_word[0] in _NOT_A_START:
        return False
    quoted = any(c in CLOSING for c in word[len(core):])
    return core[-1] != "." or quoted or not _is_abbreviation(core[:-1])


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences; whitespace inside each is collapsed to one space."""
    words = _attach_closing_quotes(paragraph.split())
    in_brackets = _inside_brackets(words)
    sentences, current = [], []
    for i, word in enumerate(words):
        current.append(word)
        if i + 1 < len(words) and not in_brackets[i] and ends_sentence(word, words[i + 1]):
            sentences.append(" ".join(current))
            current = []
    if current:
        sentences.append(" ".join(current))
    return sentences

"""Quotation marks: the one definition the splitter, the labeling functions and context share.

Indonesian news uses straight (``"``, ``'``), curly (``“ ” ‘ ’``) and, rarely, angle
(``« »``) quotation marks. A straight or curly single mark is also an apostrophe
(``Syar'i``, ``Qur’an``), so code that counts quotations, rather than words, uses the
double marks only.
"""

OPENING = "\"“‘'«"  # every mark that can open a quotation
CLOSING = "\"”’'»"  # every mark that can close one
# Marks that are never apostrophes: what quotation spans and counts are built from.
DOUBLE_OPENING = "\"“‘«"
DOUBLE_CLOSING = "\"”’»"
CURLY_OPENING = "“«"  # only ever open
CURLY_CLOSING = "”»"  # only ever close
# Marks that only ever close a quotation when they start a word (’ is an apostrophe only inside one).
ONLY_CLOSING = "”’»"
# By family: (opening, closing, the straight mark that can be either).
FAMILIES = (("“", "”", '"'), ("‘", "’", "'"))

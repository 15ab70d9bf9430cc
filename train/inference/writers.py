"""The output formats of labeled records: JSONL and CSV (resumable), and a page to read (HTML).

A record is one labeled sentence (:meth:`~train.inference.predictor.Prediction.record`):
``article_id``, ``sentence_index``, ``text``, ``label``, ``score`` and ``probs``. Every
writer takes whole articles (:class:`~train.inference.labeling.ArticleResult`), so an output
cut short holds complete articles up to its last complete line, which is what ``--resume``
keeps. ``parse`` reads a line back for that.
"""

import csv
import html
import json
from collections import Counter

from ..core.labels import DEFINITIONS, LABELS
from ..core.render import HTML_END, html_start
from .labeling import ArticleResult

CSV_COLUMNS = ["article_id", "sentence_index", "text", "label", "score", *(f"prob_{label}" for label in LABELS)]
# Per label: a light background for the sentence and a dark shade for its border.
COLOURS = {
    "quote": ("#dcf2e0", "#1b7a35"),
    "opinion": ("#ffe8c2", "#a85a00"),
    "claim": ("#dbe8ff", "#1f4fb5"),
    "background": ("#e6e6e6", "#5a5a5a"),
}


class JsonlWriter:
    def __init__(self, handle, header: bool = True):  # JSONL has no header line
        self.handle = handle

    def write(self, result: ArticleResult) -> None:
        for record in result.records:
            self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def finish(self) -> None:
        pass

    @staticmethod
    def parse(line: str) -> dict:
        return json.loads(line)


class CsvWriter:
    """CSV with its header written before the first record, or at the end if there is none: a run
    stopped by its input before any record (an empty standard input) writes nothing at all."""

    def __init__(self, handle, header: bool = True):
        self.writer = csv.writer(handle, lineterminator="\n")
        self.header = header

    def _write_header(self) -> None:
        if self.header:
            self.writer.writerow(CSV_COLUMNS)
            self.header = False

    def finish(self) -> None:
        """At the end of the run: the header alone when no article had a sentence."""
        self._write_header()

    def write(self, result: ArticleResult) -> None:
        if result.records:
            self._write_header()
        for r in result.records:
            self.writer.writerow([r["article_id"], r["sentence_index"], r["text"], r["label"], r["score"],
                                  *(r["probs"][label] for label in LABELS)])

    @staticmethod
    def parse(line: str) -> dict:
        row = next(csv.reader([line]))
        if len(row) != len(CSV_COLUMNS):
            raise ValueError(f"expected {len(CSV_COLUMNS)} columns")
        return {"article_id": row[0], "sentence_index": int(row[1]), "text": row[2], "label": row[3],
                "score": float(row[4]), "probs": dict(zip(LABELS, map(float, row[5:])))}


WRITERS = {"jsonl": JsonlWriter, "csv": CsvWriter}


class HtmlWriter:
    """A page to read: every sentence on its own line, its label and score written out beside it.

    Each sentence carries a text tag (``[claim 0.87]``), so the label is readable without a
    mouse, without colour vision and in print; the colours only add to it. Every colour
    keeps dark text at a contrast ratio above 7:1 (WCAG AAA), and a left border of the
    label's darker shade sets neighbouring sentences apart even when they share a label.
    All article text and ids are escaped.
    """

    def __init__(self, handle, model: str = ""):
        self.handle = handle
        legend = "".join(
            f'<li class="s {label}"><span class="tag">{label}</span> {html.escape(DEFINITIONS[label])}</li>'
            for label in LABELS
        )
        css = (
            ".s{display:block;margin:.25em 0;padding:.15em .5em;border-left:.4em solid}"
            ".tag{font-family:monospace;font-weight:bold;white-space:nowrap}"
            ".legend{list-style:none;padding:0}.counts{color:#333}"
            + "".join(f".{label}{{background:{light};border-color:{dark}}}" for label, (light, dark) in COLOURS.items())
        )
        made_by = f"<p>Labeled by {html.escape(model)}.</p>\n" if model else ""
        handle.write(
            html_start("kalimat: labeled sentences", css, lang="id")
            + f'<h1>Labeled sentences</h1>\n{made_by}<ul class="legend">{legend}</ul>\n'
        )

    def write(self, result: ArticleResult) -> None:
        counts = Counter(r["label"] for r in result.records)
        sentences = "\n".join(
            f'<p class="s {r["label"]}"><span class="tag">[{r["label"]} {r["score"]:.2f}]</span> '
            f'{html.escape(r["text"])}</p>'
            for r in result.records
        ) or "<p><em>empty article: no sentences</em></p>"
        self.handle.write(
            f"<section>\n<h2>{html.escape(result.article_id)}</h2>\n"
            f'<p class="counts">{format_counts(counts)}</p>\n{sentences}\n</section>\n'
        )

    def close(self, counts: Counter) -> None:
        self.handle.write(f'<h2>All articles</h2>\n<p class="counts">{format_counts(counts)}</p>\n{HTML_END}')


def format_counts(counts: Counter) -> str:
    return ", ".join(f"{label} {counts[label]}" for label in LABELS)

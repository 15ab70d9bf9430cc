"""Documents made of headings, paragraphs, tables and images, rendered as Markdown or HTML.

Run reports and report comparisons are built once as a list of blocks and rendered to
either format, so the Markdown and the HTML page always say the same thing. All text is
treated as plain text: Markdown output escapes what would break a table or be read as
HTML, and HTML output escapes every string with :func:`html.escape`, because run names,
article text and file names come from users and must never become markup.
"""

import base64
import html
import io
import re
from dataclasses import dataclass

_RAW_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str


@dataclass
class Table:
    headers: list[str]
    rows: list[list]


@dataclass
class Image:
    """A PNG: Markdown links to ``path``, HTML embeds ``png`` so the page stands alone."""

    alt: str
    path: str
    png: bytes


def to_markdown(blocks: list) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            parts.append("#" * block.level + " " + _markdown_text(block.text))
        elif isinstance(block, Paragraph):
            parts.append(_markdown_text(block.text))
        elif isinstance(block, Table):
            lines = [
                "| " + " | ".join(_markdown_cell(h) for h in block.headers) + " |",
                "|" + "---|" * len(block.headers),
            ]
            lines += ["| " + " | ".join(_markdown_cell(c) for c in row) + " |" for row in block.rows]
            parts.append("\n".join(lines))
        elif isinstance(block, Image):
            parts.append(f"![{_markdown_text(block.alt)}]({block.path.replace(' ', '%20')})")
    return "\n\n".join(parts) + "\n"


# Every page's frame and base style; pages add their own rules (``css``).
_BASE_CSS = (
    "body{font-family:sans-serif;margin:2em auto;max-width:80em;padding:0 1em;line-height:1.5;color:#111}"
    "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
    "th{background:#f3f3f3}img{max-width:100%}"
)


def html_start(title: str, css: str = "", lang: str = "en") -> str:
    """The opening of a standalone HTML page, up to and including ``<body>``; ``title`` is escaped."""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_BASE_CSS}{css}</style>\n</head>\n<body>\n"
    )


HTML_END = "</body>\n</html>\n"


def to_html(title: str, blocks: list) -> str:
    body = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{html.escape(str(h))}</th>" for h in block.headers)
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in block.rows
            )
            body.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{rows}</tbody>\n</table>")
        elif isinstance(block, Image):
            data = base64.b64encode(block.png).decode("ascii")
            body.append(f'<img alt="{html.escape(block.alt)}" src="data:image/png;base64,{data}">')
    return html_start(title) + "\n".join(body) + "\n" + HTML_END


def figure_png(figure) -> bytes:
    """Render a matplotlib ``Figure`` to PNG bytes.

    Callers build ``matplotlib.figure.Figure`` objects directly instead of using pyplot,
    so no GUI backend or global figure state is involved and PNGs render with Agg.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    return buffer.getvalue()


def format_number(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def format_interval(interval) -> str:
    return "—" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def _markdown_text(text: str) -> str:
    # "<" before a letter, "/", "!" or "?" starts raw HTML in Markdown viewers; the text is
    # never meant as markup. A lone "<" (as in "p < 0.05") stays readable. A line break would
    # end a table row or start a heading ("run\n# name"): the text stays on one line.
    return " ".join(_RAW_HTML_START.sub("&lt;", str(text)).splitlines())


def _markdown_cell(value) -> str:
    return _markdown_text(str(value)).replace("|", "\\|")


def card_front_matter(pipeline_tag: str, tags: list[str], base_model: str | None = None) -> str:
    """The YAML front matter of a Hugging Face model card (``README.md`` of a model folder), by ``huggingface_hub``."""
    from huggingface_hub import ModelCardData

    data = ModelCardData(language="id", library_name="transformers", pipeline_tag=pipeline_tag, tags=tags,
                         base_model=base_model)
    return f"---\n{data.to_yaml()}\n---\n\n"

"""Read raw articles from text files, folders, JSONL files or standard input.

One reader serves both the dataset builder and batch inference, so an article is read the
same way wherever it enters the project. Inputs:

* ``a.txt``: one article; its id is the file name without ``.txt``.
* a folder: its ``.txt`` and ``.jsonl`` files, recursively (linked sub-folders followed,
  each real folder once), in sorted order; a text file's
  id is its path inside the folder without ``.txt`` (so equal names in sub-folders differ).
  Hidden files and folders (names starting with ``.``) are passed over, as git does: a
  folder copied from a Mac holds ``._<name>.txt`` metadata files, one opened in Jupyter
  ``.ipynb_checkpoints/`` copies of its articles. A hidden file named as an input is read.
* ``a.jsonl`` (or gzip-compressed ``a.jsonl.gz``): one article a line, ``{"id": ..., "text": ...}`` (raw text, to be cleaned
  and split) or ``{"id": ..., "sentences": [...]}`` (already split, kept as given; an empty sentence is
  bad input, so a sentence's position in the list is its index in the output); the id
  is a non-empty string or a whole number. Optional ``source`` (the outlet) and
  ``category`` (the news section) are kept: the dataset stratifies its splits by category.
* ``-``: standard input, read as JSONL when its first character is ``{``, else as one article;
  blank standard input holds no article, as an empty JSONL file does.

Text may be UTF-8 with or without a byte-order mark, with CRLF or CR line ends. A missing
path or a folder without such files always stops the run. A binary, undecodable or
unreadable file (no read permission), a sub-folder that cannot be listed (its articles
would be lost silently) and a malformed JSONL line raise :class:`BadInput`, unless
``skip_bad`` is set: then they are reported through ``warn`` and skipped. Empty articles are yielded with empty text,
since whether they are fatal depends on the caller.
"""

import gzip
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import KalimatError
from ..core.log import warn
from .cleaning import normalize_whitespace


class BadInput(KalimatError):
    """A file or line that cannot be read as an article."""


@dataclass
class Article:
    id: str
    text: str = ""
    sentences: list[str] | None = None  # set when the input was already split
    source: str = ""  # where it came from, for messages: "file" or "file:line"
    # Optional JSONL fields: the outlet (``"source"`` in IndoSum's records) and the news section.
    outlet: str = ""
    category: str = ""

    @property
    def is_empty(self) -> bool:
        if self.sentences is not None:
            return not any(s.strip() for s in self.sentences)
        return not self.text.strip()


def decode_text(data: bytes, name: str) -> str:
    """Decode UTF-8 (BOM optional) and normalise line ends, or raise a :class:`BadInput`.

    UTF-16 is named before the binary check, which its zero bytes would otherwise trip:
    Windows tools save text that way, and the fix is to re-save, not to look for another file.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInput(f"{name}: UTF-16 text; re-save it as UTF-8")
    if b"\x00" in data:  # anywhere: a NUL past the start would otherwise reach the output
        raise BadInput(f"{name}: looks like a binary file, not text; give UTF-8 text files only")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadInput(
            f"{name}: not valid UTF-8 (byte {err.start}); re-save the file as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _article_from_json(line: str, source: str) -> Article:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise BadInput(f"{source}: malformed JSON ({err.msg}); fix or remove the line") from None
    if not isinstance(record, dict) or "id" not in record:
        raise BadInput(f'{source}: a line must be an object with an "id"; fix or remove the line')
    article_id = record["id"]
    # Anything else (null, an object, true, "") would become a meaningless id such as "None".
    if isinstance(article_id, bool) or not isinstance(article_id, (str, int)) or article_id == "":
        raise BadInput(f'{source}: "id" must be a non-empty string or a whole number; fix the line')
    article_id = str(article_id)
    if any(ord(c) < 32 for c in article_id):  # a newline in an id would break CSV output and its resume
        raise BadInput(f'{source}: "id" holds a line break or control character; fix the line')
    if isinstance(record.get("sentences"), list) and "text" in record:
        raise BadInput(f'{source}: has both "text" and "sentences"; keep one (raw text, or sentences already split)')
    meta = {"outlet": record.get("source"), "category": record.get("category")}
    meta = {key: value for key, value in meta.items() if isinstance(value, str)}
    if isinstance(record.get("sentences"), list):
        sentences = record["sentences"]
        if not all(isinstance(s, str) for s in sentences):
            raise BadInput(f'{source}: "sentences" must be a list of strings')
        # A record's sentence_index is its position in this list, so none may vanish in between.
        if blank := [i for i, s in enumerate(sentences) if not normalize_whitespace(s)]:
            raise BadInput(f'{source}: "sentences" item {blank[0]} (from 0) is empty; remove the empty sentences')
        article = Article(article_id, sentences=sentences, source=source, **meta)
    elif isinstance(record.get("text"), str):
        article = Article(article_id, text=record["text"], source=source, **meta)
    else:
        raise BadInput(f'{source}: needs a "text" string or a "sentences" list of strings')
    try:  # a \ud800 escape without its pair decodes to a lone surrogate, which no tokenizer takes
        "".join([article.id, article.text, *(article.sentences or []), article.outlet, article.category]).encode()
    except UnicodeEncodeError:
        raise BadInput(f"{source}: holds a lone surrogate escape (\\ud800-\\udfff without its pair), not text; "
                       "fix the line") from None
    return article


def _jsonl_articles(lines: Iterable[bytes], name: str) -> Iterator[Article | BadInput]:
    """Parse JSONL line by line; a bad line is yielded as its error so the rest still reads."""
    for number, raw in enumerate(lines, start=1):
        source = f"{name}:{number}"
        try:
            line = decode_text(raw, source)
            if line.strip():
                yield _article_from_json(line, source)
        except BadInput as err:
            yield err


def _kind(path: Path) -> str | None:
    """``.txt``, ``.jsonl`` or ``.jsonl.gz`` (a compressed corpus), else ``None``."""
    name = path.name
    return next((kind for kind in (".jsonl.gz", ".jsonl", ".txt") if name.endswith(kind)), None)


def _file_articles(path: Path, article_id: str) -> Iterator[Article | BadInput]:
    if _kind(path) in (".jsonl", ".jsonl.gz"):
        opener = gzip.open if _kind(path) == ".jsonl.gz" else open
        try:
            with opener(path, "rb") as handle:  # streamed: a large file never sits in memory whole
                yield from _jsonl_articles(handle, str(path))
        except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
            yield BadInput(f"{path}: cannot be read ({_reason(err)}); check the file and its permissions")
        return
    if path.is_dir():  # listed by expand_inputs because it could not be read
        try:
            os.scandir(path).close()
        except OSError as err:
            yield BadInput(f"{path}: folder cannot be read ({_reason(err)}); its articles are left out, "
                           "fix its permissions")
        return
    try:
        yield Article(article_id, text=decode_text(path.read_bytes(), str(path)), source=str(path))
    except OSError as err:
        yield BadInput(f"{path}: cannot be read ({_reason(err)}); check the file and its permissions")
    except BadInput as err:
        yield err


def _reason(err: OSError | EOFError) -> str:
    """``Permission denied`` rather than ``[Errno 13] Permission denied: '/the/path'`` (the path leads the message)."""
    return getattr(err, "strerror", None) or str(err) or type(err).__name__


def _folder_files(folder: Path) -> list[Path]:
    """The article files below ``folder``, sorted, and the sub-folders that cannot be listed.

    ``Path.rglob`` passes over an unreadable sub-folder in silence; here it is listed as an
    entry of its own, which reading turns into a :class:`BadInput` (or a reported skip).
    Linked sub-folders are followed, each real folder read once, so a link cycle ends.
    Hidden files and folders are left out (see the module docstring).
    """
    found = []
    unreadable = []
    seen = {os.path.realpath(folder)}
    for root, folders, names in os.walk(folder, followlinks=True,
                                        onerror=lambda err: unreadable.append(Path(err.filename))):
        kept = []
        for name in sorted(folders):  # sorted: which of two links to one folder is read does not vary
            if name.startswith("."):
                continue
            real = os.path.realpath(os.path.join(root, name))
            if real not in seen:
                seen.add(real)
                kept.append(name)
        folders[:] = kept
        found += [path for path in (Path(root) / name for name in names if not name.startswith("."))
                  if path.is_file() and _kind(path)]
    return sorted(found + unreadable)


def _stdin_articles() -> Iterator[Article | BadInput]:
    data = sys.stdin.buffer.read()
    if not data.strip():  # nothing was piped in (a failed command before the pipe, say): no article at all
        return
    if data.lstrip().startswith(b"{"):
        yield from _jsonl_articles(data.splitlines(), "<stdin>")
        return
    try:
        yield Article("stdin", text=decode_text(data, "<stdin>"), source="<stdin>")
    except BadInput as err:
        yield err


def expand_inputs(inputs: Iterable[str]) -> list[tuple[Path | None, str]]:
    """List (file, article id) for every file the inputs name, (None, "-") for stdin.

    Done up front, so a missing path stops the run before any output is written.
    """
    found: list[tuple[Path | None, str]] = []
    for item in inputs:
        if item == "-":
            found.append((None, "-"))
            continue
        path = Path(item)
        if path.is_dir():
            files = _folder_files(path)
            if not files:  # most likely the wrong folder: reading nothing must not look like success
                raise KalimatError(f"{path}: no .txt, .jsonl or .jsonl.gz files in this folder; check the path")
            found += [(file, file.relative_to(path).as_posix().removesuffix(_kind(file) or "")) for file in files]
        elif path.is_file():
            if not _kind(path):
                raise KalimatError(f"{path}: unsupported file type; give .txt, .jsonl or .jsonl.gz files or a folder")
            found.append((path, path.name.removesuffix(_kind(path))))
        else:
            raise KalimatError(f"{path}: no such file or folder; check the path")
    return found


def read_articles(
    inputs: Iterable[str],
    skip_bad: bool = False,
    warn: Callable[[str], None] = warn,
) -> Iterator[Article]:
    """Return an iterator over the articles of every input, in order (see the module docstring).

    The inputs are checked before this returns, so a missing path raises here, not midway.
    """
    return _articles(expand_inputs(inputs), skip_bad, warn)


def _articles(files, skip_bad, warn) -> Iterator[Article]:
    for path, article_id in files:
        items = _stdin_articles() if path is None else _file_articles(path, article_id)
        for item in items:
            if isinstance(item, Article):
                yield item
            elif skip_bad:
                warn(f"skipped: {item}")
            else:
                raise item

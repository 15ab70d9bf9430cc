"""Interrupted runs: the partial output, what made it, and continuing it (``--resume``).

With ``--output FILE`` records go to ``FILE.partial``, which becomes ``FILE`` only when the
run succeeds; ``FILE.partial.json`` and then ``FILE.json`` record what made it
(:func:`provenance`). ``--resume`` keeps the complete articles at the start of the partial
file (or of the finished ``FILE``), drops a trailing incomplete one and labels the rest, so
the result equals an uninterrupted run; it refuses a file another model, precision or
calibration made.
"""

import json
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from ..core.errors import KalimatError
from ..core.hashing import Digest, files_sha256
from ..data.preprocess import Preprocessor
from .int8_engine import ENGINE_FILE, weights_sha256
from .labeling import ArticleResult
from .writers import CSV_COLUMNS, WRITERS


def partial_path(output: Path) -> Path:
    return output.with_name(output.name + ".partial")


def scan_resumable(path: Path, fmt: str) -> tuple[int, list[str]]:
    """Byte length of the complete articles at the start of ``path``, and their ids.

    A record line without its newline is incomplete, and the last article may have been
    cut short, so both are dropped; the article is labeled again.
    """
    parse = WRITERS[fmt].parse
    done_ids, article_start, end = [], 0, 0
    with open(path, "rb") as handle:
        if fmt == "csv":
            header = handle.readline()
            if not header:  # interrupted before the header was written
                return 0, []
            if header.decode("utf-8", "replace").rstrip("\n").split(",") != CSV_COLUMNS:
                raise not_output(path, fmt)
            article_start = end = len(header)
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                record = parse(raw.decode("utf-8"))
                starts_article = record["sentence_index"] == 0
            except (ValueError, KeyError, TypeError):
                raise not_output(path, fmt) from None
            if starts_article:
                done_ids.append(record["article_id"])
                article_start = end
            end += len(raw)
    if len(done_ids) <= 1:
        return 0, []
    return article_start, done_ids[:-1]


def not_output(path: Path, fmt: str) -> KalimatError:
    """Starting over instead would overwrite a file that may be another format's finished run."""
    return KalimatError(f"--resume: {path} is not {fmt} output of kalimat-predict; drop --resume or change --format")


def resumed_results(path: Path, fmt: str, length: int, empty: dict[int, list[ArticleResult]]) -> Iterator[ArticleResult]:
    """The articles in the first ``length`` bytes of ``path``, with the ``empty`` ones of
    :func:`skip_resumed` in their places, for the page and the summary."""
    parse = WRITERS[fmt].parse
    current, started = None, 0
    with open(path, "rb") as handle:
        if fmt == "csv":
            handle.readline()
        while handle.tell() < length:
            record = parse(handle.readline().decode("utf-8"))
            if record["sentence_index"] == 0:
                if current is not None:
                    yield current
                yield from empty.get(started, [])
                started += 1
                current = ArticleResult(record["article_id"], str(path), resumed=True)
            current.records.append(record)
    if current is not None:
        yield current


def provenance(model_dir: Path, precision: str) -> dict:
    """What made an output: the model folder, the precision, and hashes of all that shapes the records.

    That is the weights (and the int8 engine), and, as ``settings_sha256``, config.json (label
    maps, calibration temperature), the tokenizer and the cleaning patterns.
    """
    model_dir = Path(model_dir)
    settings = Digest().bytes(json.dumps(Preprocessor.load(model_dir).to_dict()).encode())
    for name in ("config.json", "tokenizer.json"):
        settings.file(model_dir / name)
    made_by = {"model": str(model_dir.resolve()), "weights_sha256": weights_sha256(model_dir),
               "settings_sha256": settings.hexdigest(), "precision": precision}
    if precision == "int8":  # the engine's fixed scales shape the output too
        made_by["engine_sha256"] = files_sha256([model_dir / ENGINE_FILE])
    return made_by


def sidecar_path(path: Path) -> Path:
    """``PATH.json``, the provenance of an output file (``FILE.partial.json``, then ``FILE.json``),
    so a resume of either cannot mix two models."""
    return path.with_name(path.name + ".json")


def check_resume_provenance(path: Path, made_by: dict) -> None:
    """Refuse to continue ``path`` unless its provenance says this model and precision made it."""
    sidecar = sidecar_path(path)
    if not sidecar.exists():
        raise KalimatError(f"--resume: {path} has no {sidecar.name} beside it recording which model labeled it; "
                           "start over without --resume")
    before = json.loads(sidecar.read_text(encoding="utf-8"))
    changed = sorted(key for key in before.keys() | made_by.keys() if key != "model" and before.get(key) != made_by.get(key))
    if changed:
        raise KalimatError(
            f"--resume: {path} was labeled by {before.get('model')} at precision {before.get('precision')}, "
            f"not by {made_by['model']} at {made_by['precision']} ({', '.join(changed)} differ); resume with the same "
            "--model (weights, int8 engine, config, tokenizer and cleaning patterns unchanged) and --precision, "
            "or start over without --resume"
        )


def prepare_resume(output: Path, fmt: str, made_by: dict) -> tuple[int, list[str]]:
    """Make ``output``'s partial file hold only complete articles; return its length and their ids.

    The file (``FILE.partial``, else the finished ``FILE``) and its provenance are checked before
    it is copied, so refusing it leaves no copy behind.
    """
    partial = partial_path(output)
    source = partial if partial.exists() else output
    if not source.exists():
        return 0, []
    length, done_ids = scan_resumable(source, fmt)
    if length:  # nothing kept, nothing to mix
        check_resume_provenance(source, made_by)
    if source == output:
        shutil.copyfile(output, partial)
    with open(partial, "r+b") as handle:
        handle.truncate(length)
    return length, done_ids


def skip_resumed(articles: Iterator, done_ids: list[str], preprocessor: Preprocessor) -> dict[int, list[ArticleResult]]:
    """Read ``articles`` past the leading ones already in the output: they must come first, in order.

    Matched by position, not by id alone, so repeated ids in the input stay correct. An article
    without sentences inside the resumed part left no records; it is returned, under the
    number of resumed articles before it, so the page and the summary still show it.
    """
    empty = defaultdict(list)
    position = 0
    while position < len(done_ids):
        article = next(articles, None)
        if article is None:
            raise KalimatError("--resume: the output holds articles the inputs do not have; drop --resume")
        if article.id == done_ids[position]:
            position += 1
        elif not preprocessor.article_sentences(article)[0]:
            empty[position].append(ArticleResult(article.id, article.source, resumed=True))
        else:
            raise KalimatError(
                f"--resume: the output holds article {done_ids[position]!r} where the inputs have "
                f"{article.id!r}; give the same inputs as the interrupted run, or drop --resume"
            )
    return empty

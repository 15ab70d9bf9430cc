"""Label every sentence of many articles with an exported model (``kalimat-predict``).

    python scripts/predict.py --model models/<run_name> [--output FILE] [--format jsonl|csv]
        [--html FILE] [--batch-size N] [--device auto|cpu|cuda] [--precision auto|fp32|bf16|fp16|int8]
        [--resume] [--skip-bad] INPUT...

Inputs are read by :func:`train.data.articles.read_articles` and cleaned and split by the
model's own :class:`~train.data.preprocess.Preprocessor`, exactly as its training data was.

How a run goes:

* Checked first: the input and output paths (an output folder this user cannot write in
  included), then every input file read once without the model (cheap next to inference),
  then the model folder. A bad file or JSONL line therefore stops the run before any output
  is written, even to standard output. Standard input cannot be read twice, so it is
  checked as it is labeled. Missing folders of ``--output`` are created once these checks
  pass, just before the model is loaded, and removed again if the model is refused then.
* One job per output: ``FILE.lock`` beside each output file is locked (``flock``) while the
  run lasts, so a second run on the same ``--output`` or ``--html`` is refused before it
  loads the model. The kernel drops the lock when a run dies, so a kill never blocks ``--resume``.
* Streamed: articles are read lazily and labeled in chunks of about ``--chunk-sentences``
  sentences (batched across articles, sorted by length), and each chunk's records are
  written before the next chunk is read, so memory stays flat however long the input.
* All or nothing: with ``--output FILE`` records go to ``FILE.partial``, which becomes
  ``FILE`` only when the run succeeds; the ``--html`` page is written the same way. A
  symbolic link is followed: the file it points to is replaced, the link stays.
* Streams are written through: a FIFO, a character device or a path under ``/dev/``
  (``/dev/stdout``) gets the records as they come, with no ``.partial`` file and nothing
  to ``--resume``; such a file is never replaced.
* Resumable: an interrupted run (Ctrl-C, a kill, a full disk) leaves ``FILE.partial``.
  ``--resume`` keeps the complete articles at its start (or of ``FILE``), drops a trailing
  incomplete one and labels the rest, so the result equals an uninterrupted run. Beside
  each file, ``FILE.partial.json`` and then ``FILE.json`` record what made it (see
  :func:`provenance`); ``--resume`` refuses a file whose record is missing or differs.
* Parallel: under ``accelerate launch`` every process labels every N-th article into a
  shard file beside the output; the main process merges the shards in article order into
  one output. The processes must share a file system (one machine, or a shared disk).
"""

import argparse
import csv
import errno
import html
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import chain, count
from pathlib import Path

from accelerate.utils import broadcast_object_list, gather_object
from tqdm.auto import tqdm
from transformers.utils import logging as hf_logging

from ..core.atomic import (
    atomic_file,
    check_output,
    destination,
    fsync_path,
    is_stream,
    make_parents,
    remove_if_empty,
    write_json,
)
from ..core.distributed import process_state
from ..core.errors import KalimatError, exit_on_error
from ..core.hashing import Digest, files_sha256
from ..core.labels import DEFINITIONS, LABELS
from ..core.locking import FileLock, Locked
from ..core.precision import DEVICES, INFERENCE_PRECISIONS, resolve_device
from ..data.articles import expand_inputs, read_articles
from ..data.preprocess import Preprocessor
from ..reporting.render import HTML_END, html_start
from .int8_engine import ENGINE_FILE, weights_sha256
from .predictor import Predictor, check_model_dir

CSV_COLUMNS = ["article_id", "sentence_index", "text", "label", "score", *(f"prob_{label}" for label in LABELS)]
# Per label: a light background for the sentence and a dark shade for its border.
COLOURS = {
    "quote": ("#dcf2e0", "#1b7a35"),
    "opinion": ("#ffe8c2", "#a85a00"),
    "claim": ("#dbe8ff", "#1f4fb5"),
    "background": ("#e6e6e6", "#5a5a5a"),
}


def output_file(value: str) -> Path:
    """A file name: ``Path`` drops a trailing ``/``, which would turn a folder meant to be made into a file."""
    if value.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{value} ends with / (a folder); give a file name, e.g. {value}out.jsonl")
    return Path(value)


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors as one ``error:`` line and exit status 2, like every other bad input."""

    def error(self, message):
        raise KalimatError(f"{message}; see kalimat-predict --help")


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(
        prog="kalimat-predict",
        description="Label every sentence of Indonesian news articles as claim, quote, opinion or background.",
        epilog=(
            "Output: one record per sentence, in article and sentence order: article_id, "
            "sentence_index (from 0), text, label, score (the label's probability) and probs "
            "(all four labels; CSV columns prob_<label>). A summary goes to standard error. "
            "With --output FILE the file appears only when the run succeeds, with FILE.json recording the model "
            "that made it; an interrupted run leaves FILE.partial for --resume; a FIFO or device (/dev/stdout) "
            "is written through. "
            "One run at a time per output (FILE.lock). Bad input stops the run with exit status 2 before "
            "any output is written (standard input is checked as it is read). "
            "For many processes or GPUs: accelerate launch scripts/predict.py ..."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help=".txt file (one article), folder (its .txt and .jsonl files, recursively), "
                        '.jsonl file ({"id", "text"} or {"id", "sentences"} a line), or - for standard input')
    parser.add_argument("--model", required=True, help="exported model folder, e.g. models/<run_name>")
    parser.add_argument("--output", type=output_file, help="write records here instead of standard output")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="output format (default: jsonl)")
    parser.add_argument("--html", type=output_file, help="also write a readable page: sentences coloured by label")
    parser.add_argument("--batch-size", type=int, default=32, help="sentences per forward pass (default: 32)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="default: cuda when available, else cpu")
    parser.add_argument("--precision", choices=INFERENCE_PRECISIONS, default="auto",
                        help="auto: the model's int8 engine (model_int8.onnx, ONNX Runtime) on x86 CPUs (without "
                        "it: bf16 on CPUs with AMX, else fp32), bf16 or else fp16 on GPUs, fp32 elsewhere; fp32 "
                        "forces the plain model (default: auto)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the articles already in --output (or its .partial file) and label the rest; "
                        "refused unless the same model and precision made them")
    parser.add_argument("--skip-bad", action="store_true",
                        help="report and skip unreadable files and malformed JSONL lines instead of stopping")
    parser.add_argument("--chunk-sentences", type=int, default=2048,
                        help="sentences labeled together; memory grows with it (default: 2048)")
    args = parser.parse_args(argv)
    if args.resume and args.output is None:
        raise KalimatError("--resume needs --output FILE, the output of the interrupted run")
    if args.chunk_sentences < 1:
        raise KalimatError("--chunk-sentences must be at least 1")
    if args.batch_size < 1:  # here, not when the model is loaded: before any output file is touched
        raise KalimatError("--batch-size must be at least 1")
    # Streams are written through; a file is written beside the file a link points to.
    args.stream = args.output is not None and is_stream(args.output)
    args.target = None if args.output is None or args.stream else destination(args.output)
    check_paths(args)
    if args.resume and args.stream:
        raise KalimatError(f"--resume: --output {args.output} is a stream (a FIFO or a device), written through as "
                           "the run goes, with nothing to resume; drop --resume, or write to a file")
    return args


def check_paths(args) -> None:
    """Refuse, before the long run, paths that would fail at its end or overwrite an input.

    Listing the inputs here also stops every process on a missing path before the model loads.
    """
    inputs = {path.resolve() for path, _ in expand_inputs(args.inputs) if path is not None}
    for option, path in [("--output", args.output), ("--html", args.html)]:
        if path is None:
            continue
        check_output(option, path)
        if path.resolve() in inputs:
            raise KalimatError(f"{option} {path}: is also an input and would be overwritten; write elsewhere")
    if args.output is not None and args.html is not None:
        # Beside FILE the run writes FILE.partial and their provenance records FILE.json, FILE.partial.json.
        written = [args.output]
        if args.target is not None:
            written += [partial_path(args.target), sidecar_path(args.target), sidecar_path(partial_path(args.target))]
        if args.html.resolve() in {p.resolve() for p in written}:
            raise KalimatError(f"--html {args.html}: is also the --output file or one written beside it "
                               f"({args.output.name}.partial, {args.output.name}.json); give the page another name")


@dataclass
class ArticleResult:
    """One article's records; ``resumed`` ones are already in the output file."""

    article_id: str
    source: str
    records: list[dict] = field(default_factory=list)
    resumed: bool = False


# ---------------------------------------------------------------- labeling


def label_articles(articles: Iterable, preprocessor: Preprocessor, predictor: Predictor,
                   chunk_sentences: int) -> Iterator[ArticleResult]:
    """Label articles chunk by chunk, so one forward batch can mix sentences of many articles."""
    chunk, size = [], 0
    for article in articles:
        sentences, _removed = preprocessor.article_sentences(article)
        chunk.append((article, sentences))
        size += len(sentences)
        if size >= chunk_sentences:
            yield from _label_chunk(chunk, predictor)
            chunk, size = [], 0
    yield from _label_chunk(chunk, predictor)


def _label_chunk(chunk, predictor: Predictor) -> Iterator[ArticleResult]:
    labeled = predictor.predict_articles([sentences for _, sentences in chunk])
    for (article, sentences), predictions in zip(chunk, labeled):
        records = [p.record(article.id, index, sentence) for index, (sentence, p) in enumerate(zip(sentences, predictions))]
        yield ArticleResult(article.id, article.source, records)


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


# ---------------------------------------------------------------- writers


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
            f'<p class="counts">{_format_counts(counts)}</p>\n{sentences}\n</section>\n'
        )

    def close(self, counts: Counter) -> None:
        self.handle.write(f'<h2>All articles</h2>\n<p class="counts">{_format_counts(counts)}</p>\n{HTML_END}')


def _format_counts(counts: Counter) -> str:
    return ", ".join(f"{label} {counts[label]}" for label in LABELS)


# ---------------------------------------------------------------- resume


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


# ---------------------------------------------------------------- sharding


def write_shard(results: Iterable[ArticleResult], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps([result.article_id, result.source, result.records], ensure_ascii=False) + "\n")


def merge_shards(paths: list[Path]) -> Iterator[ArticleResult]:
    """Article k was labeled by process k mod N: read the shards round-robin to restore the order."""
    with ExitStack() as stack:
        shards = [stack.enter_context(open(path, encoding="utf-8")) for path in paths]
        for k in count():
            line = shards[k % len(shards)].readline()
            if not line:
                return
            yield ArticleResult(*json.loads(line))


# ---------------------------------------------------------------- the run


class Summary:
    def __init__(self):
        self.start = time.perf_counter()
        self.articles = self.empty = self.resumed = self.labeled = 0
        self.written = 0  # articles whose records are in the output (resumed ones included)
        self.truncated = 0  # inputs longer than the model reads, cut to its maximum length
        self.counts = Counter()
        self.skipped = []  # --skip-bad's reports, for the error when nothing was left to label

    def skip(self, message: str) -> None:
        self.skipped.append(message)
        warn(message)

    def add(self, result: ArticleResult) -> None:
        self.articles += 1
        self.empty += not result.records
        self.resumed += result.resumed
        self.labeled += 0 if result.resumed else len(result.records)
        self.counts.update(r["label"] for r in result.records)

    def line(self, predictor: Predictor, processes: int, made_by: dict) -> str:
        seconds = time.perf_counter() - self.start
        return (
            f"summary: {_plural(self.articles, 'article')} ({self.empty} empty, {self.resumed} resumed), "
            f"{_plural(sum(self.counts.values()), 'sentence')}: {_format_counts(self.counts)}; "
            f"{self.truncated} of the {self.labeled} labeled were longer than the model's {predictor.max_length} "
            f"tokens and cut; {self.labeled / seconds:.1f} sentences/s labeled in {seconds:.1f} s, model load included "
            f"({predictor.device.type}, {predictor.precision}, {processes} process{'es' if processes > 1 else ''}; "
            f"model {made_by['model']}, weights sha256 {made_by['weights_sha256'][:12]})"
        )


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def warn(message: str) -> None:
    tqdm.write(f"warning: {message}", file=sys.stderr)  # above the progress bar, not through it


def ignore(message: str) -> None:
    """For warnings another process or an earlier pass already printed."""


class DiskFull(KalimatError):
    """No space left while writing: the partial output is kept for ``--resume``."""


def disk_full(args, summary: Summary, err: OSError) -> DiskFull:
    """One line: what was being written, what the output keeps, how to go on."""
    where = err.filename or " or ".join(map(str, filter(None, [args.output or "standard output", args.html])))
    done = _plural(summary.written, "complete article")
    if args.target is not None:
        kept = (f"{partial_path(args.target)} keeps {done}; free some space and run the same command with --resume "
                "to label the rest")
    else:
        kept = (f"{args.output or 'standard output'} received {done}; a stream cannot be resumed: free some space "
                "and run again, or write to a file with --output FILE to be able to --resume")
    return DiskFull(f"{os.strerror(err.errno).lower()} while writing {where}: {kept}")


def write_results(results: Iterable[ArticleResult], args, resume_length: int, summary: Summary) -> None:
    """Write every result to the output and the page, then move both into place."""
    summary.written = summary.resumed
    try:
        _write_results(results, args, resume_length, summary)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise disk_full(args, summary, err) from None
        raise


def _write_results(results: Iterable[ArticleResult], args, resume_length: int, summary: Summary) -> None:
    with ExitStack() as stack:
        if args.output is None:
            handle = sys.stdout
        elif args.stream:  # a FIFO or a device: written through, never replaced
            handle = stack.enter_context(open(args.output, "w", encoding="utf-8", newline=""))
        else:
            handle = stack.enter_context(open(partial_path(args.target), "a" if resume_length else "w",
                                              encoding="utf-8", newline=""))
        writer = WRITERS[args.format](handle, header=not resume_length)
        page = HtmlWriter(stack.enter_context(atomic_file(args.html)), model=str(args.model)) if args.html else None
        seen: dict[str, str] = {}
        for result in results:
            if not result.records:
                warn(f"{result.source}: article {result.article_id!r} is empty after cleaning; no sentences labeled")
            if result.article_id in seen:  # 7 and "7" too: both become the id "7"
                warn(f"{result.source}: article id {result.article_id!r} was used before ({seen[result.article_id]}); "
                     "their records share it, give every article a unique id")
            seen.setdefault(result.article_id, result.source)
            if not result.resumed:
                writer.write(result)
                handle.flush()
                summary.written += 1
            if page:
                page.write(result)
            summary.add(result)
        if not summary.articles:  # standard input, which was not read before the run
            raise nothing_to_label(args.inputs, summary.skipped)
        writer.finish()
        if page:
            page.close(summary.counts)
    if args.target is not None:
        partial = partial_path(args.target)
        fsync_path(partial)
        sidecar_path(args.target).unlink(missing_ok=True)  # the replaced FILE's provenance must not outlive it
        os.replace(partial, args.target)
        os.replace(sidecar_path(partial), sidecar_path(args.target))
        fsync_path(args.target.parent)


def count_articles(inputs: list[str], skip_bad: bool) -> int | None:
    """Read every input file once, so bad input stops the run before any output; None with stdin.

    Standard input cannot be read twice: it is left out here, and checked as it is labeled.
    """
    files = [item for item in inputs if item != "-"]
    skipped = []
    total = sum(1 for _ in read_articles(files, skip_bad=skip_bad, warn=skipped.append))
    if len(files) < len(inputs):
        return None
    if total == 0:
        raise nothing_to_label(inputs, skipped)
    return total


def nothing_to_label(inputs: list[str], skipped: list[str]) -> KalimatError:
    """Nothing to label is an error, as an empty folder is: an empty JSONL or standard input, or
    inputs that ``--skip-bad`` skipped entirely, must not look like a successful run."""
    why = f" ({len(skipped)} skipped as bad input: {skipped[0].removeprefix('skipped: ')})" if skipped else ""
    return KalimatError(f"{' '.join(map(str, inputs))}: no articles to label{why}; check the input files")


def lock_outputs(args, stack: ExitStack) -> None:
    """Hold ``FILE.lock`` beside every output file until the run ends, or refuse with one line.

    Streams are not locked: nothing is replaced there, and ``/dev`` is no place for lock files.
    """
    for option, path in [("--output", args.output), ("--html", args.html)]:
        if path is None or is_stream(path):
            continue
        target = destination(path)
        lock = target.with_name(target.name + ".lock")
        try:
            stack.enter_context(FileLock(lock))
        except Locked as err:
            raise KalimatError(
                f"{option} {path}: another kalimat-predict run (process {err.pid or 'unknown'}) is writing it "
                f"(lock {lock}); wait for it to finish, or choose another {option}"
            ) from None


def run(args, state) -> None:
    summary = Summary()
    main_process = state.is_main_process
    with ExitStack() as locks:
        total = count_articles(args.inputs, args.skip_bad) if main_process else None
        preprocessor = Preprocessor.load(args.model)
        if main_process:
            check_model_dir(args.model)
            for path in (args.target, args.html):
                if path is not None and not is_stream(path):  # only now that input and model folder are checked
                    args.made_folders += make_parents(destination(path))
            lock_outputs(args, locks)
        _label(args, state, summary, preprocessor, total)


def _label(args, state, summary: Summary, preprocessor: Preprocessor, total: int | None) -> None:
    main_process = state.is_main_process
    device = resolve_device(args.device)
    if state.num_processes > 1 and device.type == "cuda":
        device = state.device
    predictor = Predictor(args.model, device=device, precision=args.precision, batch_size=args.batch_size)

    resume_length, done_ids, shard_dir = 0, [], None
    made_by = provenance(args.model, predictor.precision)
    if main_process and args.target is not None:
        # Only a .partial file this run starts afresh is its own, to go if a KalimatError stops it;
        # a partial kept for --resume stays, and until now the run has written nothing.
        fresh_partial = not (args.resume and partial_path(args.target).exists())
        if args.resume:
            resume_length, done_ids = prepare_resume(args.target, args.format, made_by)
        args.fresh_partial = fresh_partial
        write_json(sidecar_path(partial_path(args.target)), made_by)
    if state.num_processes > 1:
        if main_process:
            shard_dir = tempfile.mkdtemp(prefix=".kalimat-shards-", dir=args.target.parent if args.target else None)
        shared = [done_ids, shard_dir]
        broadcast_object_list(shared)
        done_ids, shard_dir = shared

    articles = read_articles(args.inputs, skip_bad=args.skip_bad, warn=summary.skip if main_process else ignore)
    empty = skip_resumed(articles, done_ids, preprocessor)
    mine = (a for k, a in enumerate(articles) if k % state.num_processes == state.process_index)
    skipped = len(done_ids) + sum(map(len, empty.values()))
    share = None if total is None else -(-max(0, total - skipped) // state.num_processes)
    results = tqdm(label_articles(mine, preprocessor, predictor, args.chunk_sentences), total=share,
                   unit="article", file=sys.stderr, disable=None if main_process else True, delay=2)
    resumed = resumed_results(partial_path(args.target), args.format, resume_length, empty) if resume_length else []

    try:
        if state.num_processes == 1:
            write_results(chain(resumed, results), args, resume_length, summary)
            summary.truncated = predictor.truncated
        else:
            shards = [Path(shard_dir) / f"{rank}.jsonl" for rank in range(state.num_processes)]
            write_shard(results, shards[state.process_index])
            state.wait_for_everyone()
            summary.truncated = sum(gather_object([predictor.truncated]))
            if main_process:
                write_results(chain(resumed, merge_shards(shards)), args, resume_length, summary)
    finally:
        if shard_dir and main_process:
            shutil.rmtree(shard_dir, ignore_errors=True)
    if main_process:
        print(summary.line(predictor, state.num_processes, made_by), file=sys.stderr)


@exit_on_error
def main(argv=None) -> None:
    args = parse_args(argv)
    hf_logging.disable_progress_bar()  # per-file loading bars would bury the summary
    state = process_state()
    args.fresh_partial, args.made_folders = False, []
    try:
        run(args, state)
    except DiskFull:
        raise  # the partial file keeps the finished articles for --resume
    except KalimatError:
        if args.fresh_partial and state.is_main_process:
            partial_path(args.target).unlink(missing_ok=True)
            sidecar_path(partial_path(args.target)).unlink(missing_ok=True)
        remove_if_empty(args.made_folders)  # the model was refused after --output's folders were made
        raise
    except KeyboardInterrupt:
        if args.target is not None:
            print(f"interrupted: {partial_path(args.target)} keeps the finished articles; "
                  "run again with --resume to continue", file=sys.stderr)
        elif args.stream:
            print(f"interrupted: {args.output} received the articles labeled so far; a stream cannot be resumed",
                  file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # The reader left (e.g. `| head`): stop quietly, with the status a shell gives SIGPIPE.
        # Standard output goes to devnull so the flush at exit cannot fail again (Python docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)

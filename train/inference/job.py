"""One ``kalimat-predict`` job: read, label, write, and say what happened (see :mod:`train.inference.predict`).

The job follows a :class:`Plan` (the checked command line) and keeps what it changes on disk
in a :class:`JobState`, so that a refused or failed job can undo exactly what it made.
"""

import errno
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from accelerate.utils import broadcast_object_list, gather_object
from tqdm.auto import tqdm

from ..core.atomic import atomic_file, destination, fsync_path, is_stream, make_parents, write_json, write_jsonl
from ..core.errors import KalimatError
from ..core.log import warn
from ..core.locking import FileLock, Locked
from ..core.precision import resolve_device
from ..data.articles import read_articles
from ..data.preprocess import Preprocessor
from . import shards
from .labeling import ArticleResult, label_articles
from .predictor import Predictor, check_model_dir
from .resume import (
    check_resume_provenance,
    partial_path,
    prepare_resume,
    provenance,
    resumed_results,
    sidecar_path,
    skip_resumed,
)
from .writers import WRITERS, HtmlWriter, format_counts


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide ``--ray`` runs (:mod:`train.inference.ray_batch`)."""

    address: str | None = None
    concurrency: int = 1
    cpus_per_actor: float = 1
    gpus_per_actor: float = 0
    articles_per_call: int = 64


@dataclass(frozen=True)
class Plan:
    """What the command line asks for, checked (see :func:`train.inference.predict.parse_args`)."""

    inputs: list[str]
    model: Path
    output: Path | None = None
    format: str = "jsonl"
    html: Path | None = None
    nonprose: Path | None = None
    batch_size: int = 32
    device: str = "auto"
    precision: str = "auto"
    resume: bool = False
    skip_bad: bool = False
    chunk_sentences: int = 2048
    ray: RayOptions | None = None

    @property
    def stream(self) -> bool:
        """``--output`` is a FIFO or a device: written through as the records come, never replaced."""
        return self.output is not None and is_stream(self.output)

    @property
    def target(self) -> Path | None:
        """The file ``--output`` ends up as (a link followed); None for standard output or a stream."""
        return None if self.output is None or self.stream else destination(self.output)

    def files(self) -> list[tuple[str, Path]]:
        """Every file the job writes besides ``--output`` (which has its partial file and records)."""
        return [(option, path) for option, path in (("--html", self.html), ("--nonprose", self.nonprose)) if path]


@dataclass
class JobState:
    fresh_partial: bool = False  # FILE.partial was started by this job: it goes if the job is refused
    made_folders: list[Path] = field(default_factory=list)  # folders made for the outputs


class Summary:
    def __init__(self):
        self.start = time.perf_counter()
        self.articles = self.empty = self.resumed = self.labeled = 0
        self.written = 0  # articles whose records are in the output (resumed ones included)
        self.truncated = 0  # inputs longer than the model reads, cut to its maximum length
        self.left_out = 0  # lines left out as not prose
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
        self.left_out += 0 if result.resumed else len(result.left_out)
        self.counts.update(r["label"] for r in result.records)

    def line(self, predictor: Predictor, processes: int, made_by: dict) -> str:
        seconds = time.perf_counter() - self.start
        return (
            f"summary: {plural(self.articles, 'article')} ({self.empty} empty, {self.resumed} resumed), "
            f"{plural(sum(self.counts.values()), 'sentence')}: {format_counts(self.counts)}; "
            f"{plural(self.left_out, 'line')} left out as not prose; "
            f"{self.truncated} of the {self.labeled} labeled were longer than the model's {predictor.max_length} "
            f"tokens and cut; {self.labeled / seconds:.1f} sentences/s labeled in {seconds:.1f} s, model load included "
            f"({predictor.device.type}, {predictor.precision}, {processes} process{'es' if processes > 1 else ''}; "
            f"model {made_by['model']}, weights sha256 {made_by['weights_sha256'][:12]})"
        )


def plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def ignore(message: str) -> None:
    """For warnings another process or an earlier pass already printed."""


class DiskFull(KalimatError):
    """No space left while writing: the partial output is kept for ``--resume``."""


def disk_full(plan: Plan, summary: Summary, err: OSError) -> DiskFull:
    """One line: what was being written, what the output keeps, how to go on."""
    where = err.filename or " or ".join(map(str, filter(None, [plan.output or "standard output", plan.html])))
    done = plural(summary.written, "complete article")
    if plan.target is not None:
        kept = (f"{partial_path(plan.target)} keeps {done}; free some space and run the same command with --resume "
                "to label the rest")
    else:
        kept = (f"{plan.output or 'standard output'} received {done}; a stream cannot be resumed: free some space "
                "and run again, or write to a file with --output FILE to be able to --resume")
    return DiskFull(f"{os.strerror(err.errno).lower()} while writing {where}: {kept}")


def write_results(results: Iterable[ArticleResult], plan: Plan, resume_length: int, summary: Summary) -> None:
    """Write every result to the output and the page, then move both into place."""
    summary.written = summary.resumed
    try:
        _write_results(results, plan, resume_length, summary)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise disk_full(plan, summary, err) from None
        raise


def _write_results(results: Iterable[ArticleResult], plan: Plan, resume_length: int, summary: Summary) -> None:
    left_out: list[dict] = []
    with ExitStack() as stack:
        if plan.output is None:
            handle = sys.stdout
        elif plan.stream:  # a FIFO or a device: written through, never replaced
            handle = stack.enter_context(open(plan.output, "w", encoding="utf-8", newline=""))
        else:
            handle = stack.enter_context(open(partial_path(plan.target), "a" if resume_length else "w",
                                              encoding="utf-8", newline=""))
        writer = WRITERS[plan.format](handle, header=not resume_length)
        page = HtmlWriter(stack.enter_context(atomic_file(plan.html)), model=str(plan.model)) if plan.html else None
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
            left_out += result.left_out
            summary.add(result)
        if not summary.articles:  # standard input, which was not read before the run
            raise nothing_to_label(plan.inputs, summary.skipped)
        writer.finish()
        if page:
            page.close(summary.counts)
    if plan.nonprose:
        write_jsonl(plan.nonprose, left_out)
    if plan.target is not None:
        partial = partial_path(plan.target)
        fsync_path(partial)
        sidecar_path(plan.target).unlink(missing_ok=True)  # the replaced FILE's provenance must not outlive it
        os.replace(partial, plan.target)
        os.replace(sidecar_path(partial), sidecar_path(plan.target))
        fsync_path(plan.target.parent)


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


def lock_path(path: Path) -> Path:
    """The lock of an output and of every file written beside it: ``FILE.lock`` for ``FILE``,
    ``FILE.partial``, ``FILE.json`` and ``FILE.partial.json`` alike, so two jobs can never
    write one another's files under different names."""
    target = destination(path)
    name = target.name
    while (stem := name.removesuffix(".partial").removesuffix(".json").removesuffix(".lock")) != name and stem:
        name = stem
    return target.with_name(name + ".lock")


def lock_outputs(plan: Plan, stack: ExitStack) -> None:
    """Hold the lock of every output file until the run ends, or refuse with one line.

    Streams are not locked: nothing is replaced there, and ``/dev`` is no place for lock files.
    """
    for option, path in [("--output", plan.output), *plan.files()]:
        if path is None or is_stream(path):
            continue
        lock = lock_path(path)
        try:
            stack.enter_context(FileLock(lock))
        except Locked as err:
            raise KalimatError(
                f"{option} {path}: another kalimat-predict run (process {err.pid or 'unknown'}) is writing it "
                f"(lock {lock}); wait for it to finish, or choose another {option}"
            ) from None


def run(plan: Plan, state, job: JobState) -> None:
    summary = Summary()
    with ExitStack() as locks:
        total = count_articles(plan.inputs, plan.skip_bad) if state.is_main_process else None
        preprocessor = Preprocessor.load(plan.model)
        if state.is_main_process:
            check_model_dir(plan.model)
            for path in (plan.target, *(p for _, p in plan.files())):
                if path is not None and not is_stream(path):  # only now that input and model folder are checked
                    job.made_folders += make_parents(destination(path))
            lock_outputs(plan, locks)
        _label(plan, state, job, summary, preprocessor, total)


def _resume(plan: Plan, made_by: dict) -> tuple[int, list[str]]:
    """The partial output to continue (``--resume``), with what a killed multi-process run left in its shards."""
    length, done_ids = prepare_resume(plan.target, plan.format, made_by)
    if (shards.shard_dir(plan.target) / shards.META_FILE).is_file():
        check_resume_provenance(partial_path(plan.target), made_by)
        if shards.salvage(plan.target, plan.format, done_ids):
            length, done_ids = prepare_resume(plan.target, plan.format, made_by)
    return length, done_ids


def _label(plan: Plan, state, job: JobState, summary: Summary, preprocessor: Preprocessor, total: int | None) -> None:
    main_process = state.is_main_process
    device = resolve_device(plan.device)
    if state.num_processes > 1 and device.type == "cuda":
        device = state.device
    predictor = Predictor(plan.model, device=device, precision=plan.precision, batch_size=plan.batch_size)

    resume_length, done_ids, shard_folder = 0, [], None
    made_by = provenance(plan.model, predictor.precision)
    if main_process and plan.target is not None and not plan.resume:
        shards.remove(shards.shard_dir(plan.target))  # a killed run's, not resumed: started afresh
    if main_process and plan.target is not None:
        # Only a .partial file this run starts afresh is its own, to go if a KalimatError stops it;
        # a partial kept for --resume stays, and until now the run has written nothing.
        job.fresh_partial = not (plan.resume and partial_path(plan.target).exists())
        if plan.resume:
            resume_length, done_ids = _resume(plan, made_by)
        write_json(sidecar_path(partial_path(plan.target)), made_by)
    if state.num_processes > 1:
        if main_process:
            shard_folder = shards.shard_dir(plan.target)
            shards.prepare(shard_folder, len(done_ids))
        shared = [done_ids, shard_folder]
        broadcast_object_list(shared)
        done_ids, shard_folder = shared

    articles = read_articles(plan.inputs, skip_bad=plan.skip_bad, warn=summary.skip if main_process else ignore)
    empty = skip_resumed(articles, done_ids, preprocessor)
    skipped = len(done_ids) + sum(map(len, empty.values()))
    share = None if total is None else -(-max(0, total - skipped) // state.num_processes)

    def label(mine):
        return tqdm(label_articles(mine, preprocessor, predictor, plan.chunk_sentences), total=share,
                    unit="article", file=sys.stderr, disable=None if main_process else True, delay=2)

    resumed = resumed_results(partial_path(plan.target), plan.format, resume_length, empty) if resume_length else []
    finished = False
    try:
        if state.num_processes == 1:
            write_results(chain(resumed, label(articles)), plan, resume_length, summary)
            summary.truncated = predictor.truncated
        else:
            own = shards.write_share(shards.label_share(articles, state.process_index, state.num_processes, label),
                                     shards.shard_path(shard_folder, state.process_index))
            if main_process:
                merger = shards.Merger([shards.shard_path(shard_folder, rank) for rank in range(state.num_processes)])
                write_results(chain(resumed, shards.merged(own, merger, state.wait_for_everyone)), plan,
                              resume_length, summary)
            else:
                for _ in own:
                    pass
                state.wait_for_everyone()
            summary.truncated = sum(gather_object([predictor.truncated]))
        finished = True
    finally:
        # Merged, the output holds it all; a stream's temporary shards are never resumed. Otherwise
        # (Ctrl-C, a kill, a full disk) the shards keep for --resume what the output has not yet.
        if shard_folder is not None and main_process and (finished or plan.target is None):
            shards.remove(shard_folder)
    if main_process:
        print(summary.line(predictor, state.num_processes, made_by), file=sys.stderr)

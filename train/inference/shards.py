"""Several processes (``accelerate launch``): shards labeled apart, merged in article order as they grow.

Article k of the run goes to process k mod N, which appends it to its shard file
(``FILE.partial.shards/<rank>.jsonl``, one article a line, flushed). The main process merges
the shards into the output in article order while it labels its own share, so a kill keeps in
``FILE.partial`` every article merged so far; what only the shards hold is salvaged by the
next ``--resume`` (:func:`salvage`), whatever the number of processes then. The processes
must share a file system (one machine, or a shared disk).
"""

import json
import shutil
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from .labeling import ArticleResult
from .resume import partial_path
from .writers import WRITERS

META_FILE = "meta.json"  # {"resumed": articles of the output before this run, by id}


def shard_dir(target: Path | None) -> Path:
    """``FILE.partial.shards`` beside the output; a temporary folder for standard output or a stream."""
    if target is None:
        return Path(tempfile.mkdtemp(prefix="kalimat-shards-"))
    return partial_path(target).with_name(partial_path(target).name + ".shards")


def prepare(folder: Path, resumed: int) -> None:
    """A fresh shard folder (a killed run's is salvaged before, or replaced by a fresh run)."""
    remove(folder)
    folder.mkdir(parents=True)
    (folder / META_FILE).write_text(json.dumps({"resumed": resumed}))


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def shard_path(folder: Path, rank: int) -> Path:
    return Path(folder) / f"{rank}.jsonl"


def label_share(articles: Iterable, rank: int, processes: int, label) -> Iterator[tuple[int, ArticleResult]]:
    """This process's articles (k mod N == rank) labeled by ``label``, each with its position k in the run."""
    positions = deque()

    def mine():
        for k, article in enumerate(articles):
            if k % processes == rank:
                positions.append(k)
                yield article

    for result in label(mine()):
        yield positions.popleft(), result


def write_share(results: Iterable[tuple[int, ArticleResult]], path: Path) -> Iterator[tuple[int, ArticleResult]]:
    """Append each result to the shard file as it comes (flushed: a kill keeps every whole line), passing it on."""
    with open(path, "a", encoding="utf-8") as handle:
        for k, result in results:
            handle.write(json.dumps([k, result.article_id, result.source, result.records, result.left_out],
                                    ensure_ascii=False) + "\n")
            handle.flush()
            yield k, result


class Merger:
    """Reads the shards' complete lines as they appear and hands the articles on in order."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self.offsets = [0] * len(paths)
        self.pending: dict[int, ArticleResult] = {}
        self.next = 0

    def _read(self) -> None:
        for i, path in enumerate(self.paths):
            if not path.exists():
                continue
            with open(path, "rb") as handle:
                handle.seek(self.offsets[i])
                for line in handle:
                    if not line.endswith(b"\n"):
                        break  # being written: read it next time
                    self.offsets[i] += len(line)
                    k, article_id, source, records, left_out = json.loads(line)
                    self.pending[k] = ArticleResult(article_id, source, records, left_out=left_out)

    def ready(self) -> Iterator[ArticleResult]:
        """Every article that is next in order and in a shard by now."""
        self._read()
        while self.next in self.pending:
            yield self.pending.pop(self.next)
            self.next += 1


def merged(own: Iterable[tuple[int, ArticleResult]], merger: Merger, wait) -> Iterator[ArticleResult]:
    """The main process: label its share, merging what is ready after each article; then the rest."""
    for _ in own:
        yield from merger.ready()
    wait()  # every process has written its whole share
    yield from merger.ready()


def salvage(target: Path, fmt: str, done_ids: list[str]) -> int:
    """Append to ``FILE.partial`` the articles a killed multi-process run left only in its shards.

    The shards' articles are in run order; those this run already merged are recognised by
    their ids at the end of the partial file (after the ``resumed`` articles it started with),
    and the ones after them are appended as long as none is missing. The folder goes then.
    Returns the number of articles appended.
    """
    folder = shard_dir(target)
    if not (folder / META_FILE).is_file():
        remove(folder)
        return 0
    resumed = json.loads((folder / META_FILE).read_text())["resumed"]
    merger = Merger(sorted(folder.glob("*.jsonl")))
    results = list(merger.ready())  # every shard article in order, up to the first one missing
    merged_ids = done_ids[resumed:]
    start, matched = 0, 0
    while matched < len(merged_ids) and start < len(results):
        if results[start].records:
            if results[start].article_id != merged_ids[matched]:
                break  # the partial file does not continue this shard folder: leave it alone
            matched += 1
        start += 1
    appended = 0
    if matched == len(merged_ids):
        partial = partial_path(target)
        started = partial.exists() and partial.stat().st_size > 0  # a CSV header is there already
        with open(partial, "a", encoding="utf-8", newline="") as handle:
            writer = WRITERS[fmt](handle, header=not started)
            for result in results[start:]:
                writer.write(result)
                appended += bool(result.records)
    remove(folder)
    return appended

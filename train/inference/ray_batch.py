"""``kalimat-predict --ray``: label a whole archive on a Ray cluster with Ray Data.

The convention for batch inference at that scale: the inputs are read in blocks, labeled by
``map_batches`` with a callable class that loads the model once per actor (one
:class:`~train.inference.predictor.Predictor`, its int8 engine included), and written in
parallel, streaming data larger than memory and retrying failed tasks. Each call labels whole
articles (:func:`~train.inference.labeling.label_articles`), so every sentence is read with its
real neighbours, and with the int8 engine a sentence's numbers never depend on its batch: the
records equal single-process ``kalimat-predict``'s byte for byte, however the work is split.

The output is a folder (a local path or anything Ray Data writes to, such as an object-store
URI) of part files: JSONL or CSV lines exactly as ``kalimat-predict`` writes them, or Parquet
with the same fields (``probs`` as ``prob_<label>`` columns, as in CSV). Parts hold whole
articles in input order; across parts the order is free (sort by article and sentence).
This module is imported only in Ray mode: plain ``kalimat-predict`` never imports ray.
"""

import csv
import io
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import ray
from ray.data.datasource import BlockBasedFileDatasink

from ..core.atomic import is_stream
from ..core.errors import KalimatError
from ..core.labels import LABELS
from ..data.articles import Article, BadInput, _file_articles, expand_inputs
from ..data.preprocess import Preprocessor
from .labeling import label_articles
from .predictor import Predictor
from .resume import provenance
from .writers import CSV_COLUMNS, format_counts

FORMATS = ("jsonl", "csv", "parquet")


def read_file(row: dict, skip_bad: bool) -> list[dict]:
    """One input file's articles as rows, read exactly as ``kalimat-predict`` reads them."""
    rows = []
    for n, item in enumerate(_file_articles(Path(row["path"]), row["article_id"])):
        if isinstance(item, BadInput):
            if not skip_bad:  # the driver read every file first: only a file changed since gets here
                raise KalimatError(str(item))
            rows.append({"kind": "bad", "article_id": "", "text": str(item), "sentences": "", "source": "",
                         "position": f"{row['file']:09d}:{n:09d}"})
            continue
        rows.append({"kind": "article", "article_id": item.id, "text": item.text,
                     "sentences": json.dumps(item.sentences) if item.sentences is not None else "",
                     "source": item.source, "position": f"{row['file']:09d}:{n:09d}"})
    return rows


def _line(record: dict, fmt: str) -> str:
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([record["article_id"], record["sentence_index"], record["text"],
                                                       record["label"], record["score"],
                                                       *(record["probs"][label] for label in LABELS)])
        return out.getvalue()
    return json.dumps(record, ensure_ascii=False) + "\n"


class LabelArticles:
    """The callable class of ``map_batches``: one model replica per actor, whole articles per call."""

    def __init__(self, model: str, device: str, precision: str, batch_size: int, chunk_sentences: int,
                 fmt: str, threads: int):
        import torch

        torch.set_num_threads(max(1, threads))
        self.predictor = Predictor(model, device=device, precision=precision, batch_size=batch_size)
        self.preprocessor = Preprocessor.load(model)
        self.chunk_sentences, self.fmt = chunk_sentences, fmt
        self.engine = f"{self.predictor.device.type}, {self.predictor.precision}"

    def __call__(self, batch: dict) -> dict:
        columns = {key: [] for key in ("kind", "position", "article_id", "sentence_index", "text", "label",
                                       "score", *(f"prob_{label}" for label in LABELS), "line", "engine")}

        def add(kind, position, article_id="", sentence_index=-1, text="", record=None):
            probs = record["probs"] if record else {}
            values = {"kind": kind, "position": position, "article_id": article_id, "sentence_index": sentence_index,
                      "text": text, "label": record["label"] if record else "",
                      "score": record["score"] if record else 0.0,
                      **{f"prob_{label}": probs.get(label, 0.0) for label in LABELS},
                      "line": _line(record, self.fmt) if record and self.fmt != "parquet" else "",
                      "engine": self.engine}
            for key, value in values.items():
                columns[key].append(value)

        articles, positions = [], []
        for kind, position, article_id, text, sentences, source in zip(
                batch["kind"], batch["position"], batch["article_id"], batch["text"], batch["sentences"],
                batch["source"]):
            if kind == "bad":
                add("bad", position, text=text)
                continue
            articles.append(Article(str(article_id), text=str(text), source=str(source),
                                    sentences=json.loads(sentences) if sentences else None))
            positions.append(position)
        for position, result in zip(positions, label_articles(articles, self.preprocessor, self.predictor,
                                                              self.chunk_sentences)):
            if not result.records:
                add("empty", position, result.article_id)
            for record in result.records:
                add("record", position, result.article_id, record["sentence_index"], record["text"], record)
            for line in result.left_out:
                add("nonprose", position, result.article_id, text=line["text"])
        return {key: np.array(values) for key, values in columns.items()}


class PartsDatasink(BlockBasedFileDatasink):
    """Part files of records, exactly as ``kalimat-predict`` writes them; each write returns its counts.

    The counts of the write tasks that succeed are summed once the job is done, so a task Ray
    retried is counted once, like the sentences it wrote.
    """

    def __init__(self, path: str, fmt: str):
        super().__init__(path, file_format=fmt)
        self.fmt, self.counts = fmt, Counter()

    def write_block_to_file(self, block, file) -> None:
        table = block.to_arrow()
        table = table.sort_by([("position", "ascending"), ("sentence_index", "ascending")])
        records = table.filter(np.array(table.column("kind").to_pylist()) == "record")
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(records.select(CSV_COLUMNS), file)
            return
        lines = records.column("line").to_pylist()
        header = ",".join(CSV_COLUMNS) + "\n" if self.fmt == "csv" else ""
        file.write((header + "".join(lines)).encode("utf-8"))

    def write(self, blocks, ctx) -> dict:
        blocks = list(blocks)
        super().write(blocks, ctx)
        counts = Counter()
        for block in blocks:
            table = block.to_pylist() if hasattr(block, "to_pylist") else block.to_pandas().to_dict("records")
            for row in table:
                kind = row["kind"]
                counts[kind] += 1
                counts["article"] += kind == "empty" or (kind == "record" and row["sentence_index"] == 0)
                if kind == "record":
                    counts[f"label:{row['label']}"] += 1
                counts[f"engine:{row['engine']}"] += 0 if kind == "bad" else 1
        return dict(counts)

    def on_write_complete(self, write_result) -> None:
        super().on_write_complete(write_result)
        for counts in write_result.write_returns:
            self.counts.update(counts or {})


def _inputs(inputs: list[str]) -> list[dict]:
    """Every input file, with the article id a ``.txt`` file gives, in kalimat-predict's order."""
    if "-" in inputs:
        raise KalimatError("--ray: standard input cannot be spread over a cluster; give files or folders")
    return [{"path": str(path), "article_id": article_id, "file": n}
            for n, (path, article_id) in enumerate(expand_inputs(inputs))]


def run_on_ray(plan, count_articles) -> None:
    """Label ``plan.inputs`` into the folder ``plan.output`` with Ray Data and print the summary."""
    start, options = time.perf_counter(), plan.ray
    if plan.output is None or is_stream(plan.output):
        raise KalimatError("--ray needs --output FOLDER (or an object-store URI): the records are written as part "
                           "files in parallel")
    local = "://" not in str(plan.output)
    if local and plan.output.exists() and (not plan.output.is_dir() or any(plan.output.iterdir())):
        raise KalimatError(f"--output {plan.output}: exists and is not an empty folder; --ray writes a folder of part "
                           "files, give a new one")
    files = _inputs(plan.inputs)
    count_articles(plan.inputs, plan.skip_bad)  # bad input: one line now, before any work is scheduled
    checked = Predictor(plan.model, device=plan.device if plan.device != "auto" else "cpu",
                        precision=plan.precision)  # a model that cannot load: one line before any work
    made_by = provenance(plan.model, checked.precision)
    del checked

    # "local" starts an instance of its own (an empty RAY_ADDRESS included, which Ray rejects).
    address = options.address or os.environ.get("RAY_ADDRESS") or "local"
    try:
        ray.init(address=address, log_to_driver=False, include_dashboard=False,
                 runtime_env={"env_vars": {"HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "0")}})
    except ConnectionError as err:
        raise KalimatError(f"cannot connect to the Ray cluster at {address} ({' '.join(str(err).split())[:200]}); "
                           "check --ray-address (or RAY_ADDRESS) and the cluster's auth token, or leave both out "
                           "to start a local instance") from None
    try:
        # Reading and writing take no CPU of their own in Ray's accounting: the actors may have them
        # all (two actors on two cores), and a read task waiting for a free CPU would wait for ever.
        articles = ray.data.from_items(files).flat_map(read_file, fn_kwargs={"skip_bad": plan.skip_bad}, num_cpus=0)
        labeled = articles.map_batches(
            LabelArticles, batch_size=options.articles_per_call,
            compute=ray.data.ActorPoolStrategy(size=options.concurrency),
            num_cpus=options.cpus_per_actor, num_gpus=options.gpus_per_actor,
            fn_constructor_kwargs={"model": str(Path(plan.model).resolve()),
                                   "device": "cuda" if options.gpus_per_actor else "cpu",
                                   "precision": plan.precision, "batch_size": plan.batch_size,
                                   "chunk_sentences": plan.chunk_sentences, "fmt": plan.format,
                                   "threads": int(options.cpus_per_actor)},
            # A dead actor (killed, out of memory) is replaced and its calls run again elsewhere.
            ray_remote_args_fn=lambda: {"max_restarts": -1, "max_task_retries": -1})
        sink = PartsDatasink(str(plan.output), plan.format)
        labeled.write_datasink(sink, ray_remote_args={"num_cpus": 0})
    finally:
        ray.shutdown()
    counts = sink.counts
    engines = sorted(key.removeprefix("engine:") for key in counts if key.startswith("engine:"))
    labels = Counter({label: counts.get(f"label:{label}", 0) for label in LABELS})
    seconds = time.perf_counter() - start
    print(f"summary: {counts['article']} articles ({counts['empty']} empty), {counts['record']} sentences: "
          f"{format_counts(labels)}; {counts['nonprose']} lines left out as not prose; {counts['bad']} skipped as bad "
          f"input; {counts['record'] / seconds:.1f} sentences/s in {seconds:.1f} s, start-up included "
          f"({'; '.join(engines)}; Ray, {options.concurrency} actors; model {made_by['model']}, weights sha256 "
          f"{made_by['weights_sha256'][:12]}) -> {plan.output}", file=sys.stderr)

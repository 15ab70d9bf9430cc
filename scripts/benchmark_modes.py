"""Time `kalimat-predict`'s ways of using the cores of one machine; print JSON.

    python scripts/benchmark_modes.py [--model models/<run_name>] [--articles 200]
        [--modes single accelerate ray-1x2 ray-2x1] [--output FILE]

The same articles (the first N of data/corpus/indosum.jsonl.gz) are labeled end to end, as a
user runs them, by the model given (an export such as the quickstart's) or, without
--model, by a randomly initialised model of the IndoBERT-base shape with its int8 engine:

* single: `kalimat-predict` in one process (its threads use every core);
* accelerate: `accelerate launch --num_processes 2 scripts/predict.py` (each process with
  torch's default threads, one a core);
* ray-1x2, ray-2x1: `kalimat-predict --ray` with 1 actor of 2 CPUs, and with 2 actors of
  1 CPU, on a local Ray instance the command starts itself (its start is inside the time).

Each figure is sentences per second of wall-clock time, command start to exit, and the
peak resident memory of the largest process (for Ray, of the largest worker: an actor
holding the model), sampled every 0.2 s. Every mode's records are checked to be the first
mode's, sorted by article and sentence, so no figure comes from a run that skipped work.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from train.core.atomic import check_output
from train.core.errors import KalimatError, exit_on_error
from train.core.paths import INDOSUM, ROOT
from train.reporting.benchmark import benchmark_sentences, cpu_name, print_figures, random_base

PREDICT = [sys.executable, str(ROOT / "scripts" / "predict.py")]
ACCELERATE = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--num_machines", "1",
              "--mixed_precision", "no", "--dynamo_backend", "no", str(ROOT / "scripts" / "predict.py")]
# Each mode: the launcher, and the options it adds to --model MODEL INPUT --output OUTPUT.
MODES = {
    "single": (PREDICT, []),
    "accelerate": (ACCELERATE, []),
    "ray-1x2": (PREDICT, ["--ray", "--concurrency", "1", "--cpus-per-actor", "2"]),
    "ray-2x1": (PREDICT, ["--ray", "--concurrency", "2", "--cpus-per-actor", "1"]),
}


def write_articles(path: Path, count: int) -> None:
    """The first ``count`` IndoSum articles as {"id", "text"} lines, paragraphs apart."""
    with gzip.open(INDOSUM, "rt", encoding="utf-8") as lines, path.open("w", encoding="utf-8") as out:
        for _, line in zip(range(count), lines):
            article = json.loads(line)
            text = "\n\n".join(" ".join(paragraph) for paragraph in article["paragraphs"])
            out.write(json.dumps({"id": article["id"], "text": text}, ensure_ascii=False) + "\n")


def timed(command: list[str], ray: bool) -> tuple[float, float]:
    """Run ``command``; its wall time and the peak resident memory (MB) of its largest process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("RAY_ADDRESS", None)  # a local instance, started by the command itself
    # Standard error goes to a file: a pipe nobody reads while polling would fill with progress
    # bars and stall the command.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        peak, root = 0, psutil.Process(process.pid)
        while process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max([peak, *(p.memory_info().rss for p in tree if _counted(p, ray))])
            except psutil.Error:
                pass
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        if process.returncode:
            stderr.seek(0)
            raise KalimatError(f"{' '.join(command[:4])} ... failed: {stderr.read().strip()[-500:]}")
    return seconds, peak / 2**20


def _counted(process: psutil.Process, ray: bool) -> bool:
    """With Ray only the workers (``ray::`` processes, the actors among them) count, not the
    driver nor the head node's services; without it, every process."""
    name = " ".join(process.cmdline()[:1])
    return name.startswith("ray::") if ray else True


def records(path: Path) -> list[str]:
    """The records of a JSONL file or a folder of JSONL part files, sorted by article and sentence."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    rows = [json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines() if line]
    return [json.dumps(r, sort_keys=True) for r in sorted(rows, key=lambda r: (r["article_id"], r["sentence_index"]))]


@exit_on_error
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="an export (default: a random model of the IndoBERT-base shape)")
    parser.add_argument("--articles", type=int, default=200, help="IndoSum articles to label (default: %(default)s)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES), metavar="MODE",
                        help="the modes to time, the first one the reference (default: all: %(choices)s)")
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    if args.output:
        check_output("--output", args.output)
    with tempfile.TemporaryDirectory(prefix="kalimat-modes-") as tmp:
        tmp = Path(tmp)
        if args.model is None:
            sentences, _ = benchmark_sentences(3000)
            args.model = random_base(tmp / "base", sentences[:2000], sentences[2000:])
        articles = tmp / "articles.jsonl"
        write_articles(articles, args.articles)
        report, reference = {"cpu": cpu_name(), "cores": os.cpu_count(), "model": str(args.model), "modes": {}}, None
        for i, mode in enumerate(args.modes):
            launcher, options = MODES[mode]
            output = tmp / f"out{i}" if "--ray" in options else tmp / f"out{i}.jsonl"
            command = [*launcher, "--model", str(args.model), str(articles), "--output", str(output), *options]
            seconds, peak = timed(command, "--ray" in options)
            labeled = records(output)
            reference = reference or labeled
            if labeled != reference:
                raise KalimatError(f"{mode}: its records differ from {args.modes[0]}'s")
            report["modes"][mode] = {"sentences": len(labeled), "seconds": round(seconds, 1),
                                     "sentences_per_second": round(len(labeled) / seconds, 1),
                                     "peak_memory_mb": round(peak)}
            print(f"{mode}: {report['modes'][mode]}", file=sys.stderr)
    print_figures(report, args.output)


if __name__ == "__main__":
    main()

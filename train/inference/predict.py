"""Label every sentence of many articles with an exported model (``kalimat-predict``).

    python scripts/predict.py --model models/<run_name> [--output FILE] [--format jsonl|csv]
        [--html FILE] [--batch-size N] [--device auto|cpu|cuda] [--precision auto|fp32|bf16|fp16|int8]
        [--nonprose FILE] [--resume] [--skip-bad] INPUT...

Inputs are read by :func:`train.data.articles.read_articles` and cleaned and split by the
model's own :class:`~train.data.preprocess.Preprocessor`, exactly as its training data was;
lines that are not prose (bylines, ads, links, separators) are left out, counted in the
summary and listed with ``--nonprose FILE``. This module is the command line; the job itself
is :mod:`train.inference.job`, its parts :mod:`~train.inference.labeling`,
:mod:`~train.inference.writers`, :mod:`~train.inference.resume` and :mod:`~train.inference.shards`.

How a run goes:

* Checked first: the input and output paths (an output folder this user cannot write in
  included), then every input file read once without the model (cheap next to inference),
  then the model folder. A bad file or JSONL line therefore stops the run before any output
  is written, even to standard output. Standard input cannot be read twice, so it is
  checked as it is labeled. Missing folders of ``--output`` are created once these checks
  pass, just before the model is loaded, and removed again if the model is refused then.
* One job per output: ``FILE.lock`` beside each output file is locked (``flock``) while the
  run lasts, so a second run on the same ``--output``, ``--html`` or ``--nonprose`` is refused
  before it loads the model; the files written beside ``FILE`` (``FILE.partial``, ``FILE.json``)
  share its lock, whatever option names them. The kernel drops the lock when a run dies, so a
  kill never blocks ``--resume``.
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
  the output as they grow, so a kill keeps the merged articles in ``FILE.partial`` and
  ``--resume`` salvages the rest from the shards (:mod:`train.inference.shards`).
"""

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from transformers.utils import logging as hf_logging

from ..core.atomic import check_output, remove_if_empty
from ..core.distributed import process_state
from ..core.errors import KalimatError, exit_on_error
from ..core.precision import DEVICES, INFERENCE_PRECISIONS
from ..data.articles import expand_inputs
from .job import DiskFull, JobState, Plan, RayOptions, count_articles, lock_outputs, lock_path, run
from .resume import partial_path, sidecar_path


def output_file(value: str) -> Path:
    """A file name: ``Path`` drops a trailing ``/``, which would turn a folder meant to be made into a file."""
    if value.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{value} ends with / (a folder); give a file name, e.g. {value}out.jsonl")
    return Path(value)


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors as one ``error:`` line and exit status 2, like every other bad input."""

    def error(self, message):
        raise KalimatError(f"{message}; see kalimat-predict --help")


def parse_args(argv=None) -> Plan:
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
    parser.add_argument("--format", choices=("jsonl", "csv", "parquet"), default="jsonl",
                        help="output format (default: jsonl; parquet with --ray)")
    parser.add_argument("--html", type=output_file, help="also write a readable page: sentences coloured by label")
    parser.add_argument("--nonprose", type=output_file, metavar="FILE",
                        help="list the lines left out as not prose (bylines, ads, links, separators) as JSONL: "
                        "article_id, after_sentence, text, reason")
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
    ray = parser.add_argument_group("Ray (a cluster, or a local Ray instance; see the README)")
    ray.add_argument("--ray", action="store_true",
                     help="label on Ray Data: --output is a folder (or object-store URI) of part files")
    ray.add_argument("--ray-address", help="an existing cluster (default: RAY_ADDRESS, else a local instance)")
    ray.add_argument("--concurrency", type=int, default=1, help="model replicas, one per actor (default: 1)")
    ray.add_argument("--cpus-per-actor", type=float, default=1, help="CPUs each actor uses (default: 1)")
    ray.add_argument("--gpus-per-actor", type=float, default=0, help="GPUs each actor uses (default: 0)")
    ray.add_argument("--articles-per-call", type=int, default=64,
                     help="articles each actor labels in one call (default: 64)")
    args = parser.parse_args(argv)
    if args.format == "parquet" and not args.ray:
        raise KalimatError("--format parquet needs --ray (part files); use jsonl or csv for one file")
    if args.ray:
        if args.resume or args.html or args.nonprose:
            raise KalimatError("--ray writes part files in parallel: --resume, --html and --nonprose are for one "
                               "process; leave them out")
        for option, value in (("--concurrency", args.concurrency), ("--articles-per-call", args.articles_per_call),
                              ("--cpus-per-actor", args.cpus_per_actor)):
            if value <= 0:
                raise KalimatError(f"{option} {value}: give a number above 0")
        if args.gpus_per_actor < 0:
            raise KalimatError(f"--gpus-per-actor {args.gpus_per_actor}: give 0 or more")
    if args.resume and args.output is None:
        raise KalimatError("--resume needs --output FILE, the output of the interrupted run")
    if args.chunk_sentences < 1:
        raise KalimatError("--chunk-sentences must be at least 1")
    if args.batch_size < 1:  # here, not when the model is loaded: before any output file is touched
        raise KalimatError("--batch-size must be at least 1")
    plan = Plan(inputs=args.inputs, model=Path(args.model), output=args.output, format=args.format, html=args.html,
                nonprose=args.nonprose, batch_size=args.batch_size, device=args.device, precision=args.precision,
                resume=args.resume, skip_bad=args.skip_bad, chunk_sentences=args.chunk_sentences,
                ray=RayOptions(args.ray_address, args.concurrency, args.cpus_per_actor, args.gpus_per_actor,
                               args.articles_per_call) if args.ray else None)
    if plan.ray:
        return plan  # the output is a folder or URI of part files, checked by the Ray job
    check_paths(plan)
    if plan.resume and plan.stream:
        raise KalimatError(f"--resume: --output {plan.output} is a stream (a FIFO or a device), written through as "
                           "the run goes, with nothing to resume; drop --resume, or write to a file")
    return plan


def check_paths(plan: Plan) -> None:
    """Refuse, before the long run, paths that would fail at its end or overwrite an input or each other.

    Listing the inputs here also stops every process on a missing path before the model loads.
    """
    inputs = {path.resolve() for path, _ in expand_inputs(plan.inputs) if path is not None}
    outputs = [("--output", plan.output), *plan.files()] if plan.output else plan.files()
    for option, path in outputs:
        check_output(option, path)
        if path.resolve() in inputs:
            raise KalimatError(f"{option} {path}: is also an input and would be overwritten; write elsewhere")
    # Beside FILE the run writes FILE.partial and their provenance records FILE.json, FILE.partial.json.
    written = {}
    for option, path in outputs:
        family = lock_path(path)
        if family in written:
            raise KalimatError(f"{option} {path}: is also the {written[family]} file or one written beside it "
                               f"({family.name.removesuffix('.lock')}.partial, {family.name.removesuffix('.lock')}.json); "
                               "give it another name")
        written[family] = option


@exit_on_error
def main(argv=None) -> None:
    plan = parse_args(argv)
    hf_logging.disable_progress_bar()  # per-file loading bars would bury the summary
    if plan.ray:
        from .ray_batch import run_on_ray  # only here: kalimat-predict without --ray never imports ray

        with ExitStack() as locks:
            if "://" not in str(plan.output):
                lock_outputs(plan, locks)
            run_on_ray(plan, count_articles)
        return
    state = process_state()
    job = JobState()
    try:
        run(plan, state, job)
    except DiskFull:
        raise  # the partial file keeps the finished articles for --resume
    except KalimatError:
        if job.fresh_partial and state.is_main_process:
            partial_path(plan.target).unlink(missing_ok=True)
            sidecar_path(partial_path(plan.target)).unlink(missing_ok=True)
        remove_if_empty(job.made_folders)  # the model was refused after --output's folders were made
        raise
    except KeyboardInterrupt:
        if plan.target is not None:
            print(f"interrupted: {partial_path(plan.target)} keeps the finished articles; "
                  "run again with --resume to continue", file=sys.stderr)
        elif plan.stream:
            print(f"interrupted: {plan.output} received the articles labeled so far; a stream cannot be resumed",
                  file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # The reader left (e.g. `| head`): stop quietly, with the status a shell gives SIGPIPE.
        # Standard output goes to devnull so the flush at exit cannot fail again (Python docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    finally:
        # Several processes: leave the gloo group before exit, or its threads can abort a
        # process at interpreter shutdown ("terminate called without an active exception").
        if state.num_processes > 1:
            state.destroy_process_group()

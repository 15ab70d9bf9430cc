"""Compare training runs from their reports, and test whether differences are real.

    python scripts/compare_reports.py runs/a runs/b "runs/lr-*" runs/multirun/20261122-101010/ \
        [--baseline NAME] [--output cmp.md|cmp.html] [--plot f1.png] [--allow-different-data]

Each argument is a run directory, a ``report.json``, a glob (expanded here too, so quoted
globs work) or a directory of runs such as a Hydra multirun folder (every ``report.json``
below it); a run named twice is compared once, with a note. The first run, or
``--baseline`` (a run name, or the folder where two runs share it), is the baseline.
``--output`` and ``--plot`` are checked before anything is written and never go into a run
or model folder.

The table shows per run the model, the hyperparameters that differ between the runs (nested
ones as dotted keys), the dataset, macro-F1 with its bootstrap interval, accuracy, per-class
F1, training time and inference speed, with differences to the baseline.

Runs evaluated on the same sentences as the baseline (same dataset content hash and the
same ``(article_id, sentence_index)`` keys) are tested against it, on the pooled
cross-validation out-of-fold predictions when both runs have them (more sentences, more
power), else on the test predictions:

* paired bootstrap: the sentences are resampled 1000 times (seed 0) and both runs scored on
  each resample; the 95% interval and the two-sided p-value of the macro-F1 difference
  come from that distribution;
* McNemar's test on the sentences exactly one of the two runs gets right (exact binomial
  test below 25 such sentences, continuity-corrected chi-square above).

Verdict rule: "better" (or "worse") only when both tests reject equality at alpha 0.05 and
point the same way, i.e. the run is ahead both on the headline metric (macro-F1, which
weighs rare classes) and on per-sentence correctness; otherwise "no significant
difference", with both p-values shown. Each run is tested against the baseline on its own,
without correction for the number of runs compared.

Runs on different data are refused unless ``--allow-different-data``; then they are marked
in the table and left out of the paired tests.
"""

import argparse
import glob
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..core.atomic import atomic_file, check_output, write_text
from ..core.errors import KalimatError, exit_on_error
from ..core.dotted import flatten
from ..core.log import warn
from ..core.labels import LABELS
from ..core.settings import as_written
from ..core.metrics import macro_f1
from .evaluation import ALPHA, EXACT_MCNEMAR_BELOW, N_RESAMPLES, SEED, Paired, paired_comparison
from ..core.render import Heading, Image, Paragraph, Table, figure_png, format_interval, format_number, to_html, to_markdown
from .report import PREDICTION_FILES, REPORT_FILE, load_predictions, load_report

PREDICTION_SETS = {"cv": "cross-validation out-of-fold (pooled)", "test": "test split"}


@dataclass(eq=False)  # runs are compared by identity, not by their (large) reports
class Run:
    label: str  # the run name, or its folder where two runs share a name
    path: Path  # the report.json
    report: dict
    _predictions: dict = field(default_factory=dict, repr=False)  # split -> records, read once

    @property
    def content_hash(self) -> str:
        return self.report["dataset"]["content_hash"]

    def predictions(self, split: str) -> list[dict] | None:
        if split not in self._predictions:
            self._predictions[split] = load_predictions(self.path.parent, self.report, split)
        return self._predictions[split]


@dataclass
class PairedTest:
    run: Run
    split: str | None = None  # "cv" or "test"; None when the runs cannot be paired
    reason: str = ""  # why they cannot be paired
    num_sentences: int = 0
    result: Paired | None = None  # the comparison's figures, read as test.delta, test.verdict, ...

    def __getattr__(self, name):
        result = self.__dict__.get("result")
        if result is None or name.startswith("_"):
            raise AttributeError(name)
        return getattr(result, name)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="kalimat-compare",
        description="Compare kalimat training runs from their report.json files, with paired significance tests.",
    )
    parser.add_argument("runs", nargs="+", metavar="RUN_OR_REPORT",
                        help="run directory, report.json, glob, or a folder of runs (e.g. a Hydra multirun folder)")
    parser.add_argument("--baseline", metavar="NAME", help="run to compare the others against: its name, or its "
                        "folder where two runs share the name (default: the first)")
    parser.add_argument("--output", metavar="FILE", help="write Markdown (.md) or a standalone HTML page (.html) "
                        "instead of printing Markdown")
    parser.add_argument("--plot", metavar="FILE.png", help="write a bar chart of per-class F1 per run")
    parser.add_argument("--allow-different-data", action="store_true",
                        help="accept runs on different datasets; they are marked and left out of the paired tests")
    return parser.parse_args(argv)


@exit_on_error
def main(argv=None) -> None:
    args = parse_args(argv)
    output_format = _output_format(args.output) if args.output else "md"
    if args.plot and Path(args.plot).suffix.lower() != ".png":
        raise KalimatError(f"--plot {args.plot}: the plot is a PNG, give a file name ending in .png")
    # Checked before anything is read or written: a comparison never stops half-written.
    for option, path in (("--output", args.output), ("--plot", args.plot)):
        if path:
            check_output(option, path, run_folders=True)

    runs = load_runs(expand_inputs(args.runs))
    baseline = pick_baseline(runs, args.baseline)
    different = [run for run in runs if run.content_hash != baseline.content_hash]
    if different and not args.allow_different_data:
        names = ", ".join(f"{run.label} ({run.content_hash[:8]})" for run in different)
        raise KalimatError(
            f"{names} evaluated on different data than baseline {baseline.label} ({baseline.content_hash[:8]}); "
            "compare runs of the same dataset, or pass --allow-different-data to show them unpaired"
        )
    tests = [paired_test(baseline, run) for run in runs if run is not baseline and run not in different]
    warnings = contradictions(runs)
    for warning in warnings:
        warn(warning)

    blocks = comparison_blocks(runs, baseline, different, tests, warnings)
    if args.plot:
        png = figure_png(per_class_figure(runs))
        with atomic_file(args.plot, "wb") as handle:
            handle.write(png)
        # Markdown links the plot relative to the file it is written to, or as given when printed.
        link = args.plot
        if args.output:
            link = os.path.relpath(Path(args.plot).resolve(), Path(args.output).resolve().parent)
        blocks.append(Image("per-class F1 per run", link, png))

    if args.output is None:
        sys.stdout.write(to_markdown(blocks))
        return
    text = to_html("kalimat run comparison", blocks) if output_format == "html" else to_markdown(blocks)
    write_text(args.output, text)
    print(f"wrote {args.output}")


def expand_inputs(arguments: list[str]) -> list[Path]:
    """The ``report.json`` files the arguments name, in order, each once."""
    files = []
    for argument in arguments:
        if os.path.exists(argument):
            paths = [Path(argument)]
        elif any(char in argument for char in "*?["):
            paths = [Path(p) for p in sorted(glob.glob(argument), key=_natural_key)]
            if not paths:
                raise KalimatError(f"no file or folder matches {argument!r}; check the pattern")
        else:
            raise KalimatError(
                f"{argument} does not exist; pass run directories (runs/<run_name>), report.json files, "
                "globs or a multirun folder"
            )
        for path in paths:
            files += _report_files(path)
    unique = {}
    for file in files:
        if file.resolve() in unique:
            print(f"note: {file.parent} is named more than once; it is compared once", file=sys.stderr)
        unique.setdefault(file.resolve(), file)
    return list(unique.values())


def _report_files(path: Path) -> list[Path]:
    if path.is_file() or (path / REPORT_FILE).is_file():
        return [path if path.is_file() else path / REPORT_FILE]
    # A folder of runs (e.g. a Hydra multirun folder): every finished run below it.
    # Hidden folders are left out: they are half-written outputs (.tmp-*) or old copies.
    found = [
        file for file in path.rglob(REPORT_FILE)
        if not any(part.startswith(".") for part in file.relative_to(path).parts)
    ]
    if not found:
        raise KalimatError(
            f"{path} holds no {REPORT_FILE}: it is neither a finished run directory nor a folder of runs; "
            "pass runs/<run_name> or a multirun folder whose jobs have finished"
        )
    # By folder: offline-500 before offline-500-e4 (on the whole path "/report.json" sorts after "-e4").
    return sorted(found, key=lambda file: _natural_key(str(file.parent)))


def _natural_key(text: str) -> list:
    """Sort key that orders job folders 0, 1, 2, ..., 10 rather than 0, 1, 10, 2."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def load_runs(files: list[Path]) -> list[Run]:
    reports = [(file, load_report(file)) for file in files]
    names = [report["run_name"] for _, report in reports]
    runs = []
    for file, report in reports:
        label = report["run_name"] if names.count(report["run_name"]) == 1 else str(file.parent)
        runs.append(Run(label=label, path=file, report=report))
    return runs


def pick_baseline(runs: list[Run], name: str | None) -> Run:
    if name is None:
        return runs[0]
    matches = [run for run in runs if run.label == name] or [run for run in runs if run.report["run_name"] == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        folders = ", ".join(run.label for run in matches)
        raise KalimatError(f"--baseline {name}: {len(matches)} runs have this name ({folders}); "
                           "give one of these folders as --baseline")
    raise KalimatError(f"--baseline {name}: no such run; the runs are {', '.join(run.label for run in runs)}")


def paired_test(baseline: Run, run: Run) -> PairedTest:
    """Paired bootstrap and McNemar test of ``run`` against ``baseline`` on their common sentences."""
    split, aligned = _common_predictions(baseline, run)
    if aligned is None:
        reason = "evaluated on different sentences than the baseline (prediction keys or gold labels differ)"
        return PairedTest(run, reason=reason)
    gold, base_pred, run_pred = aligned
    return PairedTest(run, split=split, num_sentences=len(gold), result=paired_comparison(gold, base_pred, run_pred))


def _common_predictions(baseline: Run, run: Run):
    """``(split, (gold, baseline predictions, run predictions))`` on the sentences both runs were scored on.

    The pooled cross-validation predictions come first: they cover more sentences than the
    test split, so the tests have more power. ``(None, None)`` when no split matches.
    """
    for split in ("cv", "test"):
        base_records, run_records = baseline.predictions(split), run.predictions(split)
        if base_records is not None and run_records is not None:
            aligned = _align(base_records, run_records)
            if aligned is not None:
                return split, aligned
    return None, None


def _align(base_records: list[dict], run_records: list[dict]):
    """Gold and both predictions in the same sentence order, or ``None`` if the sentences differ."""
    def by_key(records):
        return {(str(r["article_id"]), r["sentence_index"]): r for r in records}

    base, other = by_key(base_records), by_key(run_records)
    if len(base) != len(base_records) or len(other) != len(run_records) or base.keys() != other.keys():
        return None
    keys = sorted(base)
    if any(base[key]["gold"] != other[key]["gold"] for key in keys):
        return None
    return [base[k]["gold"] for k in keys], [base[k]["label"] for k in keys], [other[k]["label"] for k in keys]


def contradictions(runs: list[Run]) -> list[str]:
    """Runs whose prediction files do not give the macro-F1 their report states.

    The table quotes the reports and the paired tests read the predictions: an edited
    ``predictions.jsonl``, or one copied from another run, would make the two disagree silently.
    """
    found = []
    for run in runs:
        for split, stated in (("test", run.report["metrics"]["macro_f1"]), ("cv", (run.report.get("cv") or {}).get("macro_f1"))):
            records = run.predictions(split) if stated is not None else None
            if not records:
                continue
            actual = macro_f1([r["gold"] for r in records], [r["label"] for r in records])
            if abs(actual - stated) > 5e-4:  # reports round to 4 decimals
                found.append(f"{run.label}: its {PREDICTION_FILES[split]} gives macro-F1 {actual:.3f} but its "
                             f"{REPORT_FILE} states {stated:.3f}; the files do not belong together (edited, or copied "
                             "from another run), so its table row and its paired test disagree; re-run it")
    return found


def comparison_blocks(runs: list[Run], baseline: Run, different: list[Run], tests: list[PairedTest],
                      warnings: list[str] = ()) -> list:
    blocks = [
        Heading("kalimat run comparison", 1),
        Paragraph(f"Baseline: {baseline.label}. Δ is each run minus the baseline."),
        *(Paragraph(f"**Warning**: {warning}.") for warning in warnings),
        runs_table(runs, baseline, different),
    ]
    if different:
        blocks.append(Paragraph(
            "† evaluated on different data than the baseline (dataset content hash differs): "
            "the numbers are not comparable and these runs are left out of the paired tests."
        ))
    if tests:
        blocks.append(Heading("Paired tests against the baseline"))
        blocks.append(Paragraph(
            f"Paired bootstrap of the macro-F1 difference over sentences ({N_RESAMPLES} resamples, seed {SEED}) and "
            f"McNemar's test on the sentences only one of the two runs gets right (exact binomial below "
            f"{EXACT_MCNEMAR_BELOW} such sentences, continuity-corrected chi-square above). Verdict: better or worse "
            f"only when both tests give p < {ALPHA} in the same direction, else no significant difference. "
            "Each run is tested separately, without correction for the number of runs. Pooled cross-validation "
            "out-of-fold predictions are used when both runs have them, else the test predictions; the Δ here is "
            "on those sentences and can differ from the test-split Δ above."
        ))
        blocks.append(Table(
            ["run", "predictions", "sentences", "Δ macro-F1", "95% interval of Δ", "bootstrap p",
             "fixed / broken", "McNemar p", "verdict"],
            [_test_row(test) for test in tests],
        ))
    return blocks


def runs_table(runs: list[Run], baseline: Run, different: list[Run]) -> Table:
    varying = _differing_hyperparameters(runs)
    headers = [
        "run", "model", *varying, "dataset", "macro-F1 [95% interval]", "Δ macro-F1", "accuracy", "Δ accuracy",
        *(f"F1 {label}" for label in LABELS), "train time", "sentences/s",
    ]
    base_metrics = baseline.report["metrics"]
    rows = []
    for run in runs:
        report, metrics = run.report, run.report["metrics"]
        compared = run is not baseline and run not in different
        name = run.label + (" (baseline)" if run is baseline else "") + (" †" if run in different else "")
        hyperparameters = flatten(report["hyperparameters"])
        per_class = []
        for label in LABELS:
            f1 = metrics["per_class"][label]["f1"]
            change = f" ({f1 - base_metrics['per_class'][label]['f1']:+.3f})" if compared else ""
            per_class.append(f"{f1:.3f}{change}")
        rows.append([
            name,
            report["model"]["name"],
            *(as_written(hyperparameters.get(key, "—")) for key in varying),
            f"{report['dataset']['name']} {run.content_hash[:8]}",
            f"{metrics['macro_f1']:.3f} {format_interval(metrics['macro_f1_interval'])}",
            f"{metrics['macro_f1'] - base_metrics['macro_f1']:+.3f}" if compared else "",
            f"{metrics['accuracy']:.3f}",
            f"{metrics['accuracy'] - base_metrics['accuracy']:+.3f}" if compared else "",
            *per_class,
            _duration(report["timing"].get("train_seconds")),
            format_number(report["timing"].get("eval_sentences_per_second"), 1),
        ])
    return Table(headers, rows)


def _differing_hyperparameters(runs: list[Run]) -> list[str]:
    """Hyperparameter keys whose value is not the same in every run (missing counts as a value)."""
    flat = [flatten(run.report["hyperparameters"]) for run in runs]
    keys = sorted({key for hyperparameters in flat for key in hyperparameters})
    missing = object()
    return [key for key in keys if len({repr(hyperparameters.get(key, missing)) for hyperparameters in flat}) > 1]


def _test_row(test: PairedTest) -> list:
    if test.split is None:
        return [test.run.label, "—", "—", "—", "—", "—", "—", "—", f"not tested: {test.reason}"]
    return [
        test.run.label,
        PREDICTION_SETS[test.split],
        test.num_sentences,
        f"{test.delta:+.3f}",
        f"[{test.delta_interval[0]:+.3f}, {test.delta_interval[1]:+.3f}]",
        _p_value(test.bootstrap_p),
        f"{test.fixed} / {test.broken}",
        f"{_p_value(test.mcnemar_p)} ({test.mcnemar_method})",
        test.verdict,
    ]


def per_class_figure(runs: list[Run]) -> Figure:
    """Grouped bars: per-class F1 and macro-F1, one bar per run."""
    groups = [*LABELS, "macro"]
    width = 0.8 / len(runs)
    figure = Figure(figsize=(max(6.0, 1.2 * len(groups) * max(1, len(runs) / 3)), 4.0))
    axes = figure.add_subplot()
    for i, run in enumerate(runs):
        metrics = run.report["metrics"]
        values = [metrics["per_class"][label]["f1"] for label in LABELS] + [metrics["macro_f1"]]
        axes.bar(np.arange(len(groups)) + (i - (len(runs) - 1) / 2) * width, values, width, label=run.label.replace("$", r"\$"))  # "$" is text
    axes.set_xticks(range(len(groups)), groups)
    axes.set_ylim(0, 1)
    axes.set_ylabel("F1")
    axes.set_title("Per-class F1 per run")
    axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(len(runs), 3))
    return figure


def _output_format(output: str) -> str:
    suffix = Path(output).suffix.lower()
    if suffix == ".md":
        return "md"
    if suffix in (".html", ".htm"):
        return "html"
    raise KalimatError(f"--output {output}: give a file name ending in .md (Markdown) or .html (web page)")


def _duration(seconds) -> str:
    if seconds is None:
        return "—"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _p_value(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"

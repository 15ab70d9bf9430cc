"""The run report: ``report.json`` and its human-readable companions in the run folder.

``report.json`` follows ``docs/report_schema.md`` and is what ``compare_reports.py`` reads.
Next to it a run folder holds ``report.md`` (the same facts for people),
``confusion_matrix.png``, ``predictions.jsonl`` and, with cross-validation,
``cv_predictions.jsonl``. Every file is written atomically and ``report.json`` last, so a
folder with a ``report.json`` always has the files it points to.
"""

import importlib.metadata
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from matplotlib.figure import Figure

from ..core.atomic import atomic_file, write_json, write_jsonl, write_text
from ..core.dotted import MISSING, select
from ..core.errors import KalimatError
from ..core.labels import LABELS
from ..core.paths import REPORT_FILE
from .calibration import reliability_figure
from ..core.render import Heading, Image, Paragraph, Table, figure_png, format_interval, format_number, to_markdown

REPORT_SCHEMA_VERSION = 2
SUPPORTED_SCHEMA_VERSIONS = (2,)

PREDICTION_FILES = {"test": "predictions.jsonl", "cv": "cv_predictions.jsonl"}
CONFUSION_MATRIX_FILE = "confusion_matrix.png"
RELIABILITY_FILE = "reliability.png"

# Keys the training code provides; assemble_report adds the others.
CALLER_KEYS = (
    "run_name", "model", "hyperparameters", "dataset", "evaluation",
    "metrics", "cv", "selection", "served", "calibration", "baselines", "timing", "environment",
)
# What a report must hold to be read back: dotted paths into report.json.
REQUIRED_KEYS = (
    "schema_version", "created", *CALLER_KEYS, "predictions", "misclassified",
    "model.name", "dataset.name", "dataset.content_hash", "predictions.test",
    "metrics.accuracy", "metrics.macro_f1", "metrics.macro_f1_interval", "metrics.per_class",
)
ENVIRONMENT_PACKAGES = ("torch", "transformers", "datasets", "accelerate", "evaluate", "kalimat")


def environment_info(device: str, precision: str) -> dict:
    """What a result depends on besides code and data: Python, platform, device, precision, package versions."""
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
        "precision": precision,
    }
    for package in ENVIRONMENT_PACKAGES:
        try:
            info[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            info[package] = None
    return info


def assemble_report(fields: dict, predictions: list[dict], cv_predictions: list[dict] | None) -> dict:
    """The complete ``report.json`` content from the run's :data:`CALLER_KEYS` and its prediction records.

    Adds ``schema_version``, ``created``, ``predictions`` (the file names) and
    ``misclassified``. Prediction records are the predictor's (``article_id``,
    ``sentence_index``, ``text``, ``label``, ``score``, ``probs``) plus ``gold``, and ``fold``
    for cross-validation.
    """
    missing = [key for key in CALLER_KEYS if key not in fields]
    if missing:
        raise ValueError(f"report lacks {', '.join(missing)}")
    files = {"test": PREDICTION_FILES["test"]} | ({"cv": PREDICTION_FILES["cv"]} if cv_predictions is not None else {})
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "run_name": fields["run_name"],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **{key: value for key, value in fields.items() if key != "run_name"},
        "predictions": files,
        "misclassified": _misclassified(predictions),
    }


def write_run_report(run_dir, report: dict, predictions: list[dict], cv_predictions: list[dict] | None) -> None:
    """Write the files of one run into ``run_dir``: exactly ``report`` (see :func:`assemble_report`) and its companions."""
    run_dir = Path(run_dir)
    write_jsonl(run_dir / PREDICTION_FILES["test"], predictions)
    if cv_predictions is not None:
        write_jsonl(run_dir / PREDICTION_FILES["cv"], cv_predictions)
    png = figure_png(_confusion_matrix_figure(report))
    with atomic_file(run_dir / CONFUSION_MATRIX_FILE, "wb") as handle:
        handle.write(png)
    calibration = report["calibration"]
    reliability_png = figure_png(reliability_figure(
        calibration["bins_before"], calibration["bins_after"],
        f"{report['run_name']}: temperature {calibration['temperature']:.2f}"))
    with atomic_file(run_dir / RELIABILITY_FILE, "wb") as handle:
        handle.write(reliability_png)
    write_text(run_dir / "report.md", to_markdown(_report_blocks(report, png, reliability_png)))
    write_json(run_dir / REPORT_FILE, report)


def load_report(path) -> dict:
    """Read and check a ``report.json``, given the file or its run directory.

    Anything unusable (missing, unreadable, not JSON, another schema version, keys
    missing) raises a one-line :class:`KalimatError` that names the file and the fix.
    """
    path = Path(path)
    file = path / REPORT_FILE if path.is_dir() else path
    if not file.is_file():
        where = f"no {REPORT_FILE} in {path}" if path.is_dir() else f"{file} does not exist"
        raise KalimatError(f"{where}; pass a finished run directory (runs/<run_name>) or its {REPORT_FILE}")
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise KalimatError(f"cannot read {file}: {err.strerror}; check the path and its permissions") from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise KalimatError(f"{file} is not valid JSON ({err}); re-run the training run to write it again") from err
    if not isinstance(report, dict):
        kind = type(report).__name__
        raise KalimatError(f"{file} holds a JSON {kind}, not a report object; pass a kalimat report.json")

    supported = ", ".join(str(v) for v in SUPPORTED_SCHEMA_VERSIONS)
    version = report.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        if isinstance(version, int) and version > max(SUPPORTED_SCHEMA_VERSIONS):
            fix = "upgrade kalimat to read it"
        else:
            fix = "re-run the training run with this kalimat version to write a current report"
        raise KalimatError(
            f"{file} has report schema_version {version!r}, this kalimat reads version {supported}; {fix}"
        )
    missing = [key for key in REQUIRED_KEYS if select(report, key) is MISSING]
    if missing:
        raise KalimatError(
            f"{file} lacks {', '.join(missing)} (required by report schema version {version}, "
            "docs/report_schema.md); re-run the training run to write a complete report"
        )
    wrong = [key for key, valid in _TYPED_KEYS.items() if not valid(select(report, key, None))]
    if wrong:
        raise KalimatError(
            f"{file}: {', '.join(wrong)} have the wrong type for report schema version {version} "
            "(docs/report_schema.md); re-run the training run to write a valid report"
        )
    return report




def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_f1_table(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(label), dict) and _is_number(value[label].get("f1")) for label in LABELS
    )


# What the comparison and the card read, with the type they need.
_TYPED_KEYS = {
    "run_name": lambda v: isinstance(v, str) and v != "",
    "model.name": lambda v: isinstance(v, str),
    "dataset.name": lambda v: isinstance(v, str),
    "dataset.content_hash": lambda v: isinstance(v, str) and v != "",
    "metrics.accuracy": _is_number,
    "metrics.macro_f1": _is_number,
    "metrics.macro_f1_interval": lambda v: isinstance(v, list) and len(v) == 2 and all(map(_is_number, v)),
    "metrics.per_class": _is_f1_table,
    "hyperparameters": lambda v: isinstance(v, dict),
    "timing": lambda v: isinstance(v, dict),
    "timing.train_seconds": lambda v: v is None or _is_number(v),
    "timing.eval_sentences_per_second": lambda v: v is None or _is_number(v),
    "predictions": lambda v: isinstance(v, dict) and all(isinstance(name, (str, type(None))) for name in v.values()),
    "predictions.test": lambda v: isinstance(v, str) and v != "",
}


def load_predictions(run_dir, report: dict, split: str) -> list[dict] | None:
    """The prediction records of ``split`` (``"test"`` or ``"cv"``), or ``None`` if the run has none."""
    name = report["predictions"].get(split)
    if name is None:
        return None
    file = Path(run_dir) / name
    if not file.exists() and (Path(run_dir) / "config.json").is_file():
        raise KalimatError(f"{run_dir} is an exported model folder: it keeps a copy of {REPORT_FILE} but not the "
                           "predictions; pass the training run's folder, runs/<run_name>")
    records, line_number = [], 0
    try:
        with open(file, encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                if line.strip():
                    records.append(_prediction_record(json.loads(line), f"{file}:{line_number}"))
    except OSError as err:
        raise KalimatError(f"cannot read {file} ({err.strerror}), which {Path(run_dir) / REPORT_FILE} points to; "
                           "re-run the training run") from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise KalimatError(f"{file}:{line_number} is not valid JSON ({err}); re-run the training run") from err
    return records


def _prediction_record(record, where: str) -> dict:
    """A prediction record with what comparisons read: its sentence's key, the gold label and the predicted one."""
    if not (isinstance(record, dict) and isinstance(record.get("sentence_index"), int)
            and isinstance(record.get("article_id"), (str, int))
            and record.get("gold") in LABELS and record.get("label") in LABELS):
        raise KalimatError(f"{where}: not a prediction record (article_id, sentence_index, and gold and label "
                           f"each one of {', '.join(LABELS)}); re-run the training run")
    return record


def _misclassified(predictions: list[dict]) -> list[dict]:
    """Wrong test predictions, most confident first; ``score`` is the probability of the wrong label."""
    keys = ("article_id", "sentence_index", "text", "gold", "label", "score")
    wrong = [{key: record[key] for key in keys} for record in predictions if record["label"] != record["gold"]]
    return sorted(wrong, key=lambda r: (-r["score"], str(r["article_id"]), r["sentence_index"]))


def _confusion_matrix_figure(report: dict) -> Figure:
    matrix = report["metrics"]["confusion_matrix"]["matrix"]
    figure = Figure(figsize=(5.5, 4.5))
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes)
    high = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            axes.text(j, i, str(count), ha="center", va="center", color="white" if count > high / 2 else "black")
    axes.set_xticks(range(len(LABELS)), LABELS)
    axes.set_yticks(range(len(LABELS)), LABELS)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    # parse_math=False: a "$" in a run name is text, not the start of a formula.
    axes.set_title(f"{report['run_name']}: macro-F1 {report['metrics']['macro_f1']:.3f}", parse_math=False)
    return figure


def results_blocks(report: dict) -> list:
    """The scores of a run, as the run's report.md and the exported model's card both show them.

    The test-split headline with its interval, the cross-validation estimate, the model
    beside the baselines on the same sentences, and the per-class table.
    """
    metrics, cv = report["metrics"], report["cv"]
    blocks = [
        Heading(
            f"Macro-F1 {metrics['macro_f1']:.3f} {format_interval(metrics['macro_f1_interval'])} on "
            f"{report['evaluation']['num_sentences']} {report['evaluation']['split']} sentences, "
            f"accuracy {metrics['accuracy']:.3f}"
        ),
        Paragraph("The interval is a bootstrap 95% interval over the evaluated sentences."),
    ]
    if cv is not None:
        blocks.append(Paragraph(
            f"Cross-validation over {cv['folds']} folds of the training and validation articles: macro-F1 "
            f"{cv['macro_f1']:.3f} {format_interval(cv['macro_f1_interval'])} of the pooled out-of-fold predictions "
            f"(single folds scatter by ± {cv['macro_f1_fold_sd']:.3f})."
        ))

    blocks.append(Heading("Model and baselines"))
    blocks.append(Paragraph(
        "The same test sentences scored by the model and by three baselines that cost next to nothing. "
        "Δ is the model's macro-F1 minus the baseline's; the verdict is the paired test of the model against the "
        "baseline on these sentences (paired bootstrap of Δ and McNemar's test, both at p < 0.05; as in "
        "kalimat-compare): fine-tuning earned its cost where it says better."
    ))
    headers = ["system", "macro-F1", "95% interval", "accuracy", "Δ macro-F1", "paired test"]
    if cv is not None:
        headers.append("CV macro-F1 (pooled)")
    systems = [("model", metrics, cv["macro_f1"] if cv else None)]
    systems += [(name, scores, scores.get("cv_macro_f1")) for name, scores in report["baselines"].items()]
    rows = []
    for name, scores, cv_score in systems:
        delta = "" if name == "model" else f"{metrics['macro_f1'] - scores['macro_f1']:+.3f}"
        paired = scores.get("paired")
        verdict = "" if paired is None else (
            f"{paired['verdict']} (bootstrap p {paired['bootstrap_p']:.3f}, McNemar p {paired['mcnemar_p']:.3f})")
        row = [
            name,
            format_number(scores["macro_f1"]),
            format_interval(scores.get("macro_f1_interval")),
            format_number(scores["accuracy"]),
            delta,
            verdict,
        ]
        if cv is not None:
            row.append(format_number(cv_score))
        rows.append(row)
    blocks.append(Table(headers, rows))

    blocks.append(Heading("Per class"))
    blocks.append(Table(
        ["label", "precision", "recall", "F1", "support"],
        [
            [label, *(format_number(metrics["per_class"][label][key]) for key in ("precision", "recall", "f1")),
             metrics["per_class"][label]["support"]]
            for label in LABELS
        ],
    ))
    return blocks


def _report_blocks(report: dict, confusion_png: bytes, reliability_png: bytes) -> list:
    model, dataset = report["model"], report["dataset"]
    parameters = f", {model['num_parameters']:,} parameters" if model.get("num_parameters") else ""
    blocks = [
        Heading(f"Run {report['run_name']}", 1),
        Paragraph(
            f"Model {model['name']} ({model.get('name_or_path') or 'trained from scratch'}{parameters}), "
            f"dataset {dataset['name']} (content hash {dataset['content_hash'][:12]}), written {report['created']}."
        ),
        *results_blocks(report),
    ]
    metrics = report["metrics"]

    served, calibration = report["served"], report["calibration"]
    blocks.append(Heading("The served model"))
    blocks.append(Paragraph(
        f"The export as kalimat-predict serves it ({served['precision']} on {served['device']}): macro-F1 "
        f"{served['macro_f1']:.3f} on the same {served['sentences']} test sentences; "
        f"{served['label_agreement_with_fp32']:.1%} of its labels equal the fp32 model's above."
    ))
    blocks.append(Heading("Calibration"))
    blocks.append(Paragraph(
        f"Temperature {calibration['temperature']:.3f}, fitted on the validation sentences and stored in the export "
        "(kalimat-predict applies it; a plain pipeline() call does not). Expected calibration error on the test "
        f"sentences: {calibration['ece_before']:.3f} raw, {calibration['ece_after']:.3f} calibrated."
    ))
    blocks.append(Image("reliability", RELIABILITY_FILE, reliability_png))
    if report.get("truncation"):
        cut = report["truncation"]
        blocks.append(Heading("Long inputs"))
        blocks.append(Paragraph(
            f"Inputs longer than the model reads ({cut['max_length']} tokens, sentence and context together) are cut "
            f"to that length: {cut['train']} training, {cut['validation']} validation and {cut['test']} test sentences."
        ))

    blocks.append(Heading("Confusion matrix"))
    blocks.append(Paragraph("Rows are gold labels, columns predictions."))
    confusion = metrics["confusion_matrix"]
    blocks.append(Table(["gold \\ predicted", *confusion["labels"]],
                        [[label, *row] for label, row in zip(confusion["labels"], confusion["matrix"])]))
    blocks.append(Image("confusion matrix", CONFUSION_MATRIX_FILE, confusion_png))

    blocks.append(Heading("Hyperparameters"))
    blocks.append(Table(["setting", "value"], [list(item) for item in sorted(report["hyperparameters"].items())]))
    blocks.append(Heading("Timing"))
    blocks.append(Table(["measure", "value"], [list(item) for item in report["timing"].items()]))
    blocks.append(Heading("Environment"))
    blocks.append(Table(["item", "value"], [list(item) for item in report["environment"].items()]))

    wrong = report["misclassified"]
    blocks.append(Heading(f"Misclassified test sentences ({len(wrong)})"))
    blocks.append(Paragraph("Most confident mistakes first; score is the probability of the wrong label."))
    blocks.append(Table(
        ["article", "sentence", "gold", "predicted", "score", "text"],
        [
            [r["article_id"], r["sentence_index"], r["gold"], r["label"], format_number(r["score"], 2), r["text"]]
            for r in wrong
        ],
    ))
    return blocks

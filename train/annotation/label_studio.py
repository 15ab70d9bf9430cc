"""Label Studio round trip: articles -> tasks to annotate -> the project's annotation format.

A task is one article: its sentences, cleaned and split exactly as the dataset builder does
(:class:`~train.data.preprocess.Preprocessor`), each a paragraph of a ``Paragraphs`` object
that the shipped labeling configuration (:data:`LABELING_CONFIG`) lets an annotator label
one by one with ``ParagraphLabels`` (hotkeys q, o, c, b). Model labels go into a task only
as Label Studio *predictions* (pre-annotations) and only on request: gold labels must not
be pre-filled (docs/annotation_guidelines.md).

An export (Label Studio's JSON export) comes back as one label per annotator per sentence.
Every annotator's label is kept (``annotators``); sentences they label alike take that label,
the others need an adjudication (a file of ``{"article_id", "index", "label", "reason"}``)
before the gold file is written.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import KalimatError
from ..core.labels import LABELS

LABELING_CONFIG = Path(__file__).with_name("labeling_config.xml")
FROM_NAME, TO_NAME = "role", "article"  # the control and object tags of the labeling configuration


def task(article_id: str, sentences: list[str], outlet: str = "", category: str = "") -> dict:
    """A Label Studio task for one article (``data.sentences``: index and text of every sentence)."""
    return {"data": {"article_id": article_id, "outlet": outlet, "category": category,
                     "sentences": [{"index": i, "text": s} for i, s in enumerate(sentences)]}}


def region(index: int, text: str, label: str) -> dict:
    """One sentence labeled, as a ``ParagraphLabels`` result (an annotation's or a prediction's)."""
    return {"from_name": FROM_NAME, "to_name": TO_NAME, "type": "paragraphlabels",
            "value": {"start": str(index), "end": str(index), "startOffset": 0, "endOffset": len(text),
                      "text": text, "paragraphlabels": [label]}}


def prediction(sentences: list[str], labels: list[str], scores: list[float], model_version: str) -> dict:
    """A model's labels of one article as a Label Studio prediction (a pre-annotation, shown as the model's)."""
    return {"model_version": model_version, "score": round(sum(scores) / len(scores), 4) if scores else 0.0,
            "result": [region(i, s, label) for i, (s, label) in enumerate(zip(sentences, labels))]}


@dataclass
class ExportedTask:
    """One article of an export: its sentences and each annotator's label of each sentence."""

    article_id: str
    sentences: list[str]
    labels: dict[str, dict[int, str]] = field(default_factory=dict)  # annotator -> sentence index -> label
    where: str = ""


def read_export(path) -> list[ExportedTask]:
    """The tasks of a Label Studio JSON export made with the shipped configuration.

    Anything else (another configuration's results, tasks without sentences, unknown labels,
    a sentence given two labels by one annotator) is one line naming the task and the fix.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise KalimatError(f"cannot read {path} ({err.strerror}); give the JSON export of the Label Studio project") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise KalimatError(f"{path}: not valid JSON ({err}); export the project as JSON from Label Studio") from None
    if not isinstance(data, list):
        raise KalimatError(f"{path}: not a Label Studio JSON export (a list of tasks); export the project as JSON")
    return [_task(item, f"{path}: task {item.get('id', n) if isinstance(item, dict) else n}")
            for n, item in enumerate(data, start=1)]


def _task(item, where: str) -> ExportedTask:
    data = item.get("data") if isinstance(item, dict) else None
    sentences = data.get("sentences") if isinstance(data, dict) else None
    if not (isinstance(sentences, list) and sentences and isinstance(data.get("article_id"), (str, int))
            and all(isinstance(s, dict) and isinstance(s.get("text"), str) for s in sentences)):
        raise KalimatError(f"{where}: no article_id and sentences in its data; export tasks made by "
                           "kalimat-annotate export, annotated with its labeling configuration")
    exported = ExportedTask(str(data["article_id"]), [s["text"] for s in sentences], where=where)
    for annotation in item.get("annotations") or []:
        if annotation.get("was_cancelled"):
            continue
        exported.labels[_annotator(annotation)] = _labels(annotation.get("result") or [], len(sentences), where)
    return exported


def _annotator(annotation: dict) -> str:
    """The annotator's e-mail where the export gives it, else ``annotator-<user id>``."""
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or f"annotator-{who.get('id')}")
    return f"annotator-{who}"


def _labels(results: list, count: int, where: str) -> dict[int, str]:
    labels: dict[int, str] = {}
    for result in results:
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, dict) or result.get("from_name") != FROM_NAME or "paragraphlabels" not in value:
            raise KalimatError(f"{where}: a result that is not a {FROM_NAME!r} paragraph label; the project was "
                               f"annotated with another labeling configuration, use {LABELING_CONFIG.name}")
        names = value["paragraphlabels"]
        if len(names) != 1 or names[0] not in LABELS:
            raise KalimatError(f"{where}: label {names} is not one of {', '.join(LABELS)}; "
                               "annotate with the shipped labeling configuration")
        try:
            start, end = int(value["start"]), int(value["end"])
        except (KeyError, TypeError, ValueError):
            raise KalimatError(f"{where}: a label without its sentence numbers (start, end); "
                               "annotate with the shipped labeling configuration") from None
        for index in range(start, end + 1):
            if not 0 <= index < count:
                raise KalimatError(f"{where}: a label on sentence {index}, but the task has {count} sentences")
            if labels.get(index, names[0]) != names[0]:
                raise KalimatError(f"{where}: sentence {index} is labeled both {labels[index]} and {names[0]} by "
                                   "one annotator; fix it in Label Studio and export again")
            labels[index] = names[0]
    return labels


@dataclass
class Imported:
    """What an export gives: gold records, the sentence pairs of each two annotators, what is left out."""

    records: list[dict]
    pairs: dict[tuple[str, str], tuple[list[str], list[str]]]  # (annotator, annotator) -> their labels
    disagreements: list[tuple[ExportedTask, int]]  # (task, sentence) labeled apart and not adjudicated
    incomplete: list[str]  # messages: annotations that leave sentences unlabeled
    unannotated: int  # tasks nobody annotated


def import_tasks(tasks: list[ExportedTask], adjudications: dict[tuple[str, int], dict]) -> Imported:
    """The project's annotation records of every fully labeled sentence set of every task.

    An annotator who left sentences of an article unlabeled is reported and their labels of
    that article are not used (the dataset needs whole articles); the others' are.
    """
    records, pairs, disagreements, incomplete, unannotated = [], {}, [], [], 0
    for t in tasks:
        complete = {}
        for annotator, labels in t.labels.items():
            missing = [i for i in range(len(t.sentences)) if i not in labels]
            if missing:
                incomplete.append(f"{t.where} ({t.article_id}): {annotator} left sentences {missing[:10]} unlabeled")
            else:
                complete[annotator] = labels
        if not complete:
            unannotated += not t.labels
            continue
        names = sorted(complete)
        for a, b in ((a, b) for i, a in enumerate(names) for b in names[i + 1:]):
            first, second = pairs.setdefault((a, b), ([], []))
            first += [complete[a][i] for i in range(len(t.sentences))]
            second += [complete[b][i] for i in range(len(t.sentences))]
        for index, text in enumerate(t.sentences):
            given = {name: complete[name][index] for name in names}
            record = {"article_id": t.article_id, "text": text}
            if len(set(given.values())) == 1:
                record["label"] = next(iter(given.values()))
            elif (t.article_id, index) in adjudications:
                settled = adjudications[t.article_id, index]
                record["label"], record["adjudication"] = settled["label"], settled["reason"]
            else:
                disagreements.append((t, index))
                continue
            if len(names) > 1:
                record["annotators"] = given
            else:
                record["annotator"] = names[0]
            records.append(record)
    return Imported(records, pairs, disagreements, incomplete, unannotated)


def disagreement_sheet(disagreements: list[tuple[ExportedTask, int]]) -> str:
    """The articles with sentences labeled apart, every sentence numbered, the disputed ones marked."""
    by_task: dict[int, tuple[ExportedTask, set[int]]] = {}
    for t, index in disagreements:
        by_task.setdefault(id(t), (t, set()))[1].add(index)
    lines = ["# Disagreements to adjudicate", "",
             'Write one line per marked sentence: {"article_id", "index", "label", "reason"} (the guideline rule '
             "that settled it), then import again with --adjudications FILE.", ""]
    for t, indices in by_task.values():
        lines += [f"## article {t.article_id}", ""]
        for i, text in enumerate(t.sentences):
            mark = ""
            if i in indices:
                mark = "  <-- DISAGREE: " + ", ".join(f"{name} {labels[i]}" for name, labels in sorted(t.labels.items()))
            lines.append(f"[{i}] {text}{mark}")
        lines.append("")
    return "\n".join(lines)


def label_counts(records: list[dict]) -> Counter:
    return Counter(r["label"] for r in records)

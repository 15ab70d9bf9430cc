"""Sentence-role classification metrics as an ``evaluate`` module.

Shipped inside the package and loaded by path (``evaluate.load(<this folder>)``), so
evaluation needs no network and every run computes its numbers with the same code. The
label order is passed in by the caller (``train.core.labels.LABELS``) rather than written here,
so the project keeps a single place that names the labels.
"""

import datasets
import evaluate
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

_DESCRIPTION = """
Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix of a
single-label classification with string labels.

Macro-F1 is the unweighted mean of the per-class F1 over the labels that occur in the
references or the predictions (scikit-learn's ``average="macro"``): a label the sample does
not contain at all neither helps nor hurts. Per-class rows and the confusion matrix always
cover every label in ``labels``, in that order; a class without predictions has precision 0.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of str): predicted labels.
    references (list of str): gold labels.
    labels (list of str): every label, in the order of the per-class table and of the
        confusion matrix rows (gold) and columns (predicted).
Returns:
    accuracy (float), macro_f1 (float),
    per_class ({label: {precision, recall, f1, support}}),
    confusion_matrix ({"labels": [...], "matrix": [[int]]}).
Examples:
    >>> metric = evaluate.load("train/metrics/kalimat_classification")
    >>> metric.compute(predictions=["a", "b"], references=["a", "a"], labels=["a", "b"])["accuracy"]
    0.5
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class KalimatClassification(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, labels):
        labels = list(labels)
        precision, recall, f1, support = precision_recall_fscore_support(
            references, predictions, labels=labels, zero_division=0
        )
        per_class = {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        }
        matrix = confusion_matrix(references, predictions, labels=labels)
        return {
            "accuracy": float(accuracy_score(references, predictions)),
            "macro_f1": float(f1_score(references, predictions, average="macro", zero_division=0)),
            "per_class": per_class,
            "confusion_matrix": {"labels": labels, "matrix": matrix.tolist()},
        }

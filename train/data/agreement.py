"""Agreement between two annotators who labeled the same sentences independently.

The gold labels are one person's reading; how far a second, independent reading agrees
says how much any model score can mean (a model cannot be trusted to agree with the gold
labels more than annotators agree with each other). Reported in the dataset card:

* Cohen's kappa: agreement corrected for what two annotators with these label
  frequencies would reach by chance (scikit-learn's ``cohen_kappa_score``);
* raw agreement: the share of sentences labeled alike;
* per-label (specific) agreement: ``2 n_both / (n_first + n_second)`` for each label, i.e.
  how often one annotator's use of a label is matched by the other's;
* the confusion between annotators (rows: first annotator, columns: second).
"""

from sklearn.metrics import cohen_kappa_score, confusion_matrix

from ..core.labels import LABELS


def agreement(first: list[str], second: list[str]) -> dict:
    """Agreement figures for two label lists over the same sentences."""
    if len(first) != len(second) or not first:
        raise ValueError(f"need two equally long, non-empty label lists, got {len(first)} and {len(second)}")
    matrix = confusion_matrix(first, second, labels=list(LABELS))
    per_label = {}
    for i, label in enumerate(LABELS):
        used = matrix[i, :].sum() + matrix[:, i].sum()
        per_label[label] = None if used == 0 else round(float(2 * matrix[i, i] / used), 4)
    return {
        "sentences": len(first),
        "cohen_kappa": round(float(cohen_kappa_score(first, second, labels=list(LABELS))), 4),
        "raw_agreement": round(float(matrix.trace() / matrix.sum()), 4),
        "per_label": per_label,
        "confusion": {"labels": list(LABELS), "matrix": matrix.tolist()},
    }


def annotator_pairs(annotations) -> tuple[list[str], list[str], set[str]]:
    """The two original labels of every doubly read annotation, and the articles they come from.

    Annotators are taken in the order their names sort (``first`` before ``second``).
    """
    first, second, articles = [], [], set()
    for annotation in annotations:
        if annotation.annotators and len(annotation.annotators) == 2:
            a, b = (annotation.annotators[name] for name in sorted(annotation.annotators))
            first.append(a)
            second.append(b)
            articles.add(annotation.article_id)
    return first, second, articles


def fleiss_kappa(ratings: list[list[str]]) -> float:
    """Fleiss' kappa of sentences each labeled by the same number (at least two) of annotators.

    ``ratings`` holds, per sentence, the labels it was given. Agreement beyond chance across
    any number of annotators, where Cohen's kappa compares two.
    """
    n = len(ratings[0]) if ratings else 0
    if n < 2 or any(len(r) != n for r in ratings):
        raise ValueError("need sentences each labeled by the same number (at least two) of annotators")
    counts = [[r.count(label) for label in LABELS] for r in ratings]
    observed = sum((sum(c * c for c in row) - n) / (n * (n - 1)) for row in counts) / len(counts)
    shares = [sum(row[j] for row in counts) / (n * len(counts)) for j in range(len(LABELS))]
    chance = sum(p * p for p in shares)
    return 1.0 if chance == 1 else round((observed - chance) / (1 - chance), 4)

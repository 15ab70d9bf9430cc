"""Agreement between two annotators on constructed labels whose kappa is known by hand."""

import pytest

from train.data.agreement import agreement, annotator_pairs
from train.data.annotations import Annotation


def constructed() -> tuple[list[str], list[str]]:
    """50 sentences: both claim 20, both background 15, claim/background 5, background/claim 10.

    Observed agreement 35/50 = 0.7; chance agreement 0.5 x 0.6 + 0.5 x 0.4 = 0.5;
    kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    """
    pairs = [("claim", "claim")] * 20 + [("background", "background")] * 15
    pairs += [("claim", "background")] * 5 + [("background", "claim")] * 10
    return [a for a, _ in pairs], [b for _, b in pairs]


def test_kappa_raw_and_per_label_agreement_match_the_hand_computation():
    figures = agreement(*constructed())
    assert figures["sentences"] == 50
    assert figures["cohen_kappa"] == pytest.approx(0.4)
    assert figures["raw_agreement"] == pytest.approx(0.7)
    assert figures["per_label"] == {
        "quote": None, "opinion": None,
        "claim": pytest.approx(2 * 20 / (25 + 30), abs=1e-4),
        "background": pytest.approx(2 * 15 / (25 + 20), abs=1e-4),
    }
    claim, background = 2, 3  # rows: first annotator, columns: second, in LABELS order
    matrix = figures["confusion"]["matrix"]
    assert matrix[claim][claim] == 20 and matrix[claim][background] == 5 and matrix[background][claim] == 10


def test_perfect_and_chance_agreement():
    labels = ["quote", "opinion", "claim", "background"] * 5
    assert agreement(labels, labels)["cohen_kappa"] == 1.0
    # the second annotator always answers claim: agreement no better than chance
    assert agreement(labels, ["claim"] * len(labels))["cohen_kappa"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="equally long"):
        agreement(["claim"], [])


def test_pairs_come_from_doubly_read_annotations_only():
    annotations = [
        Annotation("a", "Satu.", "claim", annotators={"second": "background", "first": "claim"}),
        Annotation("a", "Dua.", "quote"),
        Annotation("b", "Tiga.", "opinion", annotators={"first": "opinion", "second": "opinion"}),
    ]
    first, second, articles = annotator_pairs(annotations)
    assert (first, second, articles) == (["claim", "opinion"], ["background", "opinion"], {"a", "b"})

"""What a built dataset holds, told twice from the same facts: the dataset card and the build's summary.

The card (``dataset_card.md``, written beside the data) has every table: labels per split,
category and outlet, annotator agreement, the labeling functions' quality, the articles and
the cleaning log. The summary the build prints is its headline (:func:`headline`), the
labeling functions' quality and the split counts.
"""

from collections import Counter

from ..core.labels import LABELS
from ..core.metrics import macro_f1
from ..core.render import Heading, Paragraph, Table, to_markdown
from ..core.settings import WEAK_LABELERS
from .weak_labels import RULE_LABELS, RULE_NAMES

SPLITS = ("train", "validation", "test")


def rule_quality(records: list[dict]) -> list[dict]:
    """Per labeling function: coverage over all sentences, accuracy against the gold labels of the training split.

    Only training sentences judge the functions: the rules are developed on them, and the
    test articles stay unseen for the rules baseline (see :func:`rules_on_test`).
    """
    rows = []
    for name in RULE_NAMES:
        fired = [r for r in records if name in r["rules"]]
        gold = [r for r in fired if r["label_source"] == "gold" and r["split"] == "train"]
        correct = sum(r["label"] == RULE_LABELS[name] for r in gold)
        rows.append({
            "rule": name, "votes": RULE_LABELS[name], "fired": len(fired),
            "coverage": len(fired) / len(records) if records else 0.0,
            "gold_fired": len(gold), "accuracy": correct / len(gold) if gold else None,
        })
    return rows


def rules_on_test(records: list[dict]) -> dict | None:
    """The labeling functions' vote scored on the gold sentences of the test articles."""
    test = [r for r in records if r["split"] == "test" and r["label_source"] == "gold"]
    if not test:
        return None
    gold, vote_ = [r["label"] for r in test], [r["weak_label"] for r in test]
    return {"sentences": len(test), "accuracy": sum(g == v for g, v in zip(gold, vote_)) / len(test),
            "macro_f1": macro_f1(gold, vote_)}


def headline(built, hash_: str) -> list[str]:
    """The dataset in a few sentences: size, label sources, the rules baseline, the teacher, agreement."""
    records = built.records
    sources = Counter(r["label_source"] for r in records)
    lines = [f"{len(records)} sentences from {len({r['article_id'] for r in records})} articles (gold "
             f"{sources['gold']}, weak {sources['weak']}"
             + (f", weak labels by {WEAK_LABELERS[built.weak_labeler]}" if sources["weak"] else "")
             + f"); content hash {hash_} (reports quote it; runs on data with another hash are not comparable)."]
    rules = rules_on_test(records)
    lines.append("The rules baseline on the test articles: " + (
        "no gold test sentences." if rules is None else
        f"macro-F1 {rules['macro_f1']:.3f}, accuracy {rules['accuracy']:.3f} on {rules['sentences']} sentences."))
    if built.teacher:
        lines.append(f"The teacher's macro-F1 on the {built.teacher['sentences']} validation sentences: "
                     f"{built.teacher['macro_f1']:.3f} (the rules' vote: {built.teacher['rules_macro_f1']:.3f}).")
    if built.agreement:
        lines.append(f"Annotator agreement on {built.agreement['sentences']} sentences labeled twice: Cohen's kappa "
                     f"{built.agreement['cohen_kappa']:.3f}, raw {built.agreement['raw_agreement']:.1%}.")
    return lines


def _count_table(records: list[dict], key: str) -> Table:
    """Gold sentences per label for each value of ``key`` (split, category, outlet), with article counts."""
    values = sorted({r[key] for r in records}, key=lambda v: SPLITS.index(v) if v in SPLITS else v)
    rows = []
    for value in values:
        rows_of = [r for r in records if r[key] == value]
        gold = Counter(r["label"] for r in rows_of if r["label_source"] == "gold")
        rows.append([value, len({r["article_id"] for r in rows_of}), *(gold[lab] for lab in LABELS),
                     sum(gold.values()), sum(r["label_source"] == "weak" for r in rows_of)])
    return Table([key, "articles", *LABELS, "gold", "weak"], rows)


def _agreement_blocks(figures: dict | None) -> list:
    if figures is None:
        return [Paragraph("No sentence was labeled by two annotators.")]
    confusion = figures["confusion"]
    return [
        Paragraph(f"{figures['sentences']} sentences labeled twice, independently: Cohen's kappa "
                  f"{figures['cohen_kappa']:.3f}, raw agreement {figures['raw_agreement']:.1%}. "
                  "Per label, specific agreement 2·both / (first + second): "
                  + ", ".join(f"{lab} {'-' if v is None else f'{v:.2f}'}" for lab, v in figures["per_label"].items())
                  + ". Disagreements were adjudicated; the final label is the gold label."),
        Table(["first \\ second", *confusion["labels"]],
              [[label, *row] for label, row in zip(confusion["labels"], confusion["matrix"])]),
    ]


def dataset_card(name: str, built, hash_: str) -> str:
    """The Markdown card written beside the data."""
    records = built.records
    articles = list(dict.fromkeys(r["article_id"] for r in records))
    by_article = {a: [r for r in records if r["article_id"] == a] for a in articles}
    blocks = [
        Heading(f"Dataset card: {name}", 1),
        *(Paragraph(line) for line in headline(built, hash_)),
        Heading("Labels per split"),
        Paragraph("Gold sentences per label; the test articles are never used for model selection, early "
                  "stopping or rule development."),
        _count_table(records, "split"),
        Heading("Per category"),
        _count_table(records, "category"),
        Heading("Per outlet"),
        _count_table(records, "outlet"),
        Heading("Annotator agreement"),
        *_agreement_blocks(built.agreement),
        Heading("Labeling functions"),
        Paragraph("Per function: coverage over all sentences; accuracy of its vote against the gold labels of the "
                  "training split where it fired."),
        Table(["function", "votes", "fired", "coverage", "accuracy on training gold"],
              [[q["rule"], q["votes"], q["fired"], f"{q['coverage']:.0%}",
                "-" if q["accuracy"] is None else f"{q['accuracy']:.0%} of {q['gold_fired']}"]
               for q in rule_quality(records)]),
        Heading("Articles"),
        Table(["article", "outlet", "category", "split", "sentences", *LABELS],
              [[a, rs[0]["outlet"], rs[0]["category"], rs[0]["split"], len(rs),
                *(sum(r["label"] == lab for r in rs) for lab in LABELS)] for a, rs in by_article.items()]),
        Heading("Cleaning log"),
        Paragraph("What the cleaning patterns (configs/cleaning/) removed from each article."),
        Table(["article", "removed"], [[a, "; ".join(built.removed.get(a, [])) or "nothing"] for a in articles]),
    ]
    return to_markdown(blocks)


def summary(built, output_dir, hash_: str) -> str:
    """What the build prints: the headline, the labels and the splits, and where it went."""
    records = built.records
    labels = Counter(r["label"] for r in records)
    lines = ["", "labeling functions (coverage, accuracy on training gold):"]
    for q in rule_quality(records):
        accuracy = "-" if q["accuracy"] is None else f"{q['accuracy']:.0%} of {q['gold_fired']}"
        lines.append(f"  {q['rule']:<30} -> {q['votes']:<10} {q['coverage']:>5.0%}  {accuracy}")
    lines += ["", *headline(built, hash_)]
    lines += [f"  {label:<11} {labels[label]:>5}" for label in LABELS]
    for split in SPLITS:
        rows = [r for r in records if r["split"] == split]
        lines.append(f"  {split:<11} {len(rows):>5} sentences, {len({r['article_id'] for r in rows})} articles")
    lines.append(f"written to {output_dir}")
    return "\n".join(lines)

"""Annotation sheets: articles -> numbered sentences to read and label -> annotation file.

    # 1. sheets of whole articles, numbered exactly as the project splits them
    python scripts/annotation_sheets.py make data/corpus/articles.jsonl --out sheets/ \
        --per-batch 20 --second-share 0.2
    # 2. an annotator writes sheets/labels/<batch>.jsonl: {"article_id", "index", "label", "note"}
    # 3. labels by index -> the project's annotation format, matched by sentence text
    python scripts/annotation_sheets.py merge sheets/ sheets/labels/batch_01.jsonl ... \
        --output first.jsonl
    # 4. where a second annotator read the same articles: the disagreements, in context
    python scripts/annotation_sheets.py disagreements sheets/ first.jsonl second.jsonl --out adjudicate.md
    # 5. an adjudicator writes {"article_id", "index", "label", "reason"} for each; then
    python scripts/annotation_sheets.py combine sheets/ first.jsonl second.jsonl \
        --adjudications adjudicated.jsonl --output data/annotations/corpus.jsonl

Annotators read whole articles and label by sentence number, so they never copy sentence
text by hand; ``merge`` puts the text back and refuses a sheet that is not labeled in full.
The second-annotation sheets hold a seeded, category-stratified share of the articles for an
independent second reading (see ``scripts/annotation_agreement.py``). Nothing here proposes
a label: the sheets carry the text only.
"""

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train.core.atomic import write_jsonl, write_text  # noqa: E402
from train.core.labels import check_label  # noqa: E402
from train.data.articles import read_articles  # noqa: E402
from train.data.preprocess import Preprocessor  # noqa: E402

SENTENCES_FILE = "sentences.json"


def _categories(paths: list[Path]) -> dict[str, str]:
    """Article id -> category, for stratifying; articles without one share a category."""
    found = {}
    for path in paths:
        if path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    found[str(record["id"])] = record.get("category", "")
    return found


def _sheet(articles: list[tuple[str, str, list[str]]], title: str) -> str:
    lines = [f"# {title}", ""]
    for article_id, category, sentences in articles:
        lines += [f"## article {article_id} ({category or 'no category'})", ""]
        lines += [f"[{i}] {sentence}" for i, sentence in enumerate(sentences)]
        lines.append("")
    return "\n".join(lines)


def make(args) -> None:
    preprocessor = Preprocessor.default()
    category = _categories(args.inputs)
    articles = [(a.id, category.get(a.id, ""), preprocessor.article_sentences(a)[0])
                for a in read_articles([str(p) for p in args.inputs])]
    rng = random.Random(args.seed)
    by_category = defaultdict(list)
    for article in articles:
        by_category[article[1]].append(article)
    # Round-robin over categories, so each batch mixes sections like the corpus does.
    queues = [rng.sample(group, len(group)) for _, group in sorted(by_category.items())]
    order = []
    while any(queues):
        order += [queue.pop() for queue in queues if queue]
    batches = [order[i:i + args.per_batch] for i in range(0, len(order), args.per_batch)]
    second = []
    for _, group in sorted(by_category.items()):
        second += rng.sample(group, max(1, round(args.second_share * len(group))))
    second_batches = [second[i:i + args.per_batch] for i in range(0, len(second), args.per_batch)]

    args.out.mkdir(parents=True, exist_ok=True)
    for prefix, groups in (("batch", batches), ("second", second_batches)):
        for number, group in enumerate(groups, start=1):
            name = f"{prefix}_{number:02d}"
            write_text(args.out / f"{name}.md", _sheet(group, f"{name}: {len(group)} articles"))
    write_text(args.out / SENTENCES_FILE, json.dumps({aid: s for aid, _, s in articles}, ensure_ascii=False))
    print(f"{len(batches)} batches of {sum(len(s) for _, _, s in articles)} sentences, "
          f"{len(second_batches)} second-annotation batches of "
          f"{sum(len(s) for _, _, s in second)} sentences ({len(second)} articles) -> {args.out}")


def merge(args) -> None:
    sentences = json.loads((args.sheets / SENTENCES_FILE).read_text(encoding="utf-8"))
    labels: dict[str, dict[int, dict]] = defaultdict(dict)
    for path in args.labels:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            where = f"{path}:{number}"
            article_id, index = str(record["article_id"]), int(record["index"])
            if article_id not in sentences or not 0 <= index < len(sentences[article_id]):
                raise SystemExit(f"error: {where}: no sentence {index} in article {article_id!r}")
            if index in labels[article_id]:
                raise SystemExit(f"error: {where}: sentence {index} of {article_id} is labeled twice")
            labels[article_id][index] = {"label": check_label(record["label"], where), "note": record.get("note", "")}
    rows = []
    for article_id, by_index in labels.items():
        missing = sorted(set(range(len(sentences[article_id]))) - set(by_index))
        if missing:
            raise SystemExit(f"error: article {article_id}: sentences {missing} have no label; label them")
        for index in range(len(sentences[article_id])):
            row = {"article_id": article_id, "text": sentences[article_id][index], "label": by_index[index]["label"]}
            if by_index[index]["note"]:
                row["note"] = by_index[index]["note"]
            rows.append(row)
    write_jsonl(args.output, rows)
    print(f"{len(rows)} sentences of {len(labels)} articles -> {args.output}")


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _by_index(sentences: dict[str, list[str]], path: Path) -> dict[tuple[str, int], dict]:
    """An annotation file keyed by (article, sentence number)."""
    position = {(aid, text): i for aid, texts in sentences.items() for i, text in enumerate(texts)}
    return {(r["article_id"], position[r["article_id"], r["text"]]): r for r in _read_jsonl(path)}


def disagreements(args) -> None:
    sentences = json.loads((args.sheets / SENTENCES_FILE).read_text(encoding="utf-8"))
    first, second = _by_index(sentences, args.first), _by_index(sentences, args.second)
    articles = sorted({aid for aid, i in second if first[aid, i]["label"] != second[aid, i]["label"]})
    lines = ["# Disagreements to adjudicate", ""]
    for aid in articles:
        lines += [f"## article {aid}", ""]
        for i, text in enumerate(sentences[aid]):
            a, b = first[aid, i], second[aid, i]
            mark = f"  <-- DISAGREE: {a['label']} / {b['label']}" if a["label"] != b["label"] else ""
            lines.append(f"[{i}] {text}{mark}")
            for who, record in (("note A", a), ("note B", b)):
                if mark and record.get("note"):
                    lines.append(f"    {who}: {record['note']}")
        lines.append("")
    write_text(args.out, "\n".join(lines))
    count = sum(first[k]["label"] != second[k]["label"] for k in second)
    print(f"{count} disagreements in {len(articles)} articles -> {args.out}")


def combine(args) -> None:
    """First labels, with both labels kept where a second annotator read the article, and the adjudicated one final."""
    sentences = json.loads((args.sheets / SENTENCES_FILE).read_text(encoding="utf-8"))
    first, second = _by_index(sentences, args.first), _by_index(sentences, args.second)
    adjudicated = {(r["article_id"], int(r["index"])): r for r in _read_jsonl(args.adjudications)}
    rows = []
    for key, record in first.items():
        row = {"article_id": record["article_id"], "text": record["text"], "label": record["label"]}
        if key in second:
            labels = {"first": record["label"], "second": second[key]["label"]}
            row["annotators"] = labels
            if labels["first"] != labels["second"]:
                if key not in adjudicated:
                    raise SystemExit(f"error: sentence {key[1]} of {key[0]}: annotators disagree and no "
                                     "adjudication is given; adjudicate it")
                row["label"] = check_label(adjudicated[key]["label"], f"adjudication of {key}")
                row["adjudication"] = adjudicated[key]["reason"]
        notes = [r.get("note") for r in (record, second.get(key)) if r and r.get("note")]
        if notes:
            row["note"] = " | ".join(notes)
        rows.append(row)
    write_jsonl(args.output, rows)
    print(f"{len(rows)} sentences ({sum('annotators' in r for r in rows)} read twice, "
          f"{sum('adjudication' in r for r in rows)} adjudicated) -> {args.output}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make_parser = commands.add_parser("make", help="write numbered sheets of whole articles")
    make_parser.add_argument("inputs", nargs="+", type=Path)
    make_parser.add_argument("--out", type=Path, required=True)
    make_parser.add_argument("--per-batch", type=int, default=20)
    make_parser.add_argument("--second-share", type=float, default=0.2)
    make_parser.add_argument("--seed", type=int, default=7)
    merge_parser = commands.add_parser("merge", help="labels by sentence number -> annotation file")
    merge_parser.add_argument("sheets", type=Path)
    merge_parser.add_argument("labels", nargs="+", type=Path)
    merge_parser.add_argument("--output", type=Path, required=True)
    disagree_parser = commands.add_parser("disagreements", help="sheet of the sentences two annotators labeled apart")
    combine_parser = commands.add_parser("combine", help="first + second labels + adjudications -> gold file")
    for sub in (disagree_parser, combine_parser):
        sub.add_argument("sheets", type=Path)
        sub.add_argument("first", type=Path)
        sub.add_argument("second", type=Path)
    disagree_parser.add_argument("--out", type=Path, required=True)
    combine_parser.add_argument("--adjudications", type=Path, required=True)
    combine_parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    {"make": make, "merge": merge, "disagreements": disagreements, "combine": combine}[args.command](args)


if __name__ == "__main__":
    main()

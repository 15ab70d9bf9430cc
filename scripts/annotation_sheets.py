"""Annotation sheets: articles -> numbered sentences to read and label -> annotation file.

    # 1. sheets of whole articles, numbered exactly as the project splits them
    python scripts/annotation_sheets.py make my_articles.jsonl --out sheets/ \
        --per-batch 20 --second-share 0.2
    # 2. an annotator writes sheets/labels/<sheet>.jsonl: {"article_id", "index", "label", "note"}
    #    for every sentence of the sheet <sheet>.md (batch_01, ..., second_01, ...)
    # 3. labels by index -> the project's annotation format, matched by sentence text
    python scripts/annotation_sheets.py merge sheets/ sheets/labels/batch_01.jsonl ... \
        --output first.jsonl
    # 4. where a second annotator read the same articles: the disagreements, in context
    python scripts/annotation_sheets.py disagreements sheets/ first.jsonl second.jsonl --out adjudicate.md
    # 5. an adjudicator writes {"article_id", "index", "label", "reason"} for each; then
    python scripts/annotation_sheets.py combine sheets/ first.jsonl second.jsonl \
        --adjudications adjudicated.jsonl --output data/annotations/corpus.jsonl

Annotators read whole articles and label by sentence number, so they never copy sentence
text by hand; ``merge`` puts the text back and refuses a sheet that is not labeled in full
(every sentence of every article on it). The second-annotation sheets hold a seeded,
category-stratified share of the articles (``--second-share 0``: none) for an independent
second reading; the dataset build reports the agreement of such doubly read sentences
(``train/data/agreement.py``). Nothing here proposes a label: the sheets carry the text only.
"""

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train.core.atomic import write_jsonl, write_text  # noqa: E402
from train.core.errors import KalimatError, exit_on_error  # noqa: E402
from train.core.labels import check_label  # noqa: E402
from train.data.annotations import jsonl_records  # noqa: E402
from train.data.articles import read_articles  # noqa: E402
from train.data.preprocess import Preprocessor  # noqa: E402

SENTENCES_FILE = "sentences.json"  # article id -> its sentences, as numbered on the sheets
SHEETS_FILE = "sheets.json"  # sheet name -> the ids of the articles on it


def _sheet(articles: list[tuple[str, str, list[str]]], title: str) -> str:
    lines = [f"# {title}", ""]
    for article_id, category, sentences in articles:
        lines += [f"## article {article_id} ({category or 'no category'})", ""]
        lines += [f"[{i}] {sentence}" for i, sentence in enumerate(sentences)]
        lines.append("")
    return "\n".join(lines)


def make(args) -> None:
    if args.per_batch < 1:
        raise KalimatError(f"--per-batch {args.per_batch}: give at least 1 article per sheet")
    if not 0 <= args.second_share <= 1:
        raise KalimatError(f"--second-share {args.second_share}: give a share between 0 (none) and 1 (all)")
    preprocessor = Preprocessor.default()
    articles = [(a.id, a.category, preprocessor.article_sentences(a)[0])
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
    if args.second_share > 0:  # at least one article of each category, however small the share
        for _, group in sorted(by_category.items()):
            second += rng.sample(group, max(1, round(args.second_share * len(group))))
    second_batches = [second[i:i + args.per_batch] for i in range(0, len(second), args.per_batch)]

    sheets = {}
    for prefix, groups in (("batch", batches), ("second", second_batches)):
        for number, group in enumerate(groups, start=1):
            name = f"{prefix}_{number:02d}"
            write_text(args.out / f"{name}.md", _sheet(group, f"{name}: {len(group)} articles"))
            sheets[name] = [article_id for article_id, _, _ in group]
    write_text(args.out / SENTENCES_FILE, json.dumps({aid: s for aid, _, s in articles}, ensure_ascii=False))
    write_text(args.out / SHEETS_FILE, json.dumps(sheets, ensure_ascii=False))
    print(f"{len(batches)} batches of {sum(len(s) for _, _, s in articles)} sentences, "
          f"{len(second_batches)} second-annotation batches of "
          f"{sum(len(s) for _, _, s in second)} sentences ({len(second)} articles) -> {args.out}")


def _read_json(folder: Path, name: str) -> dict:
    """One of the files ``make`` writes beside the sheets."""
    path = folder / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise KalimatError(f"cannot read {path} ({err.strerror}); give the folder written by "
                           "annotation_sheets.py make (make again with the same seed to restore it)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise KalimatError(f"{path} is not valid JSON ({err}); make the sheets again with the same seed") from None


def merge(args) -> None:
    sentences = _read_json(args.sheets, SENTENCES_FILE)
    sheets = _read_json(args.sheets, SHEETS_FILE)
    labels: dict[str, dict[int, dict]] = {}
    for path in args.labels:
        sheet = path.name.removesuffix(".jsonl")
        if sheet not in sheets:
            raise KalimatError(f"{path}: no sheet {sheet}.md in {args.sheets}; name each label file after "
                               "its sheet (batch_01.jsonl labels batch_01.md)")
        for article_id in sheets[sheet]:
            labels.setdefault(article_id, {})
        for where, record in jsonl_records(path, ("article_id", "index", "label")):
            article_id, index = str(record["article_id"]), record["index"]
            if article_id not in sheets[sheet]:
                raise KalimatError(f"{where}: article {article_id!r} is not on sheet {sheet}; "
                                   "label each sheet in its own file")
            if not isinstance(index, int) or not 0 <= index < len(sentences[article_id]):
                raise KalimatError(f"{where}: no sentence {index!r} in article {article_id!r}; "
                                   f"the sheet numbers its sentences 0 to {len(sentences[article_id]) - 1}")
            if index in labels[article_id]:
                raise KalimatError(f"{where}: sentence {index} of {article_id} is labeled twice; keep one")
            labels[article_id][index] = {"label": check_label(record["label"], where), "note": record.get("note", "")}
    rows = []
    for article_id, by_index in labels.items():
        missing = sorted(set(range(len(sentences[article_id]))) - set(by_index))
        if missing:
            raise KalimatError(f"article {article_id}: sentences {missing} have no label; label them")
        for index in range(len(sentences[article_id])):
            row = {"article_id": article_id, "text": sentences[article_id][index], "label": by_index[index]["label"]}
            if by_index[index]["note"]:
                row["note"] = by_index[index]["note"]
            rows.append(row)
    write_jsonl(args.output, rows)
    print(f"{len(rows)} sentences of {len(labels)} articles -> {args.output}")


def _by_index(sentences: dict[str, list[str]], path: Path) -> dict[tuple[str, int], dict]:
    """A file written by ``merge`` keyed by (article, sentence number).

    ``merge`` writes every sentence of an article, in order: the n-th line of an article is
    its sentence n, which a key by text could not tell apart from an equal sentence.
    """
    keyed, counts = {}, defaultdict(int)
    for where, record in jsonl_records(path, ("article_id", "text", "label")):
        article_id = str(record["article_id"])
        index = counts[article_id]
        counts[article_id] += 1
        if article_id not in sentences or index >= len(sentences[article_id]) \
                or record["text"] != sentences[article_id][index]:
            raise KalimatError(f"{where}: not sentence {index} of article {article_id!r} of these sheets; "
                               "give a file written by merge from the same sheets")
        keyed[article_id, index] = record
    for article_id, count in counts.items():
        if count < len(sentences[article_id]):
            raise KalimatError(f"{path}: article {article_id!r} is not complete; give a file written by merge")
    return keyed


def _first_and_second(args) -> tuple[dict, dict, dict]:
    """The sentences and both annotators' labels; the second reading covers articles of the first."""
    sentences = _read_json(args.sheets, SENTENCES_FILE)
    first, second = _by_index(sentences, args.first), _by_index(sentences, args.second)
    unread = sorted({aid for aid, _ in second} - {aid for aid, _ in first})
    if unread:
        raise KalimatError(f"{args.second}: articles {', '.join(unread)} are not in {args.first}; "
                           "give the first annotation of every article the second annotator read")
    return sentences, first, second


def disagreements(args) -> None:
    sentences, first, second = _first_and_second(args)
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
    _, first, second = _first_and_second(args)
    adjudicated = {}
    for where, record in jsonl_records(args.adjudications, ("article_id", "index", "label", "reason")):
        adjudicated[str(record["article_id"]), record["index"]] = (check_label(record["label"], where), record)
    rows = []
    for key, record in first.items():
        row = {"article_id": record["article_id"], "text": record["text"], "label": record["label"]}
        if key in second:
            labels = {"first": record["label"], "second": second[key]["label"]}
            row["annotators"] = labels
            if labels["first"] != labels["second"]:
                if key not in adjudicated:
                    raise KalimatError(f"sentence {key[1]} of {key[0]}: annotators disagree and no "
                                       "adjudication is given; adjudicate it")
                row["label"], adjudication = adjudicated[key]
                row["adjudication"] = adjudication["reason"]
        notes = [r.get("note") for r in (record, second.get(key)) if r and r.get("note")]
        if notes:
            row["note"] = " | ".join(notes)
        rows.append(row)
    write_jsonl(args.output, rows)
    print(f"{len(rows)} sentences ({sum('annotators' in r for r in rows)} read twice, "
          f"{sum('adjudication' in r for r in rows)} adjudicated) -> {args.output}")


@exit_on_error
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make_parser = commands.add_parser("make", help="write numbered sheets of whole articles")
    make_parser.add_argument("inputs", nargs="+", type=Path)
    make_parser.add_argument("--out", type=Path, required=True)
    make_parser.add_argument("--per-batch", type=int, default=20)
    make_parser.add_argument("--second-share", type=float, default=0.2,
                             help="share of each category read a second time (default: 0.2; 0: none)")
    make_parser.add_argument("--seed", type=int, default=7)
    merge_parser = commands.add_parser("merge", help="labels by sentence number -> annotation file")
    merge_parser.add_argument("sheets", type=Path)
    merge_parser.add_argument("labels", nargs="+", type=Path, help="<sheet>.jsonl: the labels of every sentence "
                              "of the sheet <sheet>.md")
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

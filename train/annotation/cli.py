"""``kalimat-annotate``: the annotation loop (Label Studio round trip, what to annotate next, which labels to re-read).

    kalimat-annotate export ARTICLES... --output tasks.json [--predictions MODEL]
    kalimat-annotate import export.json --output data/annotations/NAME.jsonl [--adjudications FILE]
    kalimat-annotate suggest --model MODEL --pool ARTICLES... [-n 20] --output next.jsonl
    kalimat-annotate review runs/RUN --output review.html [--list suspects.jsonl]

Every command checks its arguments and outputs before any slow work, writes atomically, and
stops on bad input with one ``error:`` line (exit status 2) and nothing written.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..core.atomic import check_output, write_json, write_jsonl, write_text
from ..core.errors import KalimatError, exit_on_error
from ..core.labels import LABELS, check_label
from ..core.log import warn
from ..data.agreement import agreement, fleiss_kappa
from ..data.annotations import jsonl_records, sentence_keys
from ..data.articles import read_articles
from ..data.preprocess import Preprocessor
from . import label_studio, review, suggest

# ---------------------------------------------------------------- export


def export(args) -> None:
    check_output("--output", args.output)
    predictor = None
    if args.predictions:
        from ..inference.predictor import Predictor  # only when asked: loading a model is slow

        predictor = Predictor(args.predictions)
    preprocessor = Preprocessor.default()  # exactly as the dataset builder cleans and splits
    tasks, sentences_total, empty = [], 0, 0
    for article in tqdm(read_articles(args.inputs, skip_bad=args.skip_bad), desc="articles", unit=" articles",
                        file=sys.stderr, delay=2):
        sentences, _removed = preprocessor.article_sentences(article)
        if not sentences:
            empty += 1
            warn(f"{article.source}: article {article.id!r} is empty after cleaning; no task")
            continue
        made = label_studio.task(article.id, sentences, article.outlet, article.category)
        if predictor is not None:
            (predictions,) = predictor.predict_articles([sentences])
            made["predictions"] = [label_studio.prediction(
                sentences, [p.label for p in predictions], [p.score for p in predictions],
                model_version=f"{Path(args.predictions).name} (kalimat model labels, not gold)")]
        tasks.append(made)
        sentences_total += len(sentences)
    if not tasks:
        raise KalimatError(f"{' '.join(args.inputs)}: no article with sentences to export; check the inputs")
    write_json(args.output, tasks)
    print(f"{len(tasks)} tasks ({sentences_total} sentences{f', {empty} empty articles left out' if empty else ''}) "
          f"-> {args.output}{'; model labels as predictions (pre-annotations)' if predictor else ''}\n"
          f"labeling configuration: {label_studio.LABELING_CONFIG}", file=sys.stderr)


# ---------------------------------------------------------------- import


def _adjudications(path) -> dict[tuple[str, int], dict]:
    settled = {}
    if path is None:
        return settled
    for where, record in jsonl_records(Path(path), ("article_id", "index", "label", "reason")):
        if not isinstance(record["index"], int):
            raise KalimatError(f"{where}: index must be a sentence number; fix the line")
        settled[str(record["article_id"]), record["index"]] = {"label": check_label(record["label"], where),
                                                              "reason": str(record["reason"])}
    return settled


def _check_against_articles(records: list[dict], inputs: list[str]) -> None:
    """Every imported sentence must still be a sentence of its article as the dataset builder splits it now."""
    preprocessor = Preprocessor.default()
    current = {a.id: sentence_keys(a.id, preprocessor.article_sentences(a)[0]) for a in read_articles(inputs)}
    seen: dict[tuple[str, str], int] = {}
    missing = []
    for r in records:
        occurrence = seen.get((r["article_id"], r["text"]), 0)
        seen[r["article_id"], r["text"]] = occurrence + 1
        if r["article_id"] not in current:
            missing.append(f"article {r['article_id']!r} is not in --articles")
        elif (r["article_id"], " ".join(r["text"].split()), occurrence) not in current[r["article_id"]]:
            missing.append(f"article {r['article_id']!r} no longer has the sentence {r['text'][:60]!r}")
    if missing:
        raise KalimatError(f"{len(missing)} imported sentences do not match the articles as the dataset builder "
                           f"splits them now (first: {missing[0]}); export those articles again and re-annotate "
                           "the changed sentences, or leave out --articles to write them anyway")


def import_(args) -> None:
    check_output("--output", args.output)
    sheet = args.disagreements or args.output.with_name(args.output.name + ".disagreements.md")
    check_output("--disagreements", sheet)
    tasks = label_studio.read_export(args.export)
    imported = label_studio.import_tasks(tasks, _adjudications(args.adjudications))
    for message in imported.incomplete:
        warn(f"{message}; their labels of that article are not used")
    for (a, b), (first, second) in sorted(imported.pairs.items()):
        figures = agreement(first, second)
        print(f"agreement {a} / {b}: {figures['sentences']} sentences, Cohen's kappa {figures['cohen_kappa']:.3f}, "
              f"raw {figures['raw_agreement']:.1%}; confusion (rows {a}, columns {b}, {'/'.join(LABELS)}): "
              f"{figures['confusion']['matrix']}", file=sys.stderr)
    ratings = [list(r["annotators"].values()) for r in imported.records if len(r.get("annotators", {})) > 2]
    if ratings and len({len(r) for r in ratings}) == 1:
        print(f"Fleiss' kappa over {len(ratings[0])} annotators: {fleiss_kappa(ratings):.3f}", file=sys.stderr)
    if imported.disagreements:
        write_text(sheet, label_studio.disagreement_sheet(imported.disagreements))
        raise KalimatError(f"{len(imported.disagreements)} sentences are labeled apart by their annotators and not "
                           f"adjudicated: listed in {sheet}; write their labels to a file and run again with "
                           "--adjudications FILE (nothing else was written)")
    if not imported.records:
        raise KalimatError(f"{args.export}: no task is fully labeled by any annotator "
                           f"({imported.unannotated} of {len(tasks)} tasks have no annotation); annotate and export again")
    if args.articles:
        _check_against_articles(imported.records, args.articles)
    write_jsonl(args.output, imported.records)
    articles = len({r["article_id"] for r in imported.records})
    print(f"{len(imported.records)} sentences of {articles} articles -> {args.output} "
          f"({imported.unannotated} tasks not annotated yet); add it to data.annotations (e.g. python -m train.dataset "
          "data=own) to train on it", file=sys.stderr)


# ---------------------------------------------------------------- suggest


def suggest_(args) -> None:
    from ..inference.predictor import Predictor  # slow to import: only the commands that load a model

    check_output("--output", args.output)
    if args.number < 1:
        raise KalimatError(f"-n {args.number}: ask for at least 1 article")
    predictor = Predictor(args.model)
    preprocessor = Preprocessor.load(args.model)
    annotated = set()
    for path in args.exclude:
        annotated |= {str(r["article_id"]) for _, r in jsonl_records(Path(path), ("article_id",))}
    pool = []
    for article in tqdm(read_articles(args.pool), desc="labeling the pool", unit=" articles", file=sys.stderr, delay=2):
        if article.id in annotated:
            continue
        sentences, _ = preprocessor.article_sentences(article)
        if not sentences:
            continue
        (predictions,) = predictor.predict_articles([sentences])
        probabilities = np.array([[p.probs[label] for label in LABELS] for p in predictions])
        pool.append({"id": article.id, "article": article, "sentences": len(sentences),
                     "uncertainty": float(suggest.entropy(probabilities).mean()),
                     "group": (article.outlet, article.category)})
    if not pool:
        raise KalimatError(f"{' '.join(args.pool)}: no unannotated article with sentences in the pool")
    chosen = suggest.rank(pool, args.strategy, args.seed)[:args.number]
    write_jsonl(args.output, [{"id": a["id"], "text": a["article"].text, **({"sentences": a["article"].sentences}
                               if a["article"].sentences is not None and not a["article"].text else {}),
                               "source": a["article"].outlet, "category": a["article"].category,
                               "uncertainty": round(a["uncertainty"], 4)} for a in chosen])
    print(f"{len(chosen)} of {len(pool)} pool articles ({sum(a['sentences'] for a in chosen)} sentences, strategy "
          f"{args.strategy}) -> {args.output}; next: kalimat-annotate export {args.output} --output tasks.json",
          file=sys.stderr)


# ---------------------------------------------------------------- review


def review_(args) -> None:
    check_output("--output", args.output, run_folders=True)
    if args.list:
        check_output("--list", args.list, run_folders=True)
    if args.limit is not None and args.limit < 1:
        raise KalimatError(f"--limit {args.limit}: give at least 1, or leave it out for every flagged sentence")
    records = review.out_of_fold_records(args.run)
    suspects = review.find_suspects(records, args.limit)
    write_text(args.output, review.review_page(suspects, records, str(args.run)))
    if args.list:
        write_jsonl(args.list, [s.record() for s in suspects])
    print(f"{len(suspects)} likely label errors among {len(records)} sentences -> {args.output}", file=sys.stderr)


# ---------------------------------------------------------------- command line


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise KalimatError(f"{message}; see kalimat-annotate --help")


def parse_args(argv=None):
    parser = _Parser(prog="kalimat-annotate", description=__doc__.split("\n\n")[0],
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = commands.add_parser("export", help="articles -> Label Studio tasks (one per article, a sentence per item)")
    p.add_argument("inputs", nargs="+", metavar="ARTICLES", help="folders, .txt, .jsonl or .jsonl.gz, as kalimat-predict")
    p.add_argument("--output", type=Path, required=True, help="the tasks file to import into Label Studio (JSON)")
    p.add_argument("--predictions", metavar="MODEL",
                   help="add this model's labels as Label Studio predictions (pre-annotations); never gold labels")
    p.add_argument("--skip-bad", action="store_true", help="report and skip unreadable files and lines")
    p = commands.add_parser("import", help="a Label Studio JSON export -> the project's annotation file")
    p.add_argument("export", type=Path, help="the project's JSON export")
    p.add_argument("--output", type=Path, required=True, help="e.g. data/annotations/<name>.jsonl")
    p.add_argument("--adjudications", type=Path,
                   help='labels of the sentences annotators labeled apart: {"article_id", "index", "label", "reason"}')
    p.add_argument("--disagreements", type=Path, help="where to list them (default: OUTPUT.disagreements.md)")
    p.add_argument("--articles", nargs="+", metavar="ARTICLES",
                   help="check every sentence against these articles as the dataset builder splits them now")
    p = commands.add_parser("suggest", help="rank unannotated articles by what the model would learn from them")
    p.add_argument("--model", required=True, help="an exported model folder")
    p.add_argument("--pool", nargs="+", required=True, metavar="ARTICLES", help="candidate articles")
    p.add_argument("-n", "--number", type=int, default=20, help="articles to suggest (default 20)")
    p.add_argument("--strategy", choices=suggest.STRATEGIES, default="balanced",
                   help="balanced (default): most uncertain first, dealt round-robin over outlets and sections")
    p.add_argument("--exclude", nargs="*", default=[], metavar="ANNOTATIONS",
                   help="annotation files whose articles are annotated already")
    p.add_argument("--seed", type=int, default=0, help="for --strategy random")
    p.add_argument("--output", type=Path, required=True, help="JSONL of the chosen articles, ready for export")
    p = commands.add_parser("review", help="likely label errors (cleanlab) of a cross-validated run, as a page")
    p.add_argument("run", type=Path, help="a run folder of python -m train cv.folds=k")
    p.add_argument("--output", type=Path, required=True, help="the HTML page")
    p.add_argument("--list", type=Path, help="also write the suspects as JSONL")
    p.add_argument("--limit", type=int, help="at most this many (default: every flagged sentence)")
    return parser.parse_args(argv)


@exit_on_error
def main(argv=None) -> None:
    args = parse_args(argv)
    {"export": export, "import": import_, "suggest": suggest_, "review": review_}[args.command](args)


if __name__ == "__main__":
    main()

"""Measure the sentence splitter against IndoSum's own sentence segmentation.

    python scripts/evaluate_splitter.py [CORPUS.jsonl[.gz]] [--limit N] [--show-errors N]

Every paragraph of the corpus is rejoined from its reference sentences and split again;
the breaks found are compared with IndoSum's (see train/data/segmentation_eval.py).
"""

import argparse
import sys

from train.core.errors import KalimatError, exit_on_error
from train.core.paths import INDOSUM
from train.data.segmentation_eval import corpus_paragraphs, evaluate


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(INDOSUM), help="IndoSum-layout JSONL file (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument(
        "--show-errors", type=int, default=0, metavar="N", help="print N paragraphs where the splits differ"
    )
    return parser.parse_args(argv)


def print_disagreement(gold: list[str], predicted: list[str]) -> None:
    print("--- reference:")
    print("\n".join(f"  | {s}" for s in gold))
    print("--- splitter:")
    print("\n".join(f"  | {s}" for s in predicted))


@exit_on_error
def main(argv=None):
    args = parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise KalimatError(f"--limit {args.limit}: give at least 1 article, or leave --limit out for all")
    shown = 0

    def show(gold, predicted):
        nonlocal shown
        if shown < args.show_errors:
            print_disagreement(gold, predicted)
            shown += 1

    score = evaluate(corpus_paragraphs(args.corpus, limit=args.limit), on_disagreement=show)
    if score.true_positives + score.false_positives + score.false_negatives == 0:
        # Nothing was compared: the scores would read as a perfect 1.0.
        raise KalimatError(f"{args.corpus}: no sentence break to compare (no paragraph of two or more sentences "
                           "in the articles read); give a corpus, or a --limit, that includes some")
    print(
        f"paragraphs {score.paragraphs}  boundaries: reference {score.true_positives + score.false_negatives}"
        f"  found {score.true_positives + score.false_positives}  matched {score.true_positives}"
    )
    print(f"precision {score.precision:.4f}  recall {score.recall:.4f}  F1 {score.f1:.4f}")


if __name__ == "__main__":
    sys.exit(main())

"""Measure `kalimat-annotate review`: flip a share of gold labels at random and see how many it flags.

    python scripts/measure_review.py [--share 0.05] [--seed 1] [TRAIN OVERRIDES...]

Copies the annotation files of `data=news` with --share of the sentences of the train and
validation articles given another label at random (the test articles are never in a fold
and keep theirs), trains on the copy with cross-validation (`python -m train cv.folds=5`,
the quickstart recipe unless overridden), runs review's ranking on the run's out-of-fold
predictions and prints the precision and recall of its flags at the page's default length
(every sentence cleanlab flags) and at the first --share of the sentences, counting the
flips in the sentences the run's folds covered. The corpus has
errors of its own, so a flag of an unflipped label is not always a false alarm.
"""

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from train.annotation.review import find_suspects, out_of_fold_records
from train.core.atomic import write_jsonl
from train.core.errors import KalimatError, exit_on_error
from train.core.labels import LABELS
from train.core.paths import ROOT
from train.data.annotations import sentence_keys
from train.data.cleaning import normalize_whitespace

ANNOTATIONS = [ROOT / "data" / "annotations" / name for name in ("seeds.jsonl", "corpus.jsonl", "corpus_round2.jsonl.gz")]


def _read(path: Path) -> list[dict]:
    data = path.read_bytes()
    return [json.loads(line) for line in (gzip.decompress(data) if path.suffix == ".gz" else data).decode().splitlines()
            if line.strip()]


def flipped_copies(folder: Path, dataset: Path, share: float, seed: int) -> set[tuple]:
    """Write the annotation files to ``folder`` with ``share`` of the foldable sentences relabeled; their keys."""
    foldable = []
    with (dataset / "sentences.jsonl").open(encoding="utf-8") as lines:
        by_article: dict[str, list[dict]] = {}
        for line in lines:
            r = json.loads(line)
            if r["label_source"] == "gold" and r["split"] in ("train", "validation") and r["outlet"] != "seeds":
                by_article.setdefault(r["article_id"], []).append(r)
    for article_id, records in by_article.items():
        foldable += sentence_keys(article_id, [r["text"] for r in records])
    rng = random.Random(seed)
    chosen = set(rng.sample(sorted(foldable), round(share * len(foldable))))
    flipped = set()
    for path in ANNOTATIONS:
        rows, seen = _read(path), {}
        for row in rows:
            text = normalize_whitespace(row["text"])
            key = (row["article_id"], text, seen.get((row["article_id"], text), 0))
            seen[row["article_id"], text] = key[2] + 1
            if key in chosen:
                row["label"] = rng.choice([label for label in LABELS if label != row["label"]])
                flipped.add(key)
        write_jsonl(folder / path.name, rows)
    return flipped


@exit_on_error
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--share", type=float, default=0.05, help="share of labels flipped (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dataset", type=Path, default=ROOT / "data" / "processed" / "news",
                        help="the built dataset of data=news whose labels are flipped (default: %(default)s)")
    parser.add_argument("--run-name", default="review-flip")
    parser.add_argument("overrides", nargs="*", help="for python -m train (default: experiment=quickstart)")
    args = parser.parse_args(argv)
    if not 0 < args.share < 1:
        raise KalimatError(f"--share {args.share}: give a share between 0 and 1, e.g. 0.05")
    if not (args.dataset / "sentences.jsonl").is_file():
        raise KalimatError(f"{args.dataset}: no sentences.jsonl; build it first: python -m train.dataset")
    with tempfile.TemporaryDirectory(prefix="kalimat-flipped-") as folder:
        flipped = flipped_copies(Path(folder), args.dataset, args.share, args.seed)
        print(f"{len(flipped)} labels flipped in a copy of the annotations", file=sys.stderr)
        files = ",".join(str(Path(folder) / p.name) for p in ANNOTATIONS)
        command = [sys.executable, "-m", "train", *(args.overrides or ["experiment=quickstart"]), "cv.folds=5",
                   f"data.annotations=[{files}]", "data.name=news_flipped", f"run_name={args.run_name}",
                   "train.overwrite=true"]
        subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    run = ROOT / "runs" / args.run_name
    records = out_of_fold_records(run)
    suspects = find_suspects(records)
    keys = {}
    for article_id in dict.fromkeys(r["article_id"] for r in records):
        rs = sorted((r for r in records if r["article_id"] == article_id), key=lambda r: r["sentence_index"])
        keys.update({(article_id, r["sentence_index"]): k for r, k in zip(rs, sentence_keys(article_id, [r["text"] for r in rs]))})
    # A recipe may train on part of the training articles (the quickstart's 4,000 sentences):
    # only the flips its folds saw can be found.
    seen = flipped & set(keys.values())
    print(f"{len(seen)} of the flipped labels are in the run's folds", file=sys.stderr)
    flipped = seen
    flags = [keys[s.article_id, s.sentence_index] in flipped for s in suspects]
    top = flags[:len(flipped)]
    print(f"out-of-fold macro-F1 of the run: {json.loads((run / 'report.json').read_text())['cv']['macro_f1']:.3f}")
    print(f"default length: {len(suspects)} flagged of {len(records)} sentences; precision {sum(flags) / max(len(flags), 1):.3f}, "
          f"recall {sum(flags) / len(flipped):.3f} of the {len(flipped)} flipped")
    print(f"first {len(top)} (as many as were flipped): precision {sum(top) / max(len(top), 1):.3f}, "
          f"recall {sum(top) / len(flipped):.3f}")


if __name__ == "__main__":
    main()

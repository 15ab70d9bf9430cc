"""Measure what to annotate next: a pool-based simulation of `kalimat-annotate suggest` on the gold corpus.

    python scripts/simulate_active_learning.py [--dataset data/processed/news] \
        [--output runs/active_learning.json] [--plot runs/active_learning.png]

The training articles of a built dataset are the pool, their gold labels hidden until an
article is "annotated". Each seed starts from the same few random articles for every
strategy; each round a fast recipe is fit on the annotated sentences, scored on the
validation articles (the figure a strategy is chosen by) and the test articles (shown),
and then labels the rest of the pool, from which each strategy of `suggest` picks the next
batch of articles, exactly as `kalimat-annotate suggest` ranks them (train/annotation/suggest.py).

The fast recipe is the teacher (train/data/teacher.py: a logistic regression on TF-IDF and
the labeling functions, seconds a round): a transformer retrained every round would make
the simulation take days on a CPU. Its probabilities stand in for the model's in the
uncertainty, so the figures measure the strategies, not one model's calibration.
"""

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from train.annotation.suggest import STRATEGIES, entropy, rank
from train.core.atomic import atomic_file, check_output, write_json
from train.core.errors import KalimatError, exit_on_error
from train.core.labels import LABELS
from train.core.metrics import macro_f1
from train.core.paths import ROOT
from train.core.render import figure_png
from train.data.teacher import fit_teacher


def read_dataset(folder: Path) -> dict[str, list[dict]]:
    """The gold sentences of a built dataset, grouped by article, in article order."""
    path = folder / "sentences.jsonl"
    if not path.is_file():
        raise KalimatError(f"{folder}: no sentences.jsonl; build the dataset first (python -m train.dataset)")
    articles = defaultdict(list)
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["label_source"] == "gold":
                articles[record["article_id"]].append(record)
    return dict(articles)


def simulate(articles: dict[str, list[dict]], strategy: str, seed: int, start: int, batch: int,
             rounds: int) -> list[dict]:
    """One learning curve: the scores after each round, with the sentences annotated by then."""
    pool = sorted(a for a, rs in articles.items() if rs[0]["split"] == "train")
    scored = {split: [r for rs in articles.values() for r in rs if r["split"] == split]
              for split in ("validation", "test")}
    if len(pool) < start + batch:
        raise KalimatError(f"the pool has {len(pool)} training articles, fewer than --start {start} plus one "
                           f"--batch {batch}; lower them")
    annotated = random.Random(seed).sample(pool, start)
    curve = []
    for round_ in range(rounds + 1):
        train = [r for a in annotated for r in articles[a]]
        teacher = fit_teacher(train)
        point = {"round": round_, "articles": len(annotated), "sentences": len(train)}
        for split, records in scored.items():
            point[f"{split}_macro_f1"] = macro_f1([r["label"] for r in records], list(teacher.predict(records)))
        curve.append(point)
        if round_ == rounds:
            break
        taken = set(annotated)
        remaining = [a for a in pool if a not in taken]
        if strategy == "random":
            candidates = [{"id": a} for a in remaining]
        else:
            records = [r for a in remaining for r in articles[a]]
            probs = teacher.predict_proba(records)
            order = [list(teacher.classes_).index(label) for label in LABELS if label in teacher.classes_]
            uncertainty = entropy(probs[:, order])
            by_article = defaultdict(list)
            for record, u in zip(records, uncertainty):
                by_article[record["article_id"]].append(u)
            candidates = [{"id": a, "uncertainty": float(np.mean(by_article[a])),
                           "group": (articles[a][0]["outlet"], articles[a][0]["category"])} for a in remaining]
        annotated += [c["id"] for c in rank(candidates, strategy, seed * 1000 + round_)[:batch]]
    return curve


def summarize(curves: dict[str, list[list[dict]]]) -> dict:
    """Per strategy, the mean curve over seeds, and the annotation it needs to reach random's final score."""
    mean = {s: [{key: float(np.mean([c[i][key] for c in runs])) for key in runs[0][i]} for i in range(len(runs[0]))]
            for s, runs in curves.items()}
    summary = {"mean": mean}
    if "random" in mean:
        target = mean["random"][-1]["validation_macro_f1"]
        reach = {}
        for s, points in mean.items():
            hit = next((p for p in points if p["validation_macro_f1"] >= target), None)
            reach[s] = None if hit is None else hit["sentences"]
        summary["random_final_validation_macro_f1"] = target
        summary["sentences_to_reach_random_final"] = reach
    return summary


def plot(summary: dict, curves: dict, path: Path) -> None:
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, split in zip(axes, ("validation", "test")):
        for strategy, points in summary["mean"].items():
            xs = [p["sentences"] for p in points]
            line, = ax.plot(xs, [p[f"{split}_macro_f1"] for p in points], marker="o", ms=3, label=strategy)
            for run in curves[strategy]:
                ax.plot([p["sentences"] for p in run], [p[f"{split}_macro_f1"] for p in run],
                        color=line.get_color(), alpha=0.2, lw=1)
        ax.set_title(f"{split} articles")
        ax.set_xlabel("annotated sentences")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("macro-F1 (teacher recipe)")
    axes[0].legend()
    fig.tight_layout()
    with atomic_file(path, "wb") as handle:
        handle.write(figure_png(fig))


@exit_on_error
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / "data" / "processed" / "news",
                        help="a built dataset folder (default: %(default)s)")
    parser.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--start", type=int, default=20, help="articles annotated before the first round")
    parser.add_argument("--batch", type=int, default=20, help="articles added a round (suggest -n)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--output", type=Path, required=True, help="the curves and their summary (JSON)")
    parser.add_argument("--plot", type=Path, help="a PNG of the curves")
    args = parser.parse_args(argv)
    for name in ("start", "batch", "rounds"):
        if getattr(args, name) < 1:
            raise KalimatError(f"--{name} {getattr(args, name)}: give at least 1")
    check_output("--output", args.output)
    if args.plot:
        check_output("--plot", args.plot)
    articles = read_dataset(args.dataset)
    curves = {}
    jobs = [(s, seed) for s in args.strategies for seed in args.seeds]
    for strategy, seed in tqdm(jobs, desc="simulations", file=sys.stderr):
        curves.setdefault(strategy, []).append(
            simulate(articles, strategy, seed, args.start, args.batch, args.rounds))
    summary = summarize(curves)
    write_json(args.output, {"dataset": str(args.dataset), "seeds": args.seeds, "start": args.start,
                             "batch": args.batch, "rounds": args.rounds, "summary": summary, "curves": curves})
    if args.plot:
        plot(summary, curves, args.plot)
    names = list(summary["mean"])
    print("| round | " + " | ".join(f"{s}: sentences, validation / test macro-F1" for s in names) + " |")
    print("|---|" + "---|" * len(names))
    for i in range(args.rounds + 1):
        print(f"| {i} | " + " | ".join(f"{summary['mean'][s][i]['sentences']:.0f}, {summary['mean'][s][i]['validation_macro_f1']:.3f}"
                                       f" / {summary['mean'][s][i]['test_macro_f1']:.3f}" for s in names) + " |")
    if "sentences_to_reach_random_final" in summary:
        print(f"random's final validation macro-F1 {summary['random_final_validation_macro_f1']:.3f} is reached at: "
              + ", ".join(f"{s} {'never' if n is None else f'{n:.0f} sentences'}"
                          for s, n in summary["sentences_to_reach_random_final"].items()))


if __name__ == "__main__":
    main()

"""Test macro-F1 against the number of gold training sentences: does more gold still pay, and for whom?

    # the runs: one Hydra sweep per recipe over data.gold_train_sentences and seeds
    python -m train -m experiment=quickstart data.gold_train_sentences=1000,2000,4000,8000,null seed=1,2,3 \
        'data.name=curve_quickstart_${data.gold_train_sentences}' run_name=curve-quickstart
    # the table and the plot, from the sweeps' run folders
    python scripts/learning_curve.py --recipe quickstart=runs/multirun/<time> [--recipe offline=...] \
        --output runs/learning_curve.md --plot runs/learning_curve.png

Every run's report gives its test macro-F1 and the gold sentences it trained on (a smaller
set is inside a larger one: `data.gold_train_sentences` takes whole training articles in a
seeded order), and its TF-IDF baseline, fit on the same gold sentences. The teacher
(train/data/teacher.py) is fit here on the gold training sentences of each run's dataset
and scored on its test articles. Both are deterministic, so they have one figure per size.
"""

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from omegaconf import OmegaConf

from train.core.atomic import atomic_file, check_output, write_json, write_text
from train.core.errors import KalimatError, exit_on_error
from train.core.metrics import macro_f1
from train.core.render import Paragraph, Table, figure_png, to_markdown
from train.data.teacher import fit_teacher
from train.reporting.report import REPORT_FILE, load_report


def run_folders(folder: Path) -> list[Path]:
    """The finished runs in ``folder`` (a sweep's folder, or a run folder itself)."""
    runs = [folder] if (folder / REPORT_FILE).is_file() else sorted(p.parent for p in folder.glob(f"*/{REPORT_FILE}"))
    if not runs:
        raise KalimatError(f"{folder}: no finished run (no {REPORT_FILE} in it or its sub-folders); "
                           "give a sweep's folder, e.g. runs/multirun/<time>")
    return runs


def teacher_score(dataset: Path, cache: dict) -> float:
    """The teacher fit on a dataset's gold training sentences, scored on its test sentences."""
    if dataset not in cache:
        records = [json.loads(line) for line in (dataset / "sentences.jsonl").read_text(encoding="utf-8").splitlines()]
        train = [r for r in records if r["split"] == "train" and r["label_source"] == "gold"]
        test = [r for r in records if r["split"] == "test"]
        cache[dataset] = macro_f1([r["label"] for r in test], list(fit_teacher(train).predict(test)))
    return cache[dataset]


def collect(recipes: dict[str, list[Path]]) -> dict:
    """Per recipe and gold-sentence count: the models' test macro-F1 by seed, TF-IDF's and the teacher's."""
    rows, teacher_cache = defaultdict(lambda: {"model": {}, "tfidf": None, "teacher": None}), {}
    datasets = {}
    for recipe, folders in recipes.items():
        for run in (run for folder in folders for run in run_folders(folder)):
            report = load_report(run)
            config = OmegaConf.load(run / "config.yaml")
            gold = report["dataset"]["label_sources"].get("gold", 0)
            row = rows[recipe, gold]
            row["model"][report["hyperparameters"]["seed"]] = report["metrics"]["macro_f1"]
            row["tfidf"] = report["baselines"]["tfidf_logreg"]["macro_f1"]
            datasets[gold] = Path(config.data.output_dir)
    for (recipe, gold), row in rows.items():
        row["teacher"] = teacher_score(datasets[gold], teacher_cache)
    return {f"{recipe}@{gold}": {"recipe": recipe, "gold_sentences": gold, **row}
            for (recipe, gold), row in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1]))}


def table(points: dict) -> str:
    rows = []
    for point in points.values():
        scores = list(point["model"].values())
        rows.append([point["recipe"], f"{point['gold_sentences']:,}", len(scores),
                     f"{np.mean(scores):.3f}" + (f" ({min(scores):.3f}–{max(scores):.3f})" if len(scores) > 1 else ""),
                     f"{point['tfidf']:.3f}", f"{point['teacher']:.3f}"])
    return to_markdown([
        Paragraph("Test macro-F1 against the gold training sentences (mean over seeds, range in brackets)."),
        Table(["recipe", "gold training sentences", "seeds", "model", "TF-IDF", "teacher"], rows)])


def plot(points: dict, path: Path) -> None:
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    by_recipe = defaultdict(list)
    for point in points.values():
        by_recipe[point["recipe"]].append(point)
    baselines = {}
    for recipe, curve in by_recipe.items():
        xs = [p["gold_sentences"] for p in curve]
        means = [np.mean(list(p["model"].values())) for p in curve]
        line, = ax.plot(xs, means, marker="o", label=recipe)
        for p in curve:
            ax.scatter([p["gold_sentences"]] * len(p["model"]), list(p["model"].values()), color=line.get_color(),
                       alpha=0.35, s=12)
        for p in curve:
            baselines.setdefault(p["gold_sentences"], (p["tfidf"], p["teacher"]))
    xs = sorted(baselines)
    ax.plot(xs, [baselines[x][0] for x in xs], ls="--", color="grey", label="TF-IDF")
    ax.plot(xs, [baselines[x][1] for x in xs], ls=":", color="black", label="teacher (TF-IDF + rules)")
    ax.set_xscale("log")
    ax.set_xlabel("gold training sentences")
    ax.set_ylabel("test macro-F1")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_file(path, "wb") as handle:
        handle.write(figure_png(fig))


@exit_on_error
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", action="append", required=True, metavar="NAME=FOLDER",
                        help="a recipe's name and a sweep (or run) folder of its runs; repeat for more")
    parser.add_argument("--output", type=Path, required=True, help="the table (Markdown); its figures beside it as JSON")
    parser.add_argument("--plot", type=Path, help="a PNG of the curves")
    args = parser.parse_args(argv)
    recipes = defaultdict(list)
    for item in args.recipe:
        name, sep, folder = item.partition("=")
        if not sep or not name or not Path(folder).is_dir():
            raise KalimatError(f"--recipe {item}: give NAME=FOLDER with an existing folder, e.g. quickstart=runs/multirun/<time>")
        recipes[name].append(Path(folder))
    check_output("--output", args.output, run_folders=True)
    if args.plot:
        check_output("--plot", args.plot, run_folders=True)
    points = collect(recipes)
    write_text(args.output, table(points))
    write_json(args.output.with_suffix(".json"), points)
    if args.plot:
        plot(points, args.plot)
    sys.stdout.write(table(points))


if __name__ == "__main__":
    main()

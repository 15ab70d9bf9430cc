"""The reliability plot of a run report: accuracy against confidence, before and after the temperature.

The temperature and the calibration error are computed in :mod:`train.modeling.calibration`.
"""

from matplotlib.figure import Figure


def reliability_figure(before: list[dict], after: list[dict], title: str) -> Figure:
    """Accuracy against confidence per bin, before and after temperature scaling; the diagonal is perfect."""
    figure = Figure(figsize=(5, 5))
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="#888", linestyle="--", label="perfectly calibrated")
    for rows, name, marker in ((before, "raw", "o"), (after, "calibrated", "s")):
        axes.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], marker=marker, label=name)
    axes.set_xlabel("confidence (top probability)")
    axes.set_ylabel("accuracy")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.legend(loc="upper left")
    axes.set_title(title, parse_math=False)
    return figure

"""``python -m train``: train, evaluate and export a sentence classifier (see :mod:`train.pipeline`)."""

from omegaconf import DictConfig

from .core.entry import hydra_command
from .pipeline import run


@hydra_command("train")
def main(cfg: DictConfig) -> float | None:
    """Return ``optimized_metric`` of the run's report, for a sweeper to maximise."""
    return run(cfg)


if __name__ == "__main__":
    main()

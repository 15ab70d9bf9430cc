"""``python -m train.pretrain``: masked-language-model pretraining (see :mod:`train.modeling.pretraining`)."""

from omegaconf import DictConfig

from .core.entry import hydra_command
from .modeling.pretraining import run


@hydra_command("pretrain")
def main(cfg: DictConfig) -> float:
    """Return the held-out perplexity (a sweeper minimises it)."""
    return run(cfg)


if __name__ == "__main__":
    main()

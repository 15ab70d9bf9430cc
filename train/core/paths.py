"""Where the project lives, for configs that must find it from any working directory.

``configs/paths/default.yaml`` is the one place that lays out the folders; it starts from
``${kalimat_root:}``, the checkout this package was installed from (an editable install),
so ``python -m train`` works the same from any directory and tests can point every path
elsewhere with overrides such as ``paths.runs_dir=/tmp/x``.
"""

from pathlib import Path

from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "configs"
# All 1,445 IndoSum articles, with IndoSum's own sentence segmentation (data/README.md).
INDOSUM = ROOT / "data" / "corpus" / "indosum.jsonl.gz"
# What marks a run folder (runs/<run_name>/) and an exported model folder (models/<run_name>/).
REPORT_FILE = "report.json"
WEIGHT_PATTERNS = ("model*.safetensors", "pytorch_model*.bin")


def is_model_folder(folder: Path) -> bool:
    """Whether ``folder`` holds model weights: an export, a checkpoint or a downloaded model."""
    return any(any(Path(folder).glob(pattern)) for pattern in WEIGHT_PATTERNS)


def is_run_folder(folder: Path) -> bool:
    return (Path(folder) / REPORT_FILE).is_file()


def group_options(group: str) -> list[str]:
    """The options of a config group (``model``: ``indobert_base``, ..., ``mini``) for ``--help`` and errors."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def config_groups(*, _root_) -> str:
    """``group: option, option`` for each config group the composed config uses (``--help``)."""
    groups = [group for group in _root_.hydra.runtime.choices if group.split("/")[0] != "hydra"]
    return "\n".join(f"{group}: {', '.join(group_options(group))}" for group in sorted(groups))


OmegaConf.register_new_resolver("kalimat_root", lambda: str(ROOT), replace=True)
OmegaConf.register_new_resolver("config_groups", config_groups, replace=True)

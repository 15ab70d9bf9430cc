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

OmegaConf.register_new_resolver("kalimat_root", lambda: str(ROOT), replace=True)

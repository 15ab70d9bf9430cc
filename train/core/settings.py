"""Checking config values against rules, so a bad setting costs one line naming the key.

A rule is ``(test, what a valid value is)``. The dataset build, ``python -m train`` and
``python -m train.pretrain`` check their settings with the same function, so one setting
gets one message wherever it fails.
"""

import math
import re

from omegaconf import DictConfig, OmegaConf

from .errors import KalimatError

# The rule for a switch: only a real true or false, never a string such as "abc" that Python would take as true.
BOOLEAN = (lambda v: isinstance(v, bool), "true or false")
SEED = (lambda v: isinstance(v, int) and v >= 0, "a whole number >= 0")
POSITIVE = (lambda v: v > 0, "a number > 0")
COUNT = (lambda v: isinstance(v, int) and v >= 1, "a whole number >= 1")
PROBABILITY = (lambda v: 0 <= v < 1, "a probability in [0, 1), e.g. 0.1")
# A name that becomes one folder (runs/<run_name>, data/processed/<data.name>): nothing that
# leaves its parent or is the parent itself ("", ".", "..", "a/b").
FOLDER_NAME = re.compile(r"\w[\w.\- ]*")
PLAIN_NAME = (lambda v: isinstance(v, str) and FOLDER_NAME.fullmatch(v) is not None,
              "a plain folder name (letters, digits, '.', '-', '_', spaces)")
# An empty path is no path: "" would put "${paths.processed_dir}/x" at the filesystem root.
PATH = (lambda v: isinstance(v, str) and v.strip() != "", "a path, e.g. data/processed")
# The mini model's sizes, checked wherever it is built (model.name_or_path=null).
MINI_SETTINGS = {
    **{f"model.{key}": COUNT for key in ("vocab_size", "min_frequency", "hidden_size", "num_hidden_layers",
                                         "num_attention_heads", "intermediate_size")},
    "model.hidden_dropout_prob": PROBABILITY,
    "model.attention_probs_dropout_prob": PROBABILITY,
}


def as_written(value) -> str:
    """A value as it is written in a config or on the command line: null, true, 1e-05, [a, b]."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(map(as_written, value)) + "]"
    return str(value)


def check_settings(cfg: DictConfig, rules: dict[str, tuple]) -> None:
    """Raise a one-line error for the first key (dotted, e.g. ``data.weak_labeler``) whose value fails its rule.

    Only numbers, strings and null are ever valid, and true or false only under :data:`BOOLEAN`:
    a list or a mapping fails, as does NaN, and a rule that cannot compare the value (a
    string where a number belongs) fails too.
    """
    for key, rule in rules.items():
        valid, expected = rule
        value = OmegaConf.select(cfg, key)
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        text_ok = isinstance(value, str) or value is None
        try:
            ok = valid(value) if rule is BOOLEAN else (
                (numeric or text_ok) and valid(value) and not (numeric and math.isnan(value)))
        except TypeError:
            ok = False
        if not ok:
            raise KalimatError(f"{key}={as_written(value)}: expected {expected}")


def check_model_settings(cfg: DictConfig, rules: dict[str, tuple], command: str) -> None:
    """:func:`check_settings` with the model's own checks: a ``model=local`` needs its path, and
    the mini model (no path) its sizes, the hidden size a multiple of the attention heads."""
    if OmegaConf.is_missing(cfg.model, "name_or_path"):
        raise KalimatError(f"model={cfg.model.name} needs model.name_or_path=<folder or Hub id>, e.g. "
                           f"python -m {command} model={cfg.model.name} model.name_or_path=models/<run_name>")
    mini = cfg.model.get("name_or_path") is None
    check_settings(cfg, rules | MINI_SETTINGS if mini else rules)
    if mini and cfg.model.hidden_size % cfg.model.num_attention_heads:
        raise KalimatError(
            f"model.hidden_size={cfg.model.hidden_size}: must be a multiple of model.num_attention_heads="
            f"{cfg.model.num_attention_heads}"
        )

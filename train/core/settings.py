"""Checking config values against rules, so a bad setting costs one line naming the key.

A rule is ``(test, what a valid value is)``. The dataset build and ``python -m train`` check
their settings with the same function, so one setting gets one message wherever it fails.
"""

import math

from omegaconf import DictConfig, OmegaConf

from .errors import KalimatError


def check_settings(cfg: DictConfig, rules: dict[str, tuple]) -> None:
    """Raise a one-line error for the first key (dotted, e.g. ``data.weak_labeler``) whose value fails its rule.

    Only numbers, strings and null are ever valid: a list or a mapping fails, as does NaN,
    and a rule that cannot compare the value (a string where a number belongs) fails too.
    """
    for key, (valid, expected) in rules.items():
        value = OmegaConf.select(cfg, key)
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        text_ok = isinstance(value, str) or value is None
        try:
            ok = (numeric or text_ok) and valid(value) and not (numeric and math.isnan(value))
        except TypeError:
            ok = False
        if not ok:
            raise KalimatError(f"{key}={value}: expected {expected}")

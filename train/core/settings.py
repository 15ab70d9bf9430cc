"""Checking config values against rules, so a bad setting costs one line naming the key.

A rule is ``(test, what a valid value is)``. The dataset build and ``python -m train`` check
their settings with the same function, so one setting gets one message wherever it fails.
"""

import math

from omegaconf import DictConfig, OmegaConf

from .errors import KalimatError

# The rule for a switch: only a real true or false, never a string such as "abc" that Python would take as true.
BOOLEAN = (lambda v: isinstance(v, bool), "true or false")


def _shown(value) -> str:
    """A value as it is written on the command line: null, true, false."""
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


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
            raise KalimatError(f"{key}={_shown(value)}: expected {expected}")

"""Nested settings and reports addressed by dotted keys (``trainer.learning_rate``, ``cv.macro_f1``)."""

MISSING = object()


def select(tree: dict, key: str, default=MISSING):
    """The value at a dotted key; ``default`` where the key does not lead through mappings to a value."""
    value = tree
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def flatten(tree: dict, prefix: str = "") -> dict:
    """Every leaf as ``{dotted key: value}``; an empty mapping is a leaf."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat

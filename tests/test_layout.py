"""The package's stages import only downward: core <- data <- inference <- modeling <- reporting <- annotation.

A helper two stages need lives in the earlier one; the entry points (``train/*.py``: the
commands) sit above every stage. The test parses every module's imports, so an upward one
fails here with its file and line.
"""

import ast

from train.core.paths import ROOT

STAGES = ("core", "data", "inference", "modeling", "reporting", "annotation")


def imported_stage(node: ast.ImportFrom | ast.Import, stage: str) -> list[str]:
    """The stages a statement of a module in ``stage`` imports from."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.level == 0:
        names = [node.module or ""]
    elif node.level == 1:
        return [stage]
    else:  # from ..x import y, from .. import x
        names = [node.module] if node.module else [alias.name for alias in node.names]
        names = [f"train.{name}" for name in names]
    return [name.split(".")[1] for name in names if name.startswith("train.") and len(name.split(".")) > 1]


def test_no_stage_imports_from_a_later_one():
    upward = []
    for stage in STAGES:
        for path in sorted((ROOT / "train" / stage).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    for target in imported_stage(node, stage):
                        if target in STAGES and STAGES.index(target) > STAGES.index(stage):
                            upward.append(f"{path.relative_to(ROOT)}:{node.lineno}: {stage} imports {target}")
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import():
    node = ast.parse("from ..reporting.render import Table").body[0]
    assert imported_stage(node, "data") == ["reporting"]
    assert imported_stage(ast.parse("import train.modeling.export").body[0], "core") == ["modeling"]
    assert imported_stage(ast.parse("from .labels import LABELS").body[0], "core") == ["core"]

"""From raw article text to the sentences the model labels: the one preprocessing API.

The dataset builder, training and inference all call :class:`Preprocessor`, and a trained
model saves its cleaning patterns beside its weights (:data:`PREPROCESSING_FILE`), so an
article is cleaned and split at prediction time exactly as the training data was.
"""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from ..core.atomic import write_json
from ..core.errors import KalimatError
from ..core.paths import CONFIG_DIR
from .cleaning import clean_text, compile_patterns, normalize_whitespace
from .splitter import split_sentences

PREPROCESSING_FILE = "kalimat_preprocessing.json"
DEFAULT_CLEANING_CONFIG = CONFIG_DIR / "cleaning" / "default.yaml"


class Preprocessor:
    """Clean an article's text (see :mod:`train.data.cleaning`) and split it into sentences."""

    def __init__(self, drop_lines: list[str], strip: list[str]):
        self.drop_lines = [str(p) for p in drop_lines]
        self.strip = [str(p) for p in strip]
        self._drop_lines = compile_patterns(self.drop_lines, "drop_lines")
        self._strip = compile_patterns(self.strip, "strip")

    @classmethod
    def from_config(cls, cleaning_cfg) -> "Preprocessor":
        """Build from the ``cleaning`` config node (a DictConfig or a plain dict)."""
        if isinstance(cleaning_cfg, DictConfig):
            cleaning_cfg = OmegaConf.to_container(cleaning_cfg, resolve=True)
        if not isinstance(cleaning_cfg, Mapping):
            raise KalimatError("cleaning: expected a mapping with drop_lines and strip lists")
        patterns = {key: cleaning_cfg.get(key) or [] for key in ("drop_lines", "strip")}
        for key, value in patterns.items():
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise KalimatError(f"cleaning.{key}: expected a list of regular expressions")
        return cls(**patterns)

    @classmethod
    def default(cls) -> "Preprocessor":
        """The project's own patterns, from ``configs/cleaning/default.yaml``."""
        return cls.from_config(OmegaConf.load(DEFAULT_CLEANING_CONFIG))

    def to_dict(self) -> dict:
        return {"drop_lines": list(self.drop_lines), "strip": list(self.strip)}

    def save(self, model_dir) -> None:
        write_json(Path(model_dir) / PREPROCESSING_FILE, self.to_dict())

    @classmethod
    def load(cls, model_dir) -> "Preprocessor":
        """Read the patterns a model was trained with; a model saved without them gets the defaults."""
        path = Path(model_dir) / PREPROCESSING_FILE
        if not path.is_file():
            return cls.default()
        try:
            return cls.from_config(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as err:
            raise KalimatError(f"{path}: not valid JSON ({err.msg}); re-export the model") from None

    def clean(self, text: str) -> tuple[list[str], list[str]]:
        """Paragraphs kept and the snippets removed from them."""
        return clean_text(text, self._drop_lines, self._strip)

    def sentences(self, text: str) -> tuple[list[str], list[str]]:
        """Clean ``text`` and split every paragraph: (sentences, removed snippets)."""
        paragraphs, removed = self.clean(text)
        return [s for p in paragraphs for s in split_sentences(p)], removed

    def article_sentences(self, article) -> tuple[list[str], list[str]]:
        """Sentences of an :class:`~train.data.articles.Article`.

        An article given already split is kept as given (only whitespace is normalised; the
        reader refuses empty sentences): its author chose the sentences, cleaning would second-guess them.
        """
        if article.sentences is not None:
            return [normalize_whitespace(s) for s in article.sentences], []
        return self.sentences(article.text)

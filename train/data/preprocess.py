"""From raw article text to the sentences the model labels: the one preprocessing API.

The dataset builder, training and inference all call :class:`Preprocessor`, and a trained
model saves its cleaning patterns beside its weights (:data:`PREPROCESSING_FILE`), so an
article is cleaned and split at prediction time exactly as the training data was.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from ..core.atomic import write_json
from ..core.errors import KalimatError
from ..core.paths import CONFIG_DIR
from .cleaning import clean_text, compile_kinds, compile_patterns, kind_of, normalize_whitespace
from .splitter import split_sentences

PREPROCESSING_FILE = "kalimat_preprocessing.json"
DEFAULT_CLEANING_CONFIG = CONFIG_DIR / "cleaning" / "default.yaml"


@dataclass
class Line:
    """A line left out of an article as not prose; ``after``: the index of the sentence before it (-1: none)."""

    text: str
    reason: str
    after: int


@dataclass
class Split:
    """An article cleaned and split: the sentences to label, the lines left out as not prose, the snippets cut."""

    sentences: list[str]
    left_out: list[Line] = field(default_factory=list)
    stripped: list[str] = field(default_factory=list)


class Preprocessor:
    """Clean an article's text (see :mod:`train.data.cleaning`) and split it into sentences."""

    def __init__(self, drop_lines, strip, drop_with_next=None, drop_sentences=None):
        self.drop_lines = _as_kinds(drop_lines)
        self.drop_sentences = _as_kinds(drop_sentences or {})
        self.drop_with_next = _as_kinds(drop_with_next or {})
        self.strip = [str(p) for p in strip]
        self._drop_lines = compile_kinds(self.drop_lines, "drop_lines")
        self._drop_sentences = self._drop_lines + compile_kinds(self.drop_sentences, "drop_sentences")
        self._drop_with_next = compile_kinds(self.drop_with_next, "drop_with_next")
        self._strip = compile_patterns(self.strip, "strip")

    @classmethod
    def from_config(cls, cleaning_cfg) -> "Preprocessor":
        """Build from the ``cleaning`` config node (a DictConfig or a plain dict)."""
        if isinstance(cleaning_cfg, DictConfig):
            cleaning_cfg = OmegaConf.to_container(cleaning_cfg, resolve=True)
        if not isinstance(cleaning_cfg, Mapping):
            raise KalimatError("cleaning: expected a mapping with drop_lines and strip lists")
        patterns = {key: cleaning_cfg.get(key) or [] for key in ("drop_lines", "drop_sentences", "drop_with_next", "strip")}
        for key, value in patterns.items():
            lists = value.values() if isinstance(value, Mapping) and key != "strip" else [value]
            if any(isinstance(v, str) or not isinstance(v, Sequence) for v in lists):
                raise KalimatError(f"cleaning.{key}: expected {'a list' if key == 'strip' else 'kinds, each a list'} "
                                   "of regular expressions")
        return cls(**patterns)

    @classmethod
    def default(cls) -> "Preprocessor":
        """The project's own patterns, from ``configs/cleaning/default.yaml``."""
        return cls.from_config(OmegaConf.load(DEFAULT_CLEANING_CONFIG))

    def to_dict(self) -> dict:
        return {"drop_lines": self.drop_lines, "drop_sentences": self.drop_sentences,
                "drop_with_next": self.drop_with_next, "strip": list(self.strip)}

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

    def split_text(self, text: str) -> Split:
        """Clean ``text`` and split every paragraph; sentences that are leftovers themselves are left out too."""
        paragraphs, left_lines, stripped = clean_text(text, self._drop_lines, self._drop_with_next, self._strip)
        sentences, left_out, first_of = [], [], []
        for paragraph in paragraphs:
            first_of.append(len(sentences))
            for sentence in split_sentences(paragraph):
                reason = kind_of(sentence, self._drop_sentences)
                if reason is None:
                    sentences.append(sentence)
                else:
                    left_out.append(Line(sentence, reason, len(sentences) - 1))
        first_of.append(len(sentences))
        left_out += [Line(line.text, line.reason, first_of[line.position] - 1) for line in left_lines]
        left_out.sort(key=lambda line: line.after)
        return Split(sentences, left_out, stripped)

    def split(self, article) -> Split:
        """An :class:`~train.data.articles.Article` cleaned and split.

        An article given already split is kept as given (only whitespace is normalised; the
        reader refuses empty sentences): its author chose the sentences, cleaning would second-guess them.
        """
        if article.sentences is not None:
            return Split([normalize_whitespace(s) for s in article.sentences])
        return self.split_text(article.text)

    def article_sentences(self, article) -> tuple[list[str], list[str]]:
        """Sentences of an article, and everything cleaning took away (lines left out, snippets cut)."""
        split = self.split(article)
        return split.sentences, [line.text for line in split.left_out] + split.stripped


def _as_kinds(patterns) -> dict[str, list[str]]:
    """Patterns by kind; a plain list (an export made before kinds) is one kind, ``leftover``."""
    if isinstance(patterns, Mapping):
        return {str(kind): [str(p) for p in values or []] for kind, values in patterns.items()}
    return {"leftover": [str(p) for p in patterns]}

"""Typed settings: every config key declared once, with its type and what a valid value is.

The YAML files under ``configs/`` hold the defaults and say what each key does; the classes
here say what a value must be. Hydra composes a command's config; :func:`resolve` checks the
composed config against these declarations once, at the command's entry, and the stages
receive the typed objects (``settings.trainer.learning_rate``), never the raw config. A key
the YAML has and no class declares fails too, so a new setting cannot go unchecked.

A bad value costs one line naming the key, the value as written and what is expected
(``trainer.learning_rate=abc: expected a number > 0``): each field carries a :func:`rule`,
checked before pydantic converts anything, so a string is never read as a number and "abc"
never as true.
"""

import math
import re
from typing import Annotated, Any

from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from .errors import KalimatError

# trainer.precision: auto picks per device (train/core/precision.py).
TRAINING_PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# What a fine-tuned model reads beside each sentence (train/data/context.py builds it).
CONTEXTS = ("none", "rules", "neighbours", "neighbours_rules")
# data.weak_labeler: who labels the sentences without a gold label, as the cards say it (train/data/teacher.py).
WEAK_LABELERS = {
    "rules": "the labeling functions' vote",
    "teacher": "a logistic regression on TF-IDF and the labeling functions, fit on the gold training sentences",
}
# What a sweeper may maximise: validation figures only, never the test split's.
OPTIMIZED_METRICS = ("selection.validation_macro_f1", "cv.macro_f1")
# A name that becomes one folder (runs/<run_name>, data/processed/<data.name>): nothing that
# leaves its parent or is the parent itself ("", ".", "..", "a/b").
FOLDER_NAME = re.compile(r"\w[\w.\- ]*")


def as_written(value) -> str:
    """A value as it is written in a config or on the command line: null, true, 1e-05, [a, b]."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(as_written, value)) + "]"
    return str(value)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not (isinstance(v, float) and math.isnan(v))


def rule(test, expected, kind: str = "scalar"):
    """A field's check, run on the value as composed: ``test(value)`` must hold, else ``expected`` is named.

    ``expected`` is text, or a function of the bad value that returns it. ``kind`` is what the
    value may be at all: ``scalar`` (a number, a string or null: never true/false, a list or a
    mapping), ``bool`` (only a real true or false) or ``list``.
    """
    def check(value):
        if kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "list":
            ok = isinstance(value, (list, tuple)) and test(value)
        else:
            scalar = _number(value) or isinstance(value, str) or value is None
            try:
                ok = scalar and test(value)
            except TypeError:  # a string where a number belongs
                ok = False
        if not ok:
            text = expected(value) if callable(expected) else expected
            raise PydanticCustomError("kalimat", "{expected}", {"expected": text})
        return list(value) if kind == "list" else value

    return BeforeValidator(check)


Number = int | float
Bool = Annotated[bool, rule(None, "true or false", "bool")]
Seed = Annotated[int, rule(lambda v: isinstance(v, int) and v >= 0, "a whole number >= 0")]
Count = Annotated[int, rule(lambda v: isinstance(v, int) and v >= 1, "a whole number >= 1")]
Positive = Annotated[Number, rule(lambda v: v > 0, "a number > 0")]
NonNegative = Annotated[Number, rule(lambda v: v >= 0, "a number >= 0")]
Probability = Annotated[Number, rule(lambda v: 0 <= v < 1, "a probability in [0, 1), e.g. 0.1")]
Fraction = Annotated[Number, rule(lambda v: 0 <= v < 1, "a fraction in [0, 1), e.g. 0.1")]
# An empty path is no path: "" would put "${paths.processed_dir}/x" at the filesystem root.
PathText = Annotated[str, rule(lambda v: isinstance(v, str) and v.strip() != "", "a path, e.g. data/processed")]
FolderName = Annotated[str, rule(lambda v: isinstance(v, str) and FOLDER_NAME.fullmatch(v) is not None,
                                 "a plain folder name (letters, digits, '.', '-', '_', spaces)")]
Precision = Annotated[str, rule(lambda v: v in TRAINING_PRECISIONS, "one of " + ", ".join(TRAINING_PRECISIONS))]


def choice(*options: str, listed: bool = False):
    """One of ``options``: "a or b" for two of them, unless ``listed``; "one of a, b, c" otherwise."""
    return Annotated[str, rule(lambda v: v in options, " or ".join(options) if len(options) == 2 and not listed
                               else "one of " + ", ".join(options))]


def strings(key: str, what: str = "paths"):
    """A list of strings: a bare string would be read letter by letter (``train_only=seeds`` would
    match any outlet whose name holds those letters), and a number is no path or name."""
    return Annotated[list[str], rule(
        lambda v: all(isinstance(item, str) for item in v),
        lambda v: f"a list of {what}, e.g. {key}=[{v if isinstance(v, str) else '...'}]", "list")]


# Field types built by choice() and strings(), named once.
OutletNames = strings("data.split.train_only", "outlet names")
SourcePaths = strings("data.sources")
UnlabeledPaths = strings("data.unlabeled_sources")
AnnotationPaths = strings("data.annotations")
WeakLabeler = choice(*WEAK_LABELERS, listed=True)
GoldRest = choice("drop", "weak")
ClassWeights = choice("balanced", "none")
Context = choice(*CONTEXTS)
OptimizedMetric = choice(*OPTIMIZED_METRICS, listed=True)
CorpusPaths = strings("corpus.sources")
Packing = choice("articles", "full")
OnBadFile = choice("fail", "skip")


class Settings(BaseModel):
    """A config group: unknown keys are refused, nothing changes after the entry resolved it."""
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- groups shared by the commands


class PathsSettings(Settings):  # configs/paths/
    root_dir: str
    seeds_dir: str
    data_dir: str
    annotations_dir: str
    processed_dir: PathText
    runs_dir: str
    models_dir: str
    own_dir: str


class SplitSettings(Settings):  # data.split
    seed: Seed
    validation: Any  # fractions checked with the articles (train/data/splits.py), together with test
    test_articles: str | None
    test: Any
    train_only: OutletNames


class DataSettings(Settings):  # configs/data/
    name: FolderName
    sources: SourcePaths
    unlabeled_sources: UnlabeledPaths
    max_unlabeled_articles: Annotated[int | None, rule(
        lambda v: v is None or (isinstance(v, int) and v >= 0), "null (all of them) or a whole number >= 0")]
    weak_labeler: WeakLabeler
    annotations: AnnotationPaths
    gold_train_sentences: Annotated[int | None, rule(
        lambda v: v is None or (isinstance(v, int) and v >= 1),
        "null (every gold training sentence) or a whole number >= 1")]
    gold_train_rest: GoldRest
    on_bad_file: str  # checked where the articles are read, with corpus.on_bad_file (train/data/articles.py)
    allow_unmatched_annotations: Bool
    allow_unlabeled_sentences: Bool
    split: SplitSettings
    output_dir: PathText


# The mini model's sizes: they shape a model built from scratch and nothing else.
MINI_KEYS = ("vocab_size", "min_frequency", "hidden_size", "num_hidden_layers", "num_attention_heads",
             "intermediate_size", "hidden_dropout_prob", "attention_probs_dropout_prob")


class PretrainRef(Settings):  # model.pretrain: the run that makes a missing local checkpoint
    run_name: FolderName
    overrides: list[str]


class ModelSettings(Settings):  # configs/model/
    name: str
    name_or_path: str | None
    revision: str | None = None
    tokenizer_class: str | None = None
    pretrain: PretrainRef | None = None
    # The mini model's sizes (model.name_or_path=null), checked wherever it is built.
    vocab_size: Count | None = None
    min_frequency: Count | None = None
    hidden_size: Count | None = None
    num_hidden_layers: Count | None = None
    num_attention_heads: Count | None = None
    intermediate_size: Count | None = None
    hidden_dropout_prob: Probability | None = None
    attention_probs_dropout_prob: Probability | None = None

    @property
    def is_mini(self) -> bool:
        return self.name_or_path is None

    @model_validator(mode="after")
    def _mini_sizes(self):
        if self.is_mini:
            for key in MINI_KEYS:
                if getattr(self, key) is None:
                    raise PydanticCustomError("kalimat_line", "model.{key}=null: the mini model needs it",
                                              {"key": key})
            if self.hidden_size % self.num_attention_heads:
                raise PydanticCustomError(
                    "kalimat_line", "model.hidden_size={h}: must be a multiple of model.num_attention_heads={n}",
                    {"h": self.hidden_size, "n": self.num_attention_heads})
        return self


class OptimizerSettings(Settings):
    """What fine-tuning and pretraining share: one Trainer loop (train/modeling/arguments.py)."""
    learning_rate: Positive
    per_device_train_batch_size: Count
    warmup_ratio: Fraction
    weight_decay: NonNegative
    max_grad_norm: Positive
    max_length: Annotated[int, rule(lambda v: isinstance(v, int) and 8 <= v <= 512,
                                    "a whole number of tokens in [8, 512]")]
    precision: Precision
    logging_steps: Count


class RunControl(Settings):  # train.*: how a run is driven, never compared on resume
    resume: Bool
    overwrite: Bool
    keep_checkpoints: Bool = False


def _without_hydra(cfg: DictConfig) -> dict:
    return OmegaConf.to_container(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True)


# ---------------------------------------------------------------- python -m train


class FineTuningSettings(OptimizerSettings):  # configs/trainer/
    num_train_epochs: Positive
    per_device_eval_batch_size: Count
    gradient_accumulation_steps: Count
    class_weights: ClassWeights
    early_stopping_patience: Annotated[int, rule(lambda v: isinstance(v, int) and v >= 0,
                                                 "a whole number >= 0 (0: off)")]
    full_determinism: Bool
    save_total_limit: Annotated[int | None, rule(lambda v: v is None or (isinstance(v, int) and v >= 1),
                                                 "null or a whole number >= 1")]


class ClassifierModelSettings(ModelSettings):
    context: Context


class CrossValidation(Settings):
    folds: Annotated[int, rule(lambda v: isinstance(v, int) and (v == 0 or v >= 3),
                               "0 (off) or a whole number >= 3, e.g. cv.folds=5")]
    seed: Seed


class TrainSettings(Settings):  # configs/train.yaml
    run_name: str
    seed: Seed
    paths: PathsSettings
    cleaning: dict
    data: DataSettings
    model: ClassifierModelSettings
    trainer: FineTuningSettings
    cv: CrossValidation
    optimized_metric: OptimizedMetric
    train: RunControl

    @model_validator(mode="after")
    def _together(self):
        if self.optimized_metric == "cv.macro_f1" and not self.cv.folds:
            raise PydanticCustomError("kalimat_line", "optimized_metric=cv.macro_f1 needs cross-validation: set "
                                      "cv.folds=5 (or more), or use optimized_metric=selection.validation_macro_f1")
        if self.cv.folds and self.data.weak_labeler == "teacher":
            raise PydanticCustomError(
                "kalimat_line", "cv.folds with data.weak_labeler=teacher: the teacher learned from every training "
                "article, the folds' articles included, so their scores would flatter the model; use cv.folds=0 "
                "or data.weak_labeler=rules")
        return self


# ---------------------------------------------------------------- python -m train.pretrain


class PretrainingSettings(OptimizerSettings):  # pretrain.yaml's trainer
    max_steps: Count
    save_steps: Count


class CorpusSettings(Settings):  # pretrain.yaml's corpus
    sources: CorpusPaths
    held_out: Annotated[Number, rule(lambda v: 0 < v < 1, "a fraction of the articles in (0, 1), e.g. 0.05")]
    mlm_probability: Annotated[Number, rule(lambda v: 0 < v < 1, "a fraction of the tokens in (0, 1), e.g. 0.15")]
    packing: Packing
    on_bad_file: OnBadFile


class PretrainSettings(Settings):  # configs/pretrain.yaml
    run_name: str
    seed: Seed
    paths: PathsSettings
    cleaning: dict
    model: ModelSettings
    corpus: CorpusSettings
    trainer: PretrainingSettings
    train: RunControl


# ---------------------------------------------------------------- python -m train.dataset


class DatasetSettings(Settings):  # configs/dataset.yaml
    paths: PathsSettings
    cleaning: dict
    data: DataSettings


def resolve(cfg: DictConfig, kind: type[Settings], command: str) -> Settings:
    """The composed config, checked and typed; a one-line :class:`KalimatError` for the first bad key."""
    model = cfg.get("model")
    if model is not None and OmegaConf.is_missing(model, "name_or_path"):
        raise KalimatError(f"model={model.name} needs model.name_or_path=<folder or Hub id>, e.g. "
                           f"python -m {command} model={model.name} model.name_or_path=models/<run_name>")
    values = _without_hydra(cfg)
    try:
        return kind.model_validate(values)
    except ValidationError as err:
        raise KalimatError(_one_line(err.errors()[0])) from None


def _one_line(error: dict) -> str:
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "kalimat":
        return f"{key}={as_written(error['input'])}: expected {error['msg']}"
    if error["type"] == "kalimat_line":
        return error["msg"]
    if error["type"] == "extra_forbidden":
        return f"{key}={as_written(error['input'])}: no such setting; remove it (python -m <command> --help lists them)"
    if error["type"] == "missing":
        return f"{key}: missing; set it on the command line, e.g. {key}=<value>"
    return f"{key}={as_written(error.get('input'))}: {error['msg']}"

"""A built dataset on disk: written atomically, reused while its inputs are unchanged, loaded for training.

``python -m train.dataset`` (and ``python -m train`` when needed) writes ``data.output_dir``:

* ``dataset_dict/``: a ``datasets.DatasetDict`` (``train``, ``validation``, ``test``),
* ``sentences.jsonl``: one sentence a line, for reading and diffing,
* ``dataset_card.md``: counts, cleaning log, label sources, labeling-function quality,
* ``metadata.json``: name, content hash, and the fingerprint of the inputs it was built from.

The folder is replaced atomically, so an interrupted build leaves the previous dataset as
it was. Training calls :func:`ensure_dataset`, which rebuilds only when the fingerprint of
the inputs (articles, annotations, settings, preprocessing code) changed or the folder is damaged.
"""

import hashlib
import json
from pathlib import Path

import datasets
from omegaconf import DictConfig

from ..core import labels as labels_module
from ..core.atomic import atomic_dir, write_json, write_jsonl, write_text
from ..core.errors import KalimatError
from ..core.labels import LABELS
from ..core.settings import DatasetSettings, resolve
from .articles import expand_inputs
from .build import Built, build_records
from .card import SPLITS, dataset_card, rules_on_test, summary

FEATURES = datasets.Features({
    "article_id": datasets.Value("string"),
    "sentence_index": datasets.Value("int32"),
    "text": datasets.Value("string"),
    "label": datasets.ClassLabel(names=list(LABELS)),
    "label_source": datasets.Value("string"),
    "rules": datasets.Sequence(datasets.Value("string")),
    "weak_label": datasets.Value("string"),
    "split": datasets.Value("string"),
    "outlet": datasets.Value("string"),
    "category": datasets.Value("string"),
    "previous": datasets.Value("string"),
    "next": datasets.Value("string"),
})
# Modules whose code decides what the dataset contains: a change to any of them rebuilds it.
_CODE = ("articles", "cleaning", "splitter", "quotes", "preprocess", "annotations", "agreement", "weak_labels",
         "context", "splits", "teacher", "build", "card", "store")


def dataset_settings(settings) -> DatasetSettings:
    """The settings a build reads (``paths``, ``cleaning``, ``data``), from a command's typed settings or a
    composed config (``configs/dataset.yaml``)."""
    if isinstance(settings, DictConfig):
        return resolve(settings, DatasetSettings, "train.dataset")
    return settings


def input_fingerprint(settings) -> str:
    """Hash of everything the dataset is built from, to tell when a rebuild is due."""
    data = settings.data
    digest = hashlib.sha256()
    digest.update(json.dumps({"data": data.model_dump(), "cleaning": settings.cleaning}, sort_keys=True).encode())
    files = [path for path, _ in expand_inputs([*data.sources, *data.unlabeled_sources]) if path is not None]
    files += [Path(path) for path in data.annotations]
    if data.split.test_articles is not None:
        files.append(Path(data.split.test_articles))
    files += [Path(__file__).with_name(f"{name}.py") for name in _CODE]
    files.append(Path(labels_module.__file__))  # the label order decides what the stored integers mean
    for file in files:
        digest.update(str(file).encode())
        digest.update(_file_bytes(file))
    return digest.hexdigest()


def _file_bytes(file: Path) -> bytes:
    """A file's content for the fingerprint; an unreadable one is reported (or skipped) by the reading."""
    try:
        return file.read_bytes() if file.is_file() else b"<missing>"
    except OSError:
        return b"<unreadable>"


def content_hash(records: list[dict]) -> str:
    """Hash of the dataset's content: reports quote it, so runs on different data differ."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def write_dataset(output_dir, name: str, built: Built, fingerprint: str) -> str:
    """Write all four outputs into a fresh folder that replaces ``output_dir`` atomically."""
    records = built.records
    hash_ = content_hash(records)
    with atomic_dir(output_dir) as tmp:
        splits = {s: [r for r in records if r["split"] == s] for s in SPLITS}
        datasets.disable_progress_bars()  # a bar per split for a few thousand rows is noise
        datasets.DatasetDict({
            s: datasets.Dataset.from_list(rows, features=FEATURES) if rows
            else datasets.Dataset.from_dict({k: [] for k in FEATURES}, features=FEATURES)
            for s, rows in splits.items()
        }).save_to_disk(tmp / "dataset_dict")
        datasets.enable_progress_bars()
        write_jsonl(tmp / "sentences.jsonl", records)
        write_text(tmp / "dataset_card.md", dataset_card(name, built, hash_))
        write_json(tmp / "metadata.json", {"name": name, "content_hash": hash_, "fingerprint": fingerprint,
                                           "num_sentences": len(records), "labels": list(LABELS),
                                           "agreement": built.agreement, "rules_on_test": rules_on_test(records),
                                           "weak_labeler": built.weak_labeler, "teacher_on_validation": built.teacher})
    return hash_


def check_output_dir(output_dir: Path) -> None:
    """Refuse, before the build, an output the build must not replace or cannot make.

    The build replaces ``data.output_dir`` as a whole: only a folder that is a dataset
    already (it holds ``metadata.json``) or is empty may go, never a folder of other files
    (``data.output_dir=~/Documents``) or a file.
    """
    fix = "choose another data.name or data.output_dir"
    if output_dir.exists() and not output_dir.is_dir():
        raise KalimatError(f"data.output_dir={output_dir}: is a file, not a dataset folder; {fix}")
    if output_dir.is_dir() and not (output_dir / "metadata.json").is_file() and any(output_dir.iterdir()):
        raise KalimatError(f"data.output_dir={output_dir}: holds files that are not a dataset (no metadata.json), "
                           f"which the build would replace; {fix}")
    parent = next(folder for folder in output_dir.absolute().parents if folder.exists())
    if not parent.is_dir():
        raise KalimatError(f"data.output_dir={output_dir}: {parent} is a file, not a folder; "
                           "choose another paths.processed_dir")


def build_dataset(settings) -> Path:
    """Build ``data.output_dir`` from scratch and print its summary (``settings``: see :func:`dataset_settings`)."""
    settings = dataset_settings(settings)
    output_dir = Path(settings.data.output_dir)
    check_output_dir(output_dir)
    built = build_records(settings.data, settings.cleaning)
    hash_ = write_dataset(output_dir, settings.data.name, built, input_fingerprint(settings))
    print(summary(built, output_dir, hash_))
    return output_dir


class DamagedDataset(KalimatError):
    """A dataset folder whose metadata.json is there but not all of its ``dataset_dict/``."""

    def __init__(self, path: Path, reason: str):
        self.problem = f"{path} is incomplete or damaged ({reason})"
        super().__init__(f"{self.problem}; rebuild it with python -m train.dataset and the same data settings")


def _load_splits(path: Path) -> datasets.DatasetDict:
    """The ``dataset_dict/`` of a dataset folder; a missing or damaged part is a :class:`DamagedDataset`."""
    try:
        return datasets.load_from_disk(str(path / "dataset_dict"))
    except (FileNotFoundError, ValueError) as err:  # ValueError: pyarrow's ArrowInvalid for a cut-off file
        raise DamagedDataset(path, str(err).strip().splitlines()[0]) from None


def ensure_dataset(settings) -> Path:
    """Return the dataset folder, building it first if it is missing, damaged or its inputs changed.

    A damaged folder (parts of ``dataset_dict/`` deleted by hand) is rebuilt: its inputs are
    all there, and the fingerprint alone would trust it.
    """
    settings = dataset_settings(settings)
    output_dir = Path(settings.data.output_dir)
    metadata = output_dir / "metadata.json"
    if metadata.is_file():
        if json.loads(metadata.read_text()).get("fingerprint") != input_fingerprint(settings):
            print(f"inputs of {output_dir} changed: rebuilding the dataset")
        else:
            try:
                _load_splits(output_dir)
                return output_dir
            except DamagedDataset as err:
                print(f"{err.problem}: rebuilding the dataset")
    return build_dataset(settings)


def load_processed(path) -> tuple[datasets.DatasetDict, dict]:
    """Load a built dataset folder: the DatasetDict and its metadata."""
    path = Path(path)
    if not (path / "metadata.json").is_file():
        raise KalimatError(f"{path}: no dataset here; build it with python -m train.dataset")
    metadata = json.loads((path / "metadata.json").read_text())
    if metadata.get("labels") != list(LABELS):
        # Labels are stored as integers: another order would silently swap their meaning.
        raise KalimatError(f"{path}: built with the labels {metadata.get('labels')}, not {list(LABELS)}; "
                           "rebuild it with python -m train.dataset")
    return _load_splits(path), metadata

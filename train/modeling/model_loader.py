"""The one place that loads models and tokenizers: a Hub id, a local folder, or the offline mini model.

Creating a :class:`ModelLoader` settles where the model comes from before any data is
built or any training starts, and fails within seconds with one line that names the ways
out when it cannot be had: without network access ``from_pretrained`` would retry the Hub
for half a minute and end in a stack trace. Weights load only from safetensors and never
with remote code, so loading a model cannot run code from its folder.
"""

import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

import huggingface_hub
import transformers
from huggingface_hub import constants as hub_constants
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, PreTrainedTokenizerBase

from ..core.errors import KalimatError
from ..core.log import warn
from ..core.labels import ID2LABEL, LABEL2ID
from .mini_model import mini_config, train_wordpiece

HUB_PROBE_SECONDS = 3.0
# A tokenizer that maps more than this share of the words of the training sentences to
# [UNK] does not fit the model's language (or lost its vocabulary on the way).
MAX_UNKNOWN_SHARE = 0.5


def ways_out(name_or_path: str) -> str:
    return (
        f"use model=mini (trains offline), pass a local folder with model.name_or_path=/path/to/model, "
        f"or download {name_or_path} once with Hub access (later runs with HF_HUB_OFFLINE=1 use that copy)"
    )


class ModelLoader:
    """Tokenizers and freshly initialised classifiers for one ``model`` config.

    ``model.name_or_path: null`` is the mini model (a tokenizer trained per call, random
    weights); anything else is a pretrained checkpoint whose classification head is new.
    """

    def __init__(self, model_cfg, max_length: int):
        self.cfg = model_cfg
        self.max_length = max_length  # trainer.max_length, clamped to what the model can read
        self.name_or_path = model_cfg.name_or_path
        self._load_kwargs = {} if self.is_mini else _locate(str(self.name_or_path), model_cfg.revision)
        if not self.is_mini:
            config = self.load(AutoConfig)  # a checkpoint that cannot load fails now, before any data is built
            positions = getattr(config, "max_position_embeddings", None)
            if isinstance(positions, int) and 0 < positions < max_length:
                # Longer inputs would index past the position embeddings and crash mid-training.
                warn(f"trainer.max_length={max_length} is more than the {positions} positions "
                     f"{self.name_or_path} has (max_position_embeddings); using {positions}")
                self.max_length = positions

    @property
    def is_mini(self) -> bool:
        return self.name_or_path is None

    def tokenizer(self, train_texts: list[str]) -> PreTrainedTokenizerBase:
        """The tokenizer for a model trained on ``train_texts`` (which the mini model learns its vocabulary from)."""
        if self.is_mini:
            return train_wordpiece(train_texts, self.cfg.vocab_size, self.cfg.min_frequency, self.max_length)
        tokenizer_class = _tokenizer_class(self.cfg.tokenizer_class)
        tokenizer = self.load(tokenizer_class, model_max_length=self.max_length)
        _check_vocabulary(tokenizer, train_texts, self.name_or_path)
        return tokenizer

    def model(self, tokenizer: PreTrainedTokenizerBase):
        """A new classifier with the project's labels; call after seeding for reproducible weights."""
        if self.is_mini:
            return AutoModelForSequenceClassification.from_config(mini_config(self.cfg, tokenizer, self.max_length))
        return self.load(
            AutoModelForSequenceClassification,
            num_labels=len(ID2LABEL),
            id2label=dict(ID2LABEL),
            label2id=dict(LABEL2ID),
            use_safetensors=True,
        )

    def load(self, cls, **kwargs):
        """``cls.from_pretrained`` on this checkpoint (safetensors only, no remote code), or a one-line error."""
        try:
            return cls.from_pretrained(str(self.name_or_path), trust_remote_code=False, **self._load_kwargs, **kwargs)
        except (OSError, ValueError) as err:
            detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            hint = (
                "kalimat loads only safetensors weights; convert the checkpoint (load it and save_pretrained) "
                "and pass the folder as model.name_or_path"
                if "safetensors" in str(err)
                else ways_out(self.name_or_path)
            )
            raise KalimatError(f"model.name_or_path={self.name_or_path}: cannot load ({detail}); {hint}") from None


def _locate(name_or_path: str, revision: str | None) -> dict:
    """``from_pretrained`` keyword arguments for ``name_or_path``, or a one-line error within seconds.

    A local folder loads as it is. A Hub id loads from the local cache when the Hub is
    unreachable or ``HF_HUB_OFFLINE`` is set, and is downloaded otherwise.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise KalimatError(
                f"model.name_or_path={name_or_path}: the folder has no config.json; "
                "pass a folder written by save_pretrained"
            )
        return {}
    if path.exists() or name_or_path.startswith(("/", "./", "../", "~")):
        raise KalimatError(f"model.name_or_path={name_or_path}: no such model folder; {ways_out(name_or_path)}")
    try:
        huggingface_hub.utils.validate_repo_id(name_or_path)
    except huggingface_hub.errors.HFValidationError:
        raise KalimatError(
            f"model.name_or_path={name_or_path}: neither a model folder nor a Hub id (organisation/name); "
            f"{ways_out(name_or_path)}"
        ) from None
    kwargs = {"revision": revision} if revision else {}
    cached = isinstance(huggingface_hub.try_to_load_from_cache(name_or_path, "config.json", revision=revision), str)
    if huggingface_hub.is_offline_mode():
        if not cached:
            raise KalimatError(
                f"model.name_or_path={name_or_path}: HF_HUB_OFFLINE is set and the model is not in the local "
                f"Hugging Face cache; {ways_out(name_or_path)}"
            )
        return kwargs | {"local_files_only": True}
    if not _hub_reachable():
        if cached:
            return kwargs | {"local_files_only": True}
        raise KalimatError(
            f"model.name_or_path={name_or_path}: the Hugging Face Hub ({hub_constants.ENDPOINT}) cannot be reached "
            f"and the model is not in the local cache; {ways_out(name_or_path)}"
        )
    return kwargs


def _hub_reachable() -> bool:
    """Open a TCP connection to the Hub endpoint, giving up after a few seconds (DNS included)."""
    url = urlparse(hub_constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    result = []

    def probe():
        try:
            socket.create_connection((url.hostname, port), timeout=HUB_PROBE_SECONDS).close()
            result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(HUB_PROBE_SECONDS)
    return bool(result)


def _tokenizer_class(name: str | None):
    """``AutoTokenizer``, or the class a model config names (ALBERT weights with a BERT vocabulary)."""
    if name is None:
        return AutoTokenizer
    cls = getattr(transformers, name, None)
    if not (isinstance(cls, type) and issubclass(cls, PreTrainedTokenizerBase)):
        raise KalimatError(
            f"model.tokenizer_class={name}: not a transformers tokenizer class; "
            "use e.g. BertTokenizer, or null to use the one the checkpoint names"
        )
    return cls


def _check_vocabulary(tokenizer, texts: list[str], name_or_path: str) -> None:
    """Refuse a tokenizer that does not know the words of the training sentences."""
    sample = texts[:200]
    ids = [i for encoded in tokenizer(sample, add_special_tokens=False)["input_ids"] for i in encoded]
    if not ids or tokenizer.unk_token_id is None:
        return
    unknown = sum(i == tokenizer.unk_token_id for i in ids) / len(ids)
    if unknown > MAX_UNKNOWN_SHARE:
        raise KalimatError(
            f"model.name_or_path={name_or_path}: its tokenizer maps {unknown:.0%} of the training tokens to "
            f"{tokenizer.unk_token}; set model.tokenizer_class to the tokenizer the model was trained with"
        )


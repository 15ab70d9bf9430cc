"""Loading models: the mini tokenizer, local folders, and failing fast without the Hub."""

import subprocess
import sys
import time

import pytest
import torch
from omegaconf import OmegaConf
from tiny_models import seed_sentences
from transformers import BertConfig, BertModel, BertTokenizerFast

from train.core.errors import KalimatError
from train.core.labels import ID2LABEL
from train.modeling.mini_model import train_wordpiece
from train.modeling.model_loader import ModelLoader, _check_vocabulary


def _pretrained(path, tokenizer_class=None):
    return OmegaConf.create({"name": "test", "name_or_path": str(path), "revision": None, "tokenizer_class": tokenizer_class})


def test_mini_tokenizer_knows_the_training_words_and_is_deterministic():
    texts = list(seed_sentences())
    first = train_wordpiece(texts, vocab_size=2000, min_frequency=2, max_length=128)
    # Training again gives the very same vocabulary (the tokenizers trainer alone does not).
    for _ in range(3):
        assert train_wordpiece(texts, vocab_size=2000, min_frequency=2, max_length=128).get_vocab() == first.get_vocab()
    tokens = first.tokenize(" ".join(texts[:20]))
    assert tokens.count("[UNK]") / len(tokens) < 0.01
    assert first("Presiden Korea")["input_ids"][0] == first.cls_token_id


def test_local_bert_folder_loads_with_a_new_four_label_head(tiny_bert_dir):
    loader = ModelLoader(_pretrained(tiny_bert_dir), max_length=64)
    tokenizer = loader.tokenizer(list(seed_sentences()))
    model = loader.model(tokenizer)
    assert model.config.id2label == ID2LABEL
    logits = model(**tokenizer(["Presiden Korea Selatan"], return_tensors="pt")).logits
    assert logits.shape == (1, 4)


def test_albert_with_a_bert_vocabulary_needs_its_tokenizer_class(tiny_albert_dir):
    texts = list(seed_sentences())
    with pytest.raises(KalimatError, match="model.name_or_path="):
        ModelLoader(_pretrained(tiny_albert_dir), max_length=64).tokenizer(texts)
    loader = ModelLoader(_pretrained(tiny_albert_dir, "BertTokenizer"), max_length=64)
    tokenizer = loader.tokenizer(texts)
    assert "[UNK]" not in tokenizer.tokenize("presiden mengatakan")
    assert loader.model(tokenizer).config.model_type == "albert"


def test_a_tokenizer_with_an_empty_vocabulary_is_refused(tmp_path):
    # transformers 5 builds an empty vocabulary from BertTokenizerFast(vocab_file=...).
    # Built here with that empty vocabulary, so the check is exercised whatever the version does.
    tokenizer = BertTokenizerFast(vocab={"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3})
    assert tokenizer.tokenize("presiden") == ["[UNK]"]
    with pytest.raises(KalimatError, match=r"maps \d+% of the training tokens to \[UNK\]"):
        _check_vocabulary(tokenizer, ["presiden presiden presiden"], "x")


def test_pickle_weights_are_never_loaded(tmp_path):
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    config.save_pretrained(tmp_path)
    torch.save(BertModel(config).state_dict(), tmp_path / "pytorch_model.bin")
    loader = ModelLoader(_pretrained(tmp_path), max_length=64)
    with pytest.raises(KalimatError, match="safetensors"):
        loader.model(None)


@pytest.mark.parametrize(
    "name_or_path, message",
    [
        ("/no/such/folder", "no such model folder"),
        ("not a hub id!", "neither a model folder nor a Hub id"),
    ],
)
def test_bad_model_paths_are_named(name_or_path, message):
    with pytest.raises(KalimatError, match=message):
        ModelLoader(_pretrained(name_or_path), max_length=64)


def test_folder_without_config_is_named(tmp_path):
    with pytest.raises(KalimatError, match="no config.json"):
        ModelLoader(_pretrained(tmp_path), max_length=64)


@pytest.mark.parametrize("offline", [True, False])
def test_default_model_without_the_hub_fails_fast_with_the_ways_out(offline, tmp_path, train_env):
    env = train_env(
        HF_HOME=str(tmp_path / "hf"),  # an empty cache: nothing downloaded earlier can help
        HF_HUB_OFFLINE="1" if offline else None,
        # Without HF_HUB_OFFLINE the Hub must be unreachable for real: a closed local port.
        HF_ENDPOINT=None if offline else "http://127.0.0.1:9",
    )
    start = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "train", f"paths.runs_dir={tmp_path}/runs", f"paths.models_dir={tmp_path}/models",
         f"paths.processed_dir={tmp_path}/processed"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    elapsed = time.monotonic() - start
    assert process.returncode == 2
    assert process.stderr.count("\n") == 1, process.stderr
    assert process.stderr.startswith("error: model.name_or_path=indobenchmark/indobert-base-p1: ")
    assert ("HF_HUB_OFFLINE is set" in process.stderr) == offline
    for way_out in ("model=mini", "model.name_or_path=/path/to/model", "HF_HUB_OFFLINE=1"):
        assert way_out in process.stderr
    assert elapsed < 30, f"took {elapsed:.0f} s"  # the Hub's own retries take 25 s or more after start-up
    assert not any((tmp_path / "runs").iterdir())  # no run folder left behind by the failed run
    assert not (tmp_path / "processed").exists()  # it stopped before building the dataset

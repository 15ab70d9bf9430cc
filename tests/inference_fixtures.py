"""Tiny exported models for inference tests, built in seconds without the Hugging Face Hub.

A model folder here has what a kalimat export has: ``config.json`` with the project's
label maps, safetensors weights and a real WordPiece tokenizer learned from the seed
articles with :func:`train.modeling.mini_model.train_wordpiece` (so it knows their words: an empty
vocabulary would turn every token into ``[UNK]`` and hide bugs). With ``train_steps`` the
model is first fitted to a simple surface rule, so its labels are clear-cut and lower
precisions can be compared with fp32. Like an export, the folder holds the int8 engine,
calibrated here on the seed sentences.
"""

import re
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from train.core.labels import ID2LABEL, LABEL2ID, LABELS
from train.data.articles import read_articles
from train.data.preprocess import Preprocessor
from train.inference.int8_engine import build_int8_engine
from train.modeling.mini_model import train_wordpiece

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
TRAIN_STEPS = 150  # enough for clear-cut labels: every top probability above 0.9


def seed_sentences() -> list[str]:
    preprocessor = Preprocessor.default()
    return [s for article in read_articles([str(SEEDS)]) for s in preprocessor.article_sentences(article)[0]]


def rule_label(sentence: str) -> str:
    """A surface rule a tiny model can learn: quotation marks, modal verbs, digits, else background."""
    if re.search(r"[\"“”]", sentence):
        return "quote"
    if re.search(r"\b(harus|perlu|sebaiknya|mungkin)\b", sentence, re.IGNORECASE):
        return "opinion"
    if re.search(r"\d", sentence):
        return "claim"
    return "background"


def save_model_dir(path: Path, train_steps: int = 0) -> Path:
    """Write a tiny exported model to ``path``; with ``train_steps`` it first learns :func:`rule_label`."""
    threads = torch.get_num_threads()
    # A model this small trains no faster on two threads, and many times slower when
    # other processes keep the cores busy (the threads wait for each other).
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        sentences = seed_sentences()
        tokenizer = train_wordpiece(sentences, vocab_size=2000, min_frequency=1, max_length=128)
        config = BertConfig(
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, hidden_size=32, num_hidden_layers=2,
            num_attention_heads=2, intermediate_size=64, max_position_embeddings=128, num_labels=len(LABELS),
            id2label=dict(ID2LABEL), label2id=dict(LABEL2ID),
        )
        model = BertForSequenceClassification(config)
        if train_steps:
            batch = tokenizer(sentences, padding=True, truncation=True, return_tensors="pt")
            targets = torch.tensor([LABEL2ID[rule_label(s)] for s in sentences])
            optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
            model.train()
            for _ in range(train_steps):
                optimizer.zero_grad()
                model(**batch, labels=targets).loss.backward()
                optimizer.step()
        model.eval().save_pretrained(path)
        tokenizer.save_pretrained(path)
        build_int8_engine(path, sentences)
    finally:
        torch.set_num_threads(threads)
    return path


_built: dict[str, Path] = {}


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A tiny trained model, built once per session even when several test modules import this fixture."""
    if "trained" not in _built:
        _built["trained"] = save_model_dir(tmp_path_factory.mktemp("model"), train_steps=TRAIN_STEPS)
    return _built["trained"]

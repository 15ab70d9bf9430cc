"""Tiny pretrained-style checkpoints saved to a folder, as if downloaded from the Hugging Face Hub.

Training tests load these through ``model.name_or_path=<folder>``, so the pretrained path
(``from_pretrained`` of a base model, a new classification head, the checkpoint's own
tokenizer) runs for real without network access. Both folders carry a WordPiece
vocabulary learned from the seed articles, so their tokenizers know the words of the
training sentences.

* :func:`save_tiny_bert`: a BERT base model with its tokenizer saved by ``save_pretrained``.
* :func:`save_tiny_albert`: ALBERT weights with only a BERT ``vocab.txt``, the layout of
  ``indobenchmark/indobert-lite-base-p1``: ``AutoTokenizer`` cannot load it, the model
  config's ``tokenizer_class`` must.
"""

import functools
from pathlib import Path

from transformers import AlbertConfig, AlbertModel, BertConfig, BertModel

from train.core.paths import ROOT
from train.data.articles import read_articles
from train.data.preprocess import Preprocessor
from train.modeling.mini_model import train_wordpiece

HIDDEN = 32
# Overrides that shrink the mini model to seconds per run on the five seed articles;
# training still takes real steps.
TINY_MINI = (
    "data=seeds",
    "model=mini",
    "trainer=from_scratch",
    "model.hidden_size=32",
    "model.num_hidden_layers=1",
    "model.num_attention_heads=2",
    "model.intermediate_size=64",
    "trainer.num_train_epochs=2",
    "trainer.learning_rate=5e-3",
    "trainer.logging_steps=1",
)


@functools.cache
def seed_sentences() -> tuple[str, ...]:
    preprocessor = Preprocessor.default()
    articles = read_articles([str(ROOT / "seeds")])
    return tuple(s for article in articles for s in preprocessor.article_sentences(article)[0])


def _tokenizer():
    return train_wordpiece(list(seed_sentences()), vocab_size=1000, min_frequency=1, max_length=128)


def save_tiny_bert(path) -> Path:
    """A 2-layer BERT (hidden size 32) and its tokenizer in ``path``."""
    path = Path(path)
    tokenizer = _tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * HIDDEN,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def save_tiny_albert(path) -> Path:
    """A 1-layer ALBERT (hidden size 32) with a BERT ``vocab.txt`` and no tokenizer config in ``path``."""
    path = Path(path)
    tokenizer = _tokenizer()
    config = AlbertConfig(
        vocab_size=len(tokenizer),
        embedding_size=16,
        hidden_size=HIDDEN,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=2 * HIDDEN,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    AlbertModel(config).save_pretrained(path)
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    (path / "vocab.txt").write_text("".join(f"{token}\n" for token, _ in vocab), encoding="utf-8")
    return path

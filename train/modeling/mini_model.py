"""The offline model: a WordPiece vocabulary learned from the run's own sentences and a small BERT.

``model=mini`` needs no download at all, which is what makes the quickstart and most tests
work on any machine. The vocabulary is trained with the ``tokenizers`` library on the
sentences the model is about to train on (never on the sentences it is evaluated on), and
the model starts from random weights, so everything it knows comes from this run.
"""

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertTokenizer

from ..core.labels import ID2LABEL, LABEL2ID

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
CONTINUATION = "##"


def train_wordpiece(texts: list[str], vocab_size: int, min_frequency: int, max_length: int) -> BertTokenizer:
    """Learn a lower-cased WordPiece vocabulary from ``texts``; the same texts give the same vocabulary.

    The ``tokenizers`` trainer creates its ``##``-continuation tokens while iterating over a
    hash map, so their ids, and through tie-breaking even the merges, change from process to
    process (huggingface/tokenizers#1794). Declaring every continuation character up front,
    in sorted order, fixes their ids and makes training deterministic.
    """
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]", continuing_subword_prefix=CONTINUATION))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[*SPECIAL_TOKENS, *_continuation_alphabet(tokenizer, texts)],
        continuing_subword_prefix=CONTINUATION,
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    # Rebuild from the learned vocabulary so that only the five real special tokens are
    # special (the trainer would otherwise register the continuation characters as such).
    vocab = tokenizer.get_vocab()
    wordpiece = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", continuing_subword_prefix=CONTINUATION))
    wordpiece.normalizer = tokenizer.normalizer
    wordpiece.pre_tokenizer = tokenizer.pre_tokenizer
    wordpiece.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    wordpiece.decoder = decoders.WordPiece(prefix=CONTINUATION)
    return BertTokenizer(
        tokenizer_object=wordpiece,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_length,
    )


def _continuation_alphabet(tokenizer: Tokenizer, texts: list[str]) -> list[str]:
    """``##c`` for every character that occurs inside a word, sorted."""
    chars = set()
    for text in texts:
        normalized = tokenizer.normalizer.normalize_str(text)
        for word, _ in tokenizer.pre_tokenizer.pre_tokenize_str(normalized):
            chars.update(word[1:])
    return [CONTINUATION + char for char in sorted(chars)]


def mini_config(model_cfg, tokenizer: BertTokenizer, max_length: int) -> BertConfig:
    """A small BERT sized by the ``model`` config, with the project's four labels."""
    return BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=model_cfg.hidden_size,
        num_hidden_layers=model_cfg.num_hidden_layers,
        num_attention_heads=model_cfg.num_attention_heads,
        intermediate_size=model_cfg.intermediate_size,
        hidden_dropout_prob=model_cfg.hidden_dropout_prob,
        attention_probs_dropout_prob=model_cfg.attention_probs_dropout_prob,
        max_position_embeddings=max_length,
        pad_token_id=tokenizer.pad_token_id,
        num_labels=len(ID2LABEL),
        id2label=dict(ID2LABEL),
        label2id=dict(LABEL2ID),
    )

"""Masked-language-model pretraining on unlabeled news: a model that knows Indonesian before it learns roles.

``python -m train.pretrain`` (config ``configs/pretrain.yaml``) reads unlabeled articles
(by default all 1,445 IndoSum articles of ``data/corpus/indosum.jsonl.gz``; any folder or
JSONL with ``corpus.sources=[...]``) through the project's own reader, cleaner and splitter,
and trains a masked language model on them:

* ``model=mini`` starts from scratch: its WordPiece vocabulary is trained on the whole
  unlabeled corpus (never on the labeled sentences) and its weights are random;
* ``model.name_or_path=<Hub id or folder>`` continues a pretrained checkpoint (domain-adaptive
  pretraining of IndoBERT on a newsroom's own archive).

Sentences are packed into sequences of up to ``trainer.max_length`` tokens (article by
article, or end to end across articles: ``corpus.packing``), so little of a step is padding;
``DataCollatorForLanguageModeling`` masks 15% of the tokens. A share
of the articles (``corpus.held_out``) is kept out to measure perplexity. The export in
``models/<run_name>/`` is a standard ``save_pretrained`` folder (safetensors) with a card of
the corpus hash, steps, tokens seen, final loss and held-out perplexity, and
``python -m train model=local model.name_or_path=models/<run_name>`` fine-tunes from it.
"""

import hashlib
import json
import math
import random
import subprocess
import sys
import time
from pathlib import Path

import datasets
import torch
from omegaconf import DictConfig
from tqdm import tqdm
from transformers import (
    AutoModelForMaskedLM,
    AutoTokenizer,
    BertForMaskedLM,
    DataCollatorForLanguageModeling,
    Trainer,
    TrainerState,
    set_seed,
)
from transformers.integrations import TensorBoardCallback

from ..core.atomic import atomic_dir, write_json, write_text
from ..core.errors import KalimatError
from ..core.precision import device_name, resolve_device, resolve_precision
from ..core.render import Heading, Paragraph, Table, card_front_matter, to_markdown
from ..core.run_folder import CHECKPOINTS, RunFolder
from ..core.settings import PretrainSettings, TrainSettings, resolve
from ..data.articles import expand_inputs, read_articles
from ..data.preprocess import Preprocessor
from .mini_model import mini_config, train_wordpiece
from .model_loader import ModelLoader
from .training import last_complete_checkpoint, training_arguments

SUMMARY_FILE = "pretraining.json"
MASKING_STATE = "masking_rng.pt"  # in each checkpoint, beside the Trainer's own random states


def run(cfg: DictConfig) -> float:
    """Check the settings, pretrain and export; return the held-out perplexity."""
    folder = RunFolder("train.pretrain", cfg, _has_checkpoint, SUMMARY_FILE)
    with folder.stopping_cleanly():  # a refused run leaves no folder it made, and changes none it found
        return pretrain(resolve(cfg, PretrainSettings, "train.pretrain"), folder)["held_out_perplexity"]


def _has_checkpoint(run_dir: Path) -> bool:
    return last_complete_checkpoint(run_dir / CHECKPOINTS) is not None


def ensure_pretrained(cfg: TrainSettings) -> None:
    """Run ``python -m train.pretrain`` once for a model config that names one (``model.pretrain``).

    A finished pretraining (its export in ``models/``) is reused; a fresh clone runs it
    first, in its own process with its own config, exactly as a user would.
    """
    spec = cfg.model.pretrain
    if spec is None or Path(cfg.model.name_or_path).is_dir():
        return
    print(f"{cfg.model.name_or_path} is missing: pretraining it first (python -m train.pretrain)")
    command = [sys.executable, "-m", "train.pretrain", f"run_name={spec.run_name}",
               f"paths.models_dir={cfg.paths.models_dir}", f"paths.runs_dir={cfg.paths.runs_dir}", *spec.overrides]
    if subprocess.run(command).returncode != 0:
        raise KalimatError(f"pretraining {spec.run_name} failed (see above); run it alone with: {' '.join(command[1:])}")


def corpus_hash(sources: list[str]) -> str:
    """Hash of the corpus files' bytes: the card names the exact text a model learned from."""
    digest = hashlib.sha256()
    for path, _ in expand_inputs(sources):
        digest.update(path.read_bytes() if path is not None else b"<stdin>")
    return digest.hexdigest()[:16]


def corpus_articles(cfg: PretrainSettings) -> list[list[str]]:
    """Every article of ``corpus.sources`` as its clean sentences; empty articles are left out."""
    preprocessor = Preprocessor.from_config(cfg.cleaning)
    skip = cfg.corpus.on_bad_file == "skip"
    articles = []
    for article in tqdm(read_articles(list(cfg.corpus.sources), skip_bad=skip), desc="reading corpus", unit=" articles"):
        sentences, _ = preprocessor.article_sentences(article)
        if sentences:
            articles.append(sentences)
    if len(articles) < 2:
        raise KalimatError("corpus.sources: fewer than two articles with text; point it at a folder or JSONL of news")
    return articles


def pack(articles: list[list[str]], tokenizer, max_length: int, packing: str = "articles") -> list[list[int]]:
    """The articles' sentences as token ids in ``[CLS] ... [SEP]`` sequences of up to ``max_length``.

    * ``articles``: whole sentences, article by article (an article starts a new sequence),
      ``[SEP]`` between them; a sentence too long for an empty sequence is cut. About 103
      tokens of 128 on IndoSum; the offline recipe's pretraining fine-tuned better this way.
    * ``full``: every sentence laid end to end, ``[SEP]`` between sentences and two between
      articles, cut into sequences of ``max_length`` as Hugging Face's ``run_mlm`` does: no
      padding but in the last, shorter sequence (kept: a small held-out share may have no
      other), and a sentence that crosses a cut continues in the next sequence.
    """
    sep = tokenizer.sep_token_id
    room = max_length - 2
    # verbose=False: the tokenizer's "longer than the specified maximum ... indexing errors" warning
    # cannot apply, since every sequence is cut to max_length below.
    token_ids = [tokenizer(sentences, add_special_tokens=False, verbose=False)["input_ids"] for sentences in articles]
    if packing == "full":
        stream: list[int] = []
        for sentences in token_ids:
            for position, ids in enumerate(sentences):
                if stream:
                    stream += [sep] * (2 if position == 0 else 1)
                stream += ids
        sequences = [stream[i:i + room] for i in range(0, len(stream), room)]
    else:
        sequences = []
        for sentences in token_ids:
            current: list[int] = []
            for ids in sentences:
                ids = ids[: room - 1]
                if current and len(current) + 1 + len(ids) > room:
                    sequences.append(current)
                    current = []
                current = current + [sep] + ids if current else ids
            if current:
                sequences.append(current)
    return [[tokenizer.cls_token_id, *ids, sep] for ids in sequences]


class ResumableMasking(DataCollatorForLanguageModeling):
    """The masking collator, able to resume its random stream where a checkpoint left it.

    It draws its masks from a generator of its own (seeded by ``seed``) that the Trainer's
    checkpoints do not hold, so a resumed run used to mask its remaining batches as a new run
    masks its first ones (other weights, other perplexity). The generator's state before
    each batch is remembered: a checkpoint taken after ``n`` batches stores the state before
    batch ``n`` (Accelerate may already have collated it ahead), and a resumed run starts there.
    """

    def __post_init__(self):
        super().__post_init__()
        self.batches = 0  # batches collated so far
        self._before: dict[int, torch.Tensor] = {}

    def torch_call(self, examples):
        if not isinstance(self.generator, torch.Generator):
            self.create_rng("pt")
        self._before = {k: v for k, v in self._before.items() if k >= self.batches - 4}
        self._before[self.batches] = self.generator.get_state()
        self.batches += 1
        return super().torch_call(examples)

    def save(self, path: Path, batches: int) -> None:
        """Store where the masking stood before batch ``batches`` (the first one a resumed run collates)."""
        if not isinstance(self.generator, torch.Generator):
            return
        state = self._before.get(batches) if batches < self.batches else self.generator.get_state()
        torch.save({"batches": batches, "state": state}, path)

    def restore(self, path: Path) -> None:
        saved = torch.load(path, weights_only=True)
        self.create_rng("pt")
        self.generator.set_state(saved["state"])
        self.batches, self._before = saved["batches"], {}

    def reset(self) -> None:
        """Start the stream afresh from ``seed``: the held-out sequences get the same masks in every run."""
        self.create_rng("pt")


def masking_state(folder, process_index: int) -> Path:
    return Path(folder) / f"masking_rng_{process_index}.pt"


class MaskedTokensTrainer(Trainer):
    """Scores the language-model head on the masked tokens only; checkpoints keep the masking's state.

    ``BertForMaskedLM`` computes vocabulary logits for every token, although only the 15%
    that are masked carry a loss; on a small model that head is a third of all the work.
    Gathering the masked positions first gives the same loss for much less compute. Models
    without a separate head (``cls`` for BERT, ``predictions`` for ALBERT) use the default loss.
    The state of a :class:`ResumableMasking` collator is saved with the Trainer's own random
    states, before the checkpoint is complete (``trainer_state.json`` comes last).
    """

    def _save_rng_state(self, output_dir) -> None:
        super()._save_rng_state(output_dir)
        if isinstance(self.data_collator, ResumableMasking):
            batches = self.state.global_step * self.args.gradient_accumulation_steps
            self.data_collator.save(masking_state(output_dir, self.args.process_index), batches)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        unwrapped = self.accelerator.unwrap_model(model)
        head = getattr(unwrapped, "cls", None) or getattr(unwrapped, "predictions", None)
        if head is None or return_outputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        # The unwrapped modules bypass the autocast that Accelerate wraps around the model's
        # forward, so bf16/fp16 training is applied here explicitly.
        with self.accelerator.autocast():
            hidden = unwrapped.base_model(**inputs).last_hidden_state
            masked = labels != -100
            logits = head(hidden[masked])
        return torch.nn.functional.cross_entropy(logits.float(), labels[masked])


def _split_articles(articles: list[list[str]], held_out: float, seed: int):
    order = list(range(len(articles)))
    random.Random(seed).shuffle(order)
    n_held = max(1, round(held_out * len(articles)))
    held = set(order[:n_held])
    return [a for i, a in enumerate(articles) if i not in held], [a for i, a in enumerate(articles) if i in held]


def _model_and_tokenizer(cfg: PretrainSettings, train_articles: list[list[str]], checkpoint: str | None):
    """The model to train and its tokenizer.

    The mini model's vocabulary is learned from the corpus; a resumed run takes the one saved
    in its checkpoint, which its weights were trained with (the corpus may have changed since).
    """
    max_length = cfg.trainer.max_length
    if cfg.model.name_or_path is None:
        if checkpoint is not None:
            tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        else:
            sentences = [s for article in train_articles for s in article]
            tokenizer = train_wordpiece(sentences, cfg.model.vocab_size, cfg.model.min_frequency, max_length)
        set_seed(cfg.seed)
        return BertForMaskedLM(mini_config(cfg.model, tokenizer, max_length)), tokenizer
    loader = ModelLoader(cfg.model, max_length)
    tokenizer = loader.tokenizer([s for article in train_articles[:50] for s in article])
    set_seed(cfg.seed)
    return loader.load(AutoModelForMaskedLM, use_safetensors=True), tokenizer


def _finished_state(checkpoint: str | None, max_steps: int) -> TrainerState | None:
    """The state of a checkpoint taken at the last step: a run killed after it, before its export.

    Resumed from it, the Trainer would take one step past ``max_steps``; the checkpoint's
    weights are measured and exported as they are instead.
    """
    if checkpoint is None:
        return None
    state = TrainerState.load_from_json(str(Path(checkpoint) / "trainer_state.json"))
    return state if state.global_step >= max_steps else None


def pretrain(cfg: PretrainSettings, folder: RunFolder) -> dict:
    """Train, measure and export one masked language model; return its summary."""
    set_seed(cfg.seed)
    run_dir = folder.path
    model_dir = folder.export
    device = resolve_device()
    precision = resolve_precision(cfg.trainer.precision, device, training=True, option="trainer.precision")
    if cfg.train.resume and (run_dir / SUMMARY_FILE).is_file():
        # The Trainer would take one more step past trainer.max_steps from the final checkpoint.
        raise KalimatError(f"train.resume=true: {run_dir} holds a finished run, there is nothing to resume; "
                           "choose another run_name, or set train.overwrite=true without train.resume to replace it")
    folder.admit(cfg.train.resume, cfg.train.overwrite, "pretraining")
    folder.start(cfg.train.resume)  # the corpus may grow between resumes; the tokenizer stays
    checkpoint = last_complete_checkpoint(run_dir / CHECKPOINTS) if cfg.train.resume else None
    train_articles, held_articles = _split_articles(corpus_articles(cfg), cfg.corpus.held_out, cfg.seed)
    model, tokenizer = _model_and_tokenizer(cfg, train_articles, checkpoint)
    finished = _finished_state(checkpoint, cfg.trainer.max_steps)
    if finished is not None:
        model = type(model).from_pretrained(checkpoint, use_safetensors=True)
    max_length = min(cfg.trainer.max_length, model.config.max_position_embeddings)
    train_blocks = pack(train_articles, tokenizer, max_length, cfg.corpus.packing)
    held_blocks = pack(held_articles, tokenizer, max_length, cfg.corpus.packing)
    print(f"{len(train_blocks)} training sequences of up to {max_length} tokens "
          f"({sum(map(len, train_blocks)):,} tokens), {len(held_blocks)} held out")

    args = training_arguments(
        cfg.trainer, cfg.seed, run_dir / CHECKPOINTS, precision,
        max_steps=cfg.trainer.max_steps,
        per_device_eval_batch_size=cfg.trainer.per_device_train_batch_size,
        save_strategy="steps",
        save_steps=cfg.trainer.save_steps,
        save_total_limit=1,
        eval_strategy="no",
    )
    tensorboard = TensorBoardCallback()
    tensorboard.logging_dir = str(run_dir / "tensorboard")  # kept for the held-out evaluation after training too
    collator = ResumableMasking(tokenizer, mlm_probability=cfg.corpus.mlm_probability, seed=cfg.seed)
    if checkpoint is not None and masking_state(checkpoint, args.process_index).is_file():
        collator.restore(masking_state(checkpoint, args.process_index))
    trainer = MaskedTokensTrainer(
        model=model,
        args=args,
        train_dataset=datasets.Dataset.from_dict({"input_ids": train_blocks}),
        eval_dataset=datasets.Dataset.from_dict({"input_ids": held_blocks}),
        data_collator=collator,
        processing_class=tokenizer,
        callbacks=[tensorboard],
    )
    start = time.perf_counter()
    if finished is None:
        training_loss = trainer.train(resume_from_checkpoint=checkpoint).training_loss
    else:
        trainer.state, training_loss = finished, None
    seconds = time.perf_counter() - start
    collator.reset()
    held_loss = trainer.evaluate()["eval_loss"]
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    tokens = trainer.state.global_step * cfg.trainer.per_device_train_batch_size * sum(map(len, train_blocks)) / len(train_blocks)
    summary = {
        "run_name": run_dir.name,
        "model": cfg.model.name_or_path or "mini (from scratch)",
        "corpus": {"sources": [str(s) for s in cfg.corpus.sources], "hash": corpus_hash(list(cfg.corpus.sources)),
                   "articles": len(train_articles), "held_out_articles": len(held_articles),
                   "packing": cfg.corpus.packing, "training_tokens": sum(map(len, train_blocks))},
        "steps": trainer.state.global_step,
        "tokens_seen": round(tokens),
        "final_loss": losses[-1] if losses else training_loss,
        "held_out_loss": held_loss,
        "held_out_perplexity": math.exp(held_loss),
        "train_seconds": seconds,
        "tokens_per_second": round(tokens / seconds) if checkpoint is None else None,
        "precision": precision,
        "device": device_name(device),
        "settings": cfg.trainer.model_dump(),
    }
    export(trainer.model, tokenizer, cfg, summary, model_dir)
    write_json(run_dir / SUMMARY_FILE, summary)
    print(f"\nheld-out perplexity {summary['held_out_perplexity']:.1f} after {summary['steps']} steps "
          f"({summary['tokens_seen']:,} tokens, {summary['tokens_per_second'] or '-'} tokens/s)\nmodel: {model_dir}")
    return summary


def export(model, tokenizer, cfg: PretrainSettings, summary: dict, model_dir: Path) -> None:
    """The pretrained model as a ``save_pretrained`` folder with its card, written atomically."""
    with atomic_dir(model_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        Preprocessor.from_config(cfg.cleaning).save(tmp)
        write_json(tmp / SUMMARY_FILE, summary)
        write_text(tmp / "README.md", model_card(summary, model_dir))


def model_card(summary: dict, model_dir: Path) -> str:
    corpus = summary["corpus"]
    blocks = [
        Heading(f"{summary['run_name']}: a masked language model of Indonesian news", 1),
        Paragraph(f"Pretrained by kalimat ({summary['model']}) with masked-language modelling on "
                  f"{corpus['articles']} articles ({corpus['training_tokens']:,} tokens) of {', '.join(corpus['sources'])}, "
                  f"corpus hash {corpus['hash']}. It is a starting point for fine-tuning, not a sentence classifier: "
                  f"python -m train model=local model.name_or_path=models/{model_dir.name}"),
        Table(["measure", "value"], [
            ["steps", summary["steps"]],
            ["tokens seen", f"{summary['tokens_seen']:,}"],
            ["final training loss", "-" if summary["final_loss"] is None else f"{summary['final_loss']:.3f}"],
            ["held-out loss", f"{summary['held_out_loss']:.3f}"],
            ["held-out perplexity", f"{summary['held_out_perplexity']:.1f} ({corpus['held_out_articles']} articles, "
                                    f"packed like the training sequences: {corpus['packing']})"],
            ["tokens per second", summary["tokens_per_second"] or "-"],
            ["precision, device", f"{summary['precision']}, {summary['device']}"],
        ]),
        Paragraph("Settings: " + json.dumps(summary["settings"], sort_keys=True)),
    ]
    return card_front_matter("fill-mask", ["kalimat"]) + to_markdown(blocks)

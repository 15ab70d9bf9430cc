"""python -m train.pretrain: a short real pretraining run, and fine-tuning from its export."""

import json
import math
import shutil
import subprocess
import sys

import pytest
import torch
from tiny_models import seed_sentences
from transformers import BertConfig, BertForMaskedLM, TrainingArguments

from train.core.paths import ROOT
from train.modeling.mini_model import train_wordpiece
from train.modeling.pretraining import MaskedTokensTrainer, pack

TINY = ("model.hidden_size=32", "model.num_hidden_layers=1", "model.num_attention_heads=2",
        "model.intermediate_size=64", "model.vocab_size=500")


def test_packing_fills_sequences_with_whole_sentences_article_by_article():
    sentences = list(seed_sentences())
    tokenizer = train_wordpiece(sentences, vocab_size=500, min_frequency=1, max_length=128)
    articles = [sentences[:20], sentences[20:30]]
    blocks = pack(articles, tokenizer, max_length=128)
    assert all(len(b) <= 128 and b[0] == tokenizer.cls_token_id and b[-1] == tokenizer.sep_token_id for b in blocks)
    inner = [token for b in blocks for token in b[1:-1] if token != tokenizer.sep_token_id]
    expected = [t for article in articles for t in sum(tokenizer(article, add_special_tokens=False)["input_ids"], [])]
    assert inner == expected  # every token once, in order (no sentence of these is cut)
    first_of_second = tokenizer(articles[1][0], add_special_tokens=False)["input_ids"]
    assert any(b[1:1 + len(first_of_second)] == first_of_second for b in blocks)  # an article starts a sequence
    assert len(blocks) <= 30 / 2 and sum(len(b) for b in blocks) / (128 * len(blocks)) > 0.7  # packed, not padded


@pytest.mark.parametrize("bf16, expected", [(True, torch.bfloat16), (False, torch.float32)])
def test_the_masked_tokens_loss_runs_the_encoder_at_the_training_precision(tmp_path, bf16, expected):
    # The loss calls the unwrapped encoder, outside the autocast Accelerate puts around the
    # model's forward: trainer.precision=bf16 must still reach the matrix products.
    model = BertForMaskedLM(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1,
                                       num_attention_heads=2, intermediate_size=64))
    dtypes = []
    model.bert.encoder.layer[0].intermediate.dense.register_forward_hook(lambda m, i, out: dtypes.append(out.dtype))
    args = TrainingArguments(output_dir=str(tmp_path), bf16=bf16, use_cpu=True, report_to="none")
    trainer = MaskedTokensTrainer(model=model, args=args)
    input_ids = torch.randint(5, 100, (2, 16))
    labels = torch.where(torch.arange(16) % 4 == 0, input_ids, -100)
    loss = trainer.compute_loss(model, {"input_ids": input_ids, "labels": labels})
    assert dtypes == [expected] and loss.dtype == torch.float32 and loss.requires_grad


@pytest.mark.slow
def test_short_pretraining_exports_a_model_that_fine_tunes(tmp_path, train_env, run_train):
    command = [sys.executable, "-m", "train.pretrain", *TINY, "trainer.max_steps=3", "trainer.logging_steps=1",
               "trainer.per_device_train_batch_size=8", "corpus.held_out=0.2", "run_name=pt",
               f"corpus.sources=[{ROOT / 'seeds'}]",  # five articles: four train, one measures perplexity
               f"paths.runs_dir={tmp_path / 'runs'}", f"paths.models_dir={tmp_path / 'models'}"]
    process = subprocess.run(command, cwd=tmp_path, env=train_env(), capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    export = tmp_path / "models" / "pt"
    assert (export / "model.safetensors").is_file() and (export / "tokenizer.json").is_file()
    summary = json.loads((export / "pretraining.json").read_text())
    assert summary["steps"] == 3 and summary["tokens_seen"] > 0
    assert math.isfinite(summary["held_out_perplexity"]) and summary["held_out_perplexity"] > 1
    assert summary["corpus"]["articles"] == 4 and summary["corpus"]["held_out_articles"] == 1
    assert summary["corpus"]["hash"] in (export / "README.md").read_text()
    assert list((tmp_path / "runs" / "pt" / "tensorboard").glob("events.out.tfevents.*"))
    assert not (tmp_path / "runs" / "pt" / "checkpoints" / "runs").exists()  # the held-out evaluation's log too

    _, runs_dir, _ = run_train("data=seeds", "model=local", f"model.name_or_path={export}",
                               "trainer.num_train_epochs=1", "run_name=ft")
    report = json.loads((runs_dir / "ft" / "report.json").read_text())
    assert report["model"]["name"] == "local" and report["model"]["name_or_path"] == str(export)


def _pretrain(tmp_path, *overrides, env, **popen):
    command = [sys.executable, "-m", "train.pretrain", "trainer.per_device_train_batch_size=4",
               "trainer.max_length=32", "corpus.held_out=0.25", f"corpus.sources=[{tmp_path / 'corpus'}]",
               f"paths.runs_dir={tmp_path / 'runs'}", f"paths.models_dir={tmp_path / 'models'}", *overrides]
    if popen:
        return subprocess.Popen(command, cwd=tmp_path, env=env, text=True, **popen)
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("overrides, message", [
    ((*TINY, "trainer.max_steps=-1"), "error: trainer.max_steps=-1: expected a whole number >= 1"),
    ((*TINY, "trainer.max_steps=0"), "error: trainer.max_steps=0: expected a whole number >= 1"),
    ((*TINY, "trainer.learning_rate=abc"), "error: trainer.learning_rate=abc: expected a number > 0"),
    ((*TINY, "model.num_attention_heads=3"),
     "error: model.hidden_size=32: must be a multiple of model.num_attention_heads=3"),
    (("model=local",), "error: model=local needs model.name_or_path=<Hub id or folder>, "
                       "e.g. model.name_or_path=models/<run_name>"),
    ((*TINY, "corpus.held_out=2"),
     "error: corpus.held_out=2: expected a fraction of the articles in (0, 1), e.g. 0.05"),
    ((*TINY, "trainer.precision=fp16"), "error: trainer.precision=fp16"),
])
def test_a_bad_setting_is_refused_in_one_line_before_training(tmp_path, train_env, overrides, message):
    shutil.copytree(ROOT / "seeds", tmp_path / "corpus")
    process = _pretrain(tmp_path, *overrides, "run_name=bad", env=train_env(CUDA_VISIBLE_DEVICES=""))
    assert process.returncode == 2
    (line,) = process.stderr.strip().splitlines()
    assert line.startswith(message)


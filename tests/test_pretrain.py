"""python -m train.pretrain: a short real pretraining run, and fine-tuning from its export."""

import copy
import json
import math
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file
from tiny_models import seed_sentences
from transformers import BertConfig, BertForMaskedLM, TrainingArguments, tokenization_utils_base

from train.core.paths import ROOT
from train.modeling.mini_model import train_wordpiece
from train.modeling.pretraining import MaskedTokensTrainer, pack

TINY = ("model.hidden_size=32", "model.num_hidden_layers=1", "model.num_attention_heads=2",
        "model.intermediate_size=64", "model.vocab_size=500")


@pytest.fixture(scope="module")
def two_articles():
    sentences = list(seed_sentences())
    tokenizer = train_wordpiece(sentences, vocab_size=500, min_frequency=1, max_length=128)
    articles = [sentences[:20], sentences[20:30]]
    words = [t for article in articles for t in sum(tokenizer(article, add_special_tokens=False)["input_ids"], [])]
    return articles, tokenizer, words


def test_packing_by_article_fills_sequences_with_whole_sentences(two_articles):
    articles, tokenizer, words = two_articles
    blocks = pack(articles, tokenizer, max_length=128, packing="articles")
    assert all(len(b) <= 128 and b[0] == tokenizer.cls_token_id and b[-1] == tokenizer.sep_token_id for b in blocks)
    inner = [token for b in blocks for token in b[1:-1] if token != tokenizer.sep_token_id]
    assert inner == words  # every token once, in order (no sentence of these is cut)
    first_of_second = tokenizer(articles[1][0], add_special_tokens=False)["input_ids"]
    assert any(b[1:1 + len(first_of_second)] == first_of_second for b in blocks)  # an article starts a sequence
    assert len(blocks) <= 30 / 2 and sum(len(b) for b in blocks) / (128 * len(blocks)) > 0.7  # packed, not padded


def test_full_packing_lays_sentences_end_to_end_in_full_sequences(two_articles):
    articles, tokenizer, words = two_articles
    blocks = pack(articles, tokenizer, max_length=128, packing="full")
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    assert all(b[0] == cls and b[-1] == sep for b in blocks)
    assert [len(b) for b in blocks[:-1]] == [128] * (len(blocks) - 1) and len(blocks[-1]) <= 128  # no padding
    stream = [token for b in blocks for token in b[1:-1]]
    assert [t for t in stream if t != sep] == words  # every token once, in order
    assert stream.count(sep) == 29 + 1  # one [SEP] between sentences, one more between the two articles
    second = tokenizer(articles[1][0], add_special_tokens=False)["input_ids"]
    boundary = next(i for i in range(len(stream)) if stream[i:i + 2] == [sep, sep])
    assert stream[boundary + 2:boundary + 2 + len(second)] == second


def test_packing_long_sentences_prints_no_indexing_warning(two_articles, monkeypatch):
    """pack() cuts every sequence to max_length, so the tokenizer's "will result in indexing errors"
    warning, printed by every pretraining of IndoSum before, cannot apply and is not printed."""
    articles, tokenizer, _ = two_articles
    tokenizer = copy.deepcopy(tokenizer)
    tokenizer.model_max_length = 8
    warned = []
    monkeypatch.setattr(tokenization_utils_base.logger, "warning", lambda message, *args: warned.append(message))
    blocks = pack([[" ".join(articles[0])]], tokenizer, max_length=8)
    assert blocks and all(len(b) <= 8 for b in blocks)
    assert not [message for message in warned if "indexing errors" in message]


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
               "trainer.per_device_train_batch_size=8", "corpus.held_out=0.2", "corpus.packing=full", "run_name=pt",
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
    assert summary["corpus"]["hash"] in (export / "README.md").read_text() and summary["corpus"]["packing"] == "full"
    assert list((tmp_path / "runs" / "pt" / "tensorboard").glob("events.out.tfevents.*"))
    assert not (tmp_path / "runs" / "pt" / "checkpoints" / "runs").exists()  # the held-out evaluation's log too

    _, runs_dir, _ = run_train("data=seeds", "model=local", f"model.name_or_path={export}",
                               "trainer.num_train_epochs=1", "run_name=ft")
    report = json.loads((runs_dir / "ft" / "report.json").read_text())
    assert report["model"]["name"] == "local" and report["model"]["name_or_path"] == str(export)


@pytest.mark.slow
def test_a_run_killed_after_its_last_checkpoint_is_exported_without_another_step(tmp_path, train_env):
    shutil.copytree(ROOT / "seeds", tmp_path / "corpus")
    settings = (*TINY, "trainer.max_steps=2", "trainer.save_steps=1", "trainer.logging_steps=1", "run_name=pt")
    env = train_env()
    assert _pretrain(tmp_path, *settings, env=env).returncode == 0
    export = tmp_path / "models" / "pt"
    weights = load_file(export / "model.safetensors")
    shutil.rmtree(export)  # as if killed between the last checkpoint and the export
    (tmp_path / "runs" / "pt" / "pretraining.json").unlink()
    resumed = _pretrain(tmp_path, *settings, "train.resume=true", env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((export / "pretraining.json").read_text())["steps"] == 2  # the Trainer would have taken a third
    assert load_file(export / "model.safetensors").keys() == weights.keys()
    assert all(torch.equal(tensor, weights[name]) for name, tensor in load_file(export / "model.safetensors").items())


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
    (("model=local",), "error: model=local needs model.name_or_path=<folder or Hub id>, "
                       "e.g. python -m train.pretrain model=local model.name_or_path=models/<run_name>"),
    ((*TINY, "corpus.held_out=2"),
     "error: corpus.held_out=2: expected a fraction of the articles in (0, 1), e.g. 0.05"),
    ((*TINY, "trainer.precision=fp16"), "error: trainer.precision=fp16"),
    ((*TINY, "corpus.packing=mixed"), "error: corpus.packing=mixed: expected articles or full"),
])
def test_a_bad_setting_is_one_line_and_leaves_no_run_folder(tmp_path, train_env, overrides, message):
    shutil.copytree(ROOT / "seeds", tmp_path / "corpus")
    process = _pretrain(tmp_path, *overrides, "run_name=bad", env=train_env(CUDA_VISIBLE_DEVICES=""))
    assert process.returncode == 2
    (line,) = process.stderr.strip().splitlines()
    assert line.startswith(message)
    assert not (tmp_path / "runs" / "bad").exists() and not (tmp_path / "models" / "bad").exists()


@pytest.mark.slow
def test_an_interrupted_pretraining_resumes_with_its_own_tokenizer_and_settings(tmp_path, train_env):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    for path in seeds[:4]:
        shutil.copy(path, corpus)
    settings = (*TINY, "trainer.max_steps=150", "trainer.save_steps=1", "run_name=pt")
    env = train_env()
    assert "holds no interrupted pretraining" in _pretrain(tmp_path, *settings, "train.resume=true", env=env).stderr
    assert not (tmp_path / "runs" / "pt").exists()

    # As from a terminal: a suite started in the background (``make test &``) passes SIGINT on ignored.
    process = _pretrain(tmp_path, *settings, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    checkpoints = tmp_path / "runs" / "pt" / "checkpoints"
    deadline = time.monotonic() + 120
    while not list(checkpoints.glob("checkpoint-*/trainer_state.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()[1][-2000:]
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in stderr
    (last,) = [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("error:")]
    assert last.startswith(f"error: interrupted; the checkpoints in {checkpoints} are kept, continue with: "
                           "python -m train.pretrain ")
    assert last.endswith("run_name=pt train.resume=true")

    changed = _pretrain(tmp_path, *settings, "train.resume=true", "corpus.held_out=0.5", env=env)
    assert changed.returncode == 2 and "corpus.held_out differ from the interrupted run's config" in changed.stderr
    again = _pretrain(tmp_path, *settings, env=env)
    assert again.returncode == 2 and "continue it with train.resume=true" in again.stderr

    tokenizer = json.loads(next(checkpoints.glob("checkpoint-*/tokenizer.json")).read_text())
    config = tmp_path / "runs" / "pt" / "config.yaml"
    older = config.read_text().replace("  packing: articles\n", "")
    assert older != config.read_text()
    config.write_text(older)  # as a version before corpus.packing saved it: that run packed by article too
    shutil.copy(seeds[4], corpus)  # the corpus grew: a new WordPiece vocabulary would not fit the weights
    resumed = _pretrain(tmp_path, *settings, "train.resume=true", env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    export = tmp_path / "models" / "pt"
    assert json.loads((export / "tokenizer.json").read_text())["model"] == tokenizer["model"]
    assert json.loads((export / "pretraining.json").read_text())["steps"] == 150

    weights = (export / "model.safetensors").read_bytes()
    for overrides, refusal in [((), "holds a finished run; choose another run_name, or set train.overwrite=true"),
                               (("train.resume=true",), "holds a finished run, there is nothing to resume")]:
        process = _pretrain(tmp_path, *settings, *overrides, env=env)
        assert process.returncode == 2 and refusal in process.stderr
    assert (export / "model.safetensors").read_bytes() == weights
    replaced = _pretrain(tmp_path, *settings, "train.overwrite=true", "trainer.max_steps=2", env=env)
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    assert json.loads((export / "pretraining.json").read_text())["steps"] == 2


@pytest.mark.slow
def test_a_resumed_pretraining_equals_an_uninterrupted_one(tmp_path, train_env):
    """The masking collator's random state is kept in the checkpoints: before, a run resumed at
    step k masked its later batches differently and ended with other weights and perplexity."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted((ROOT / "seeds").glob("*.txt"))[:4]:
        shutil.copy(path, corpus)
    settings = (*TINY, "trainer.max_steps=40", "trainer.save_steps=2", "trainer.logging_steps=1")
    env = train_env()
    whole = _pretrain(tmp_path, *settings, "run_name=whole", env=env)
    assert whole.returncode == 0, whole.stderr[-3000:]

    process = _pretrain(tmp_path, *settings, "run_name=cut", env=env, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    checkpoints = tmp_path / "runs" / "cut" / "checkpoints"
    deadline = time.monotonic() + 120
    while not list(checkpoints.glob("checkpoint-*/trainer_state.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    assert process.communicate(timeout=60) and process.returncode == 130
    kept = max(int(p.parent.name.split("-")[1]) for p in checkpoints.glob("checkpoint-*/trainer_state.json"))
    assert 0 < kept < 40  # stopped midway
    resumed = _pretrain(tmp_path, *settings, "run_name=cut", "train.resume=true", env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    first, second = (json.loads((tmp_path / "models" / name / "pretraining.json").read_text()) for name in ("whole", "cut"))
    assert second["held_out_loss"] == first["held_out_loss"] and second["final_loss"] == first["final_loss"]
    expected = load_file(tmp_path / "models" / "whole" / "model.safetensors")
    assert all(torch.equal(tensor, expected[name])
               for name, tensor in load_file(tmp_path / "models" / "cut" / "model.safetensors").items())


@pytest.mark.slow
def test_ctrl_c_of_a_replacing_run_says_the_earlier_export_is_kept(tmp_path, train_env):
    shutil.copytree(ROOT / "seeds", tmp_path / "corpus")
    settings = (*TINY, "trainer.max_steps=1", "run_name=pt")
    env = train_env()
    assert _pretrain(tmp_path, *settings, env=env).returncode == 0
    export = tmp_path / "models" / "pt"
    weights = (export / "model.safetensors").read_bytes()
    # Reading the corpus from a standard input that stays open: interrupted while reading it.
    process = _pretrain(tmp_path, *settings, "train.overwrite=true", "corpus.sources=[-]", env=env,
                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    run_dir = tmp_path / "runs" / "pt"
    deadline = time.monotonic() + 60
    while (run_dir / "pretraining.json").exists() or not (run_dir / "config.yaml").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    (last,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert process.returncode == 130
    assert last == (f"error: interrupted before the first checkpoint; nothing was kept of this run; {export}, "
                    "the earlier run's export, is left as it was")
    assert (export / "model.safetensors").read_bytes() == weights

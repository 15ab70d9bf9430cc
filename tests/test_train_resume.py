"""``train.resume=true``: an interrupted run continues from its checkpoints to the result it would have had."""

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tiny_models import TINY_MINI

from train.core.locking import FileLock
from train.core.paths import ROOT

SETTINGS = (
    *TINY_MINI,
    "trainer.num_train_epochs=3",
    "cv.folds=3",
    "train.keep_checkpoints=true",
    "trainer.save_total_limit=null",
    "run_name=cut",
)


def _interrupt(run_dir, models_dir):
    """Make the finished run look killed during the first epochs of its last fold, while saving a checkpoint."""
    checkpoints = run_dir / "checkpoints"
    last_fold = sorted(p for p in checkpoints.glob("fold-*"))[-1]
    (last_fold / "result.json").unlink()
    first, *later = sorted(last_fold.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    for path in later:
        shutil.rmtree(path)
    # killed while the next checkpoint was being written: only its config.json made it to disk
    half_written = last_fold / "checkpoint-999"
    half_written.mkdir()
    shutil.copy(first / "config.json", half_written / "config.json")
    shutil.rmtree(checkpoints / "final")
    for name in ("report.json", "report.md", "predictions.jsonl", "cv_predictions.jsonl"):
        (run_dir / name).unlink()
    shutil.rmtree(models_dir / "cut")
    return last_fold.name, first


@pytest.mark.slow
def test_resumed_run_finishes_with_the_uninterrupted_result(run_train):
    _, runs_dir, models_dir = run_train(*SETTINGS)
    run_dir = runs_dir / "cut"
    whole = json.loads((run_dir / "report.json").read_text())
    whole_cv = (run_dir / "cv_predictions.jsonl").read_text()

    fold, checkpoint = _interrupt(run_dir, models_dir)
    process, _, _ = run_train(*SETTINGS, "train.resume=true")

    assert "fold-0: finished before, reusing its predictions" in process.stdout
    assert f"{fold}: resuming from {checkpoint}" in process.stdout
    resumed = json.loads((run_dir / "report.json").read_text())
    assert resumed["metrics"] == whole["metrics"]
    assert resumed["cv"] == whole["cv"]
    assert (run_dir / "cv_predictions.jsonl").read_text() == whole_cv
    assert (models_dir / "cut" / "model.safetensors").is_file()


def test_resume_without_an_interrupted_run_is_refused(run_train):
    process, _, _ = run_train(*TINY_MINI, "run_name=never", "train.resume=true", check=False)
    assert process.returncode == 2
    assert process.stderr.startswith("error: train.resume=true: ") and "holds no interrupted run" in process.stderr


def test_resume_with_changed_settings_is_refused(run_train, tmp_path):
    run_dir = tmp_path / "runs" / "cut"
    (run_dir / "checkpoints" / "fold-0").mkdir(parents=True)
    (run_dir / "checkpoints" / "fold-0" / "result.json").write_text("{}")  # a finished fold to continue from
    (run_dir / "config.yaml").write_text("seed: 7\n")
    process, _, _ = run_train(*TINY_MINI, "run_name=cut", "train.resume=true", check=False)
    assert process.returncode == 2
    assert "differ from the interrupted run's config" in process.stderr
    # Starting over in the folder of an interrupted run would mix two runs.
    process, _, _ = run_train(*TINY_MINI, "run_name=cut", check=False)
    assert process.returncode == 2 and "continue it with train.resume=true" in process.stderr


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_a_finished_run_is_not_replaced_unless_asked(run_train):
    _, runs_dir, models_dir = run_train(*TINY_MINI, "trainer.num_train_epochs=1", "cv.folds=3", "run_name=twice")
    run_dir = runs_dir / "twice"
    before = _files(run_dir)
    assert ".hydra/overrides.yaml" in before
    weights = (models_dir / "twice" / "model.safetensors").read_bytes()
    process, _, _ = run_train(*TINY_MINI, "trainer.num_train_epochs=1", "seed=7", "run_name=twice", check=False)
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [
        f"error: run_name=twice: {run_dir} holds a finished run; choose another run_name, "
        "or set train.overwrite=true to replace it"
    ]
    assert _files(run_dir) == before, "a refused run leaves the finished run's folder as it was, .hydra/ included"
    # A replacement refused by its settings touches nothing either.
    process, _, _ = run_train(*TINY_MINI, "trainer.num_train_epochs=1", "seed=7", "run_name=twice",
                              "train.overwrite=true", "model.hidden_dropout_prob=1.5", check=False)
    assert process.returncode == 2 and "model.hidden_dropout_prob=1.5" in process.stderr
    assert _files(run_dir) == before
    assert (models_dir / "twice" / "model.safetensors").read_bytes() == weights
    # Refused before the offline preset pretrains its missing checkpoint, not after.
    process, _, _ = run_train("experiment=offline", "run_name=twice", "model.pretrain.run_name=never", check=False)
    assert process.returncode == 2 and "holds a finished run" in process.stderr
    assert "pretraining it first" not in process.stdout and not (models_dir / "never").exists()

    run_train(*TINY_MINI, "trainer.num_train_epochs=1", "seed=7", "run_name=twice", "train.overwrite=true")
    assert json.loads((run_dir / "report.json").read_text())["hyperparameters"]["seed"] == 7
    assert "- seed=7" in (run_dir / ".hydra" / "overrides.yaml").read_text()
    # Nothing of the replaced run is left: no out-of-fold predictions, no fold logs, one training log.
    assert not (run_dir / "cv_predictions.jsonl").exists()
    assert [p.name for p in (run_dir / "tensorboard").iterdir()] == ["final"]
    assert len(list((run_dir / "tensorboard" / "final").iterdir())) == 1


@pytest.mark.slow
def test_a_run_killed_before_its_first_checkpoint_does_not_block_its_name(run_train, tmp_path):
    run_dir = tmp_path / "runs" / "killed"
    (run_dir / "checkpoints").mkdir(parents=True)  # what a kill after the run started and before a checkpoint leaves
    (run_dir / "checkpoints" / "dataset.json").write_text('{"content_hash": "0123456789abcdef"}')
    (run_dir / "config.yaml").write_text("seed: 7\n")
    process, _, _ = run_train(*TINY_MINI, "run_name=killed", "train.resume=true", check=False)
    assert process.returncode == 2 and "holds no interrupted run" in process.stderr
    run_train(*TINY_MINI, "trainer.num_train_epochs=1", "run_name=killed")
    assert (run_dir / "report.json").is_file() and not (run_dir / "checkpoints").exists()


def test_a_refused_run_leaves_a_folder_it_did_not_make(run_train, tmp_path):
    # A finished pretraining of the same name: python -m train refuses the name and must not remove its folder.
    run_dir = tmp_path / "runs" / "taken"
    run_dir.mkdir(parents=True)
    (run_dir / "pretraining.json").write_text("{}")
    (tmp_path / "models" / "taken").mkdir(parents=True)
    process, _, _ = run_train(*TINY_MINI, "run_name=taken", check=False)
    assert process.returncode == 2 and "holds a finished run" in process.stderr
    assert [p.name for p in run_dir.iterdir()] == ["pretraining.json"]


def _ctrl_c(settings, run_name, ready, tmp_path, train_env, processed_dir, multirun=False) -> tuple[int, str, Path]:
    """Start ``python -m train`` (``-m``: a multirun of one job) and press Ctrl-C once ``ready(run_dir)`` holds.

    Returns the exit status, the one ``error:`` line and the run folder.
    """
    command = [sys.executable, "-m", "train", *(["-m"] if multirun else []), *settings, f"run_name={run_name}",
               f"paths.runs_dir={tmp_path / 'runs'}", f"paths.models_dir={tmp_path / 'models'}",
               f"paths.processed_dir={processed_dir}"]
    # As from a terminal: a suite started in the background (``make test &``) passes SIGINT on ignored.
    process = subprocess.Popen(command, cwd=tmp_path, env=train_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    def run_dir():
        jobs = list((tmp_path / "runs" / "multirun").glob(f"*/{run_name}-*")) if multirun else []
        return jobs[0] if jobs else tmp_path / "runs" / run_name

    deadline = time.monotonic() + 120
    while not ready(run_dir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, process.communicate()[1][-2000:]
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr
    (last,) = [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("error:")]
    return process.returncode, last, run_dir()


@pytest.mark.slow
def test_ctrl_c_during_training_is_one_line_with_the_command_to_continue(tmp_path, train_env, processed_dir):
    # 200 epochs without early stopping: still training, whatever the machine's speed, when Ctrl-C comes.
    settings = (*TINY_MINI, "trainer.num_train_epochs=200", "trainer.early_stopping_patience=0")
    def ready(run_dir):
        return list((run_dir / "checkpoints" / "final").glob("checkpoint-*/trainer_state.json"))

    returncode, last, run_dir = _ctrl_c(settings, "stopped", ready, tmp_path, train_env, processed_dir)
    assert returncode == 130
    assert last.startswith(f"error: interrupted; the checkpoints in {run_dir / 'checkpoints'} "
                           "are kept, continue with: python -m train ")
    assert last.endswith("run_name=stopped train.resume=true")


@pytest.mark.slow
def test_the_command_printed_at_ctrl_c_continues_a_multirun_job(tmp_path, train_env, processed_dir):
    # The job's folder is runs/multirun/<time>/<job name>, and its config records the run_name it was given.
    settings = (*TINY_MINI, "seed=1,2", "trainer.num_train_epochs=30", "trainer.early_stopping_patience=0")
    def ready(run_dir):
        return list((run_dir / "checkpoints" / "final").glob("checkpoint-*/trainer_state.json"))

    returncode, last, run_dir = _ctrl_c(settings, "job", ready, tmp_path, train_env, processed_dir, multirun=True)
    assert returncode == 130 and run_dir.parent.parent.name == "multirun"
    assert "(job 0 of a -m sweep: the jobs after it never started; run them with the same -m command" in last
    python, *command = shlex.split(last.split("continue with: ")[1])
    assert python == "python" and "run_name=job" in command and f"hydra.run.dir={run_dir}" in command
    process = subprocess.run([sys.executable, *command], cwd=tmp_path, env=train_env(), capture_output=True, text=True)
    assert process.returncode == 0, process.stderr[-2000:]
    assert "final: resuming from" in process.stdout
    assert json.loads((run_dir / "report.json").read_text())["run_name"] == run_dir.name
    assert (tmp_path / "models" / run_dir.name / "model.safetensors").is_file()


@pytest.mark.slow
def test_ctrl_c_before_the_first_checkpoint_leaves_no_run_folder(tmp_path, train_env, processed_dir):
    # The default mini size, one sentence a step: the first epoch, and its checkpoint, are seconds away.
    settings = ("data=seeds", "model=mini", "trainer=from_scratch", "trainer.per_device_train_batch_size=1")
    def ready(run_dir):
        return (run_dir / "checkpoints" / "dataset.json").is_file()

    returncode, last, run_dir = _ctrl_c(settings, "early", ready, tmp_path, train_env, processed_dir)
    assert returncode == 130
    assert last == "error: interrupted before the first checkpoint; nothing was kept"
    assert not run_dir.exists()


def test_ctrl_c_during_a_finalizer_still_stops_the_run(tmp_path):
    # Python drops a KeyboardInterrupt raised inside __del__ (as when Ctrl-C lands while a
    # datasets.Dataset is freed): the run went on to its end. It must stop, with the one line.
    script = tmp_path / "finalizer.py"
    script.write_text(textwrap.dedent("""
        import signal, time
        from train.core.errors import Interrupted, exit_on_error

        class Freed:
            def __del__(self):
                signal.raise_signal(signal.SIGINT)

        @exit_on_error
        def main():
            try:
                Freed()
                time.sleep(30)
            except KeyboardInterrupt:
                raise Interrupted("stopped") from None
            print("finished")

        main()
    """))
    process = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert (process.returncode, process.stdout, process.stderr) == (130, "", "error: stopped\n")


@pytest.mark.slow
def test_resume_on_changed_data_is_refused(run_train):
    settings = (*TINY_MINI, "trainer.num_train_epochs=1", "train.keep_checkpoints=true", "run_name=drift")
    _, runs_dir, _ = run_train(*settings)
    record = runs_dir / "drift" / "checkpoints" / "dataset.json"
    current = json.loads(record.read_text())["content_hash"]
    record.write_text(json.dumps({"content_hash": "0123456789abcdef"}))  # as if the annotations changed since
    process, _, _ = run_train(*settings, "train.resume=true", check=False)
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [
        "error: train.resume=true: the dataset changed since the run was interrupted (content hash 0123456789ab, "
        f"now {current[:12]}); start a new run, its finished folds were trained on the old data"
    ]


def test_a_second_run_with_the_same_run_name_is_refused(run_train, tmp_path):
    lock = tmp_path / "runs" / ".busy.lock"
    lock.parent.mkdir()
    with FileLock(lock):  # as if another run of that name were training
        process, runs_dir, _ = run_train(*TINY_MINI, "run_name=busy", check=False)
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [
        f"error: run_name=busy: another run (process {os.getpid()}) is using {runs_dir / 'busy'} (lock {lock}); "
        "wait for it to finish, or choose another run_name"
    ]
    assert sorted(p.name for p in runs_dir.iterdir()) == []  # nothing written, not even Hydra's files


# Short runs, so that a job that is not refused fails the test quickly.
@pytest.mark.parametrize("command, settings", [
    ("train", (*TINY_MINI, "trainer.num_train_epochs=1")),
    ("train.pretrain", ("trainer.max_steps=1", f"corpus.sources=[{ROOT / 'seeds'}]")),
])
def test_a_sweep_job_whose_folder_is_in_use_is_refused(run_train, tmp_path, command, settings):
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    lock = sweep_dir / ".busy.lock"
    with FileLock(lock):  # as if another job were writing into the folder this job is given
        process, _, _ = run_train(*settings, "run_name=busy", f"hydra.sweep.dir={sweep_dir}", "hydra.sweep.subdir=busy",
                                  launcher=(sys.executable, "-m", command, "-m"), check=False)
    assert process.returncode != 0
    assert f"error: run_name=busy: another run (process {os.getpid()}) is using {sweep_dir / 'busy'}" in process.stderr
    assert not any((sweep_dir / "busy").iterdir())


@pytest.mark.parametrize("command, other, section, settings", [
    ("train", "train.pretrain", "corpus", (*TINY_MINI, "trainer.num_train_epochs=1")),
    ("train.pretrain", "train", "data", ("trainer.max_steps=1", f"corpus.sources=[{ROOT / 'seeds'}]")),
])
def test_a_run_name_holding_the_other_commands_run_is_refused(run_train, tmp_path, command, other, section, settings):
    # The other command's interrupted run: its checkpoints are laid out where this command
    # does not look; its saved config has the section only that command's config has.
    run_dir = tmp_path / "runs" / "shared"
    (run_dir / "checkpoints" / "checkpoint-1").mkdir(parents=True)
    (run_dir / "config.yaml").write_text(f"seed: 1\n{section}:\n  held_out: 0.05\n")
    process, _, _ = run_train(*settings, "run_name=shared", launcher=(sys.executable, "-m", command), check=False)
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [
        f"error: run_name=shared: {run_dir} holds a python -m {other} run, which this command would delete; "
        "choose another run_name"]
    assert sorted(p.name for p in run_dir.rglob("*")) == ["checkpoint-1", "checkpoints", "config.yaml"]


@pytest.mark.slow
def test_a_lock_left_by_a_killed_run_does_not_block_the_next(run_train, tmp_path):
    lock = tmp_path / "runs" / ".after-kill.lock"
    lock.parent.mkdir()
    lock.write_text("999999\n")  # the file a killed run leaves; the kernel dropped its lock
    _, runs_dir, _ = run_train(*TINY_MINI, "trainer.num_train_epochs=1", "run_name=after-kill")
    assert (runs_dir / "after-kill" / "report.json").is_file() and not lock.exists()

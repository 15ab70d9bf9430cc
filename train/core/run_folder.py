"""A run folder's bookkeeping, the same for ``python -m train`` and ``python -m train.pretrain``.

Both start a new run in an emptied folder, save the run's settings there and compare them on
resume, and end a run that stops early the same way (:class:`RunFolder`).
"""

import shlex
import shutil
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from .atomic import empty_dir, write_text
from .dotted import MISSING, flatten
from .distributed import process_state
from .errors import Interrupted, KalimatError
from .locking import lock_run_dir

CONFIG_FILE = "config.yaml"
CHECKPOINTS = "checkpoints"
# The section only each command's config has: the saved config.yaml tells which command made
# a run folder. The two lay out their checkpoints differently, so neither could tell the
# other's interrupted run from an empty folder.
COMMAND_SECTIONS = {"train": "data", "train.pretrain": "corpus"}


def save_run_config(cfg: DictConfig, run_dir: Path) -> None:
    """The resolved ``config.yaml`` and Hydra's ``.hydra/`` files, written once the run is accepted.

    Hydra would write ``.hydra/`` itself before the run is checked, over the files of a run it
    then refuses (``hydra.output_subdir: null`` in configs/hydra/default.yaml stops it).
    """
    hydra_cfg = HydraConfig.instance().cfg
    write_text(run_dir / CONFIG_FILE, OmegaConf.to_yaml(OmegaConf.to_container(cfg, resolve=True)))
    for name, node in (("config.yaml", cfg), ("hydra.yaml", hydra_cfg), ("overrides.yaml", hydra_cfg.hydra.overrides.task)):
        write_text(run_dir / ".hydra" / name, OmegaConf.to_yaml(node))


def check_resumable(run_dir: Path, cfg: DictConfig, resumable: bool, what: str) -> None:
    """Refuse ``train.resume=true`` on a folder without a checkpoint, or with other settings than it was started with.

    Resuming with other settings (another corpus, model or number of steps) would silently
    mix two runs into one model.
    """
    config_file = run_dir / CONFIG_FILE
    if not (resumable and config_file.is_file()):
        raise KalimatError(f"train.resume=true: {run_dir} holds no interrupted {what}; name it with "
                           f"run_name=<folder name in {run_dir.parent}>, or drop train.resume to start a new run")
    changed = _changed(OmegaConf.to_container(OmegaConf.load(config_file)), OmegaConf.to_container(cfg, resolve=True))
    if changed:
        raise KalimatError(f"train.resume=true: {', '.join(changed[:5])} differ from the interrupted run's config "
                           f"({config_file}); resume with the same settings or start a new run")


def _changed(old: dict, new: dict) -> list[str]:
    """The dotted keys whose values differ.

    ``train.*`` (how the run is driven) is not compared, nor a setting the interrupted run's
    config lacks: a later version added it, with the earlier behaviour as its default.
    """
    old, new = flatten(old), flatten(new)
    return [key for key in sorted(old) if not key.startswith("train.") and old[key] != new.get(key, MISSING)]


class RunFolder:
    """A run's folder (``runs/<run_name>``) and what is left of it when the run stops early.

    On a refusal, a failure or Ctrl-C a folder with nothing to resume or read is removed, since
    left behind it would look like a run to ``kalimat-compare`` and block its ``run_name``; but
    only if this run made it, or emptied it to start afresh (:meth:`start`), and it holds no
    complete checkpoint and no finished run's ``result_file``: a folder the run found holding
    someone else's files (a finished or interrupted run it refused to replace, another
    command's run of the same name) is never touched. Ctrl-C becomes one line saying what was kept and the command that continues the
    run, not a traceback.
    """

    def __init__(self, command: str, cfg: DictConfig, resumable: Callable[[Path], bool], result_file: str):
        """The Hydra job's output folder, locked by the main process for as long as it runs.

        A single run holds the lock already (``RunFolderLock`` takes it before Hydra makes
        the folder); a multirun job's folder, new and time-stamped, is locked here. The run's
        export goes to ``paths.models_dir/<folder name>``. ``cfg``, the composed config, is
        what the folder saves and what a resume is compared with.
        """
        self.path = Path(HydraConfig.get().runtime.output_dir)
        self.config = cfg
        self.export = Path(cfg.paths.models_dir) / self.path.name
        self.command, self.resumable, self.result_file = command, resumable, result_file
        if process_state().is_main_process:
            lock_run_dir(self.path)
        other = self._other_command()
        if other is not None:
            raise KalimatError(f"run_name={self.path.name}: {self.path} holds a python -m {other} run, "
                               "which this command would delete; choose another run_name")
        # Hydra makes the folder before the run starts; its log file is all it may hold by then.
        self.owned = not self.path.is_dir() or {
            p.name for p in self.path.iterdir()} <= {f"{HydraConfig.get().job.name}.log"}

    def admit(self, resume: bool, overwrite: bool, what: str) -> None:
        """Refuse to mix two runs in one folder or to replace a finished one; writes nothing.

        Finished means the folder holds the run's result file; a new run (not a resume) must
        not replace that, nor an export of the same name, unless ``train.overwrite=true``. An
        interrupted run (checkpoints, no result) is continued with ``train.resume=true`` only,
        with the settings it started with.
        """
        result = self.path / self.result_file
        if resume:
            check_resumable(self.path, self.config, self.resumable(self.path), what)
            return
        if self.resumable(self.path) and not result.is_file():
            raise KalimatError(f"{self.path} already holds checkpoints (an interrupted {what}); continue it with "
                               "train.resume=true, or choose another run_name")
        finished = self.path if result.is_file() else self.export if self.export.exists() else None
        if finished is not None and not overwrite:
            raise KalimatError(f"run_name={self.path.name}: {finished} holds a finished run; choose another "
                               "run_name, or set train.overwrite=true to replace it")

    def start(self, resume: bool) -> None:
        """Once the run is accepted: empty the folder (unless resuming) and save the run's settings in it.

        A new run starts from an empty folder, so nothing of a run it replaces
        (``train.overwrite=true``) is left beside its own files.
        """
        if not resume:
            empty_dir(self.path)
            self.owned = True
        save_run_config(self.config, self.path)

    def _other_command(self) -> str | None:
        """The other command, when the folder's saved config shows that it made the folder."""
        config_file = self.path / CONFIG_FILE
        if not config_file.is_file():
            return None
        sections = set(OmegaConf.load(config_file))
        if COMMAND_SECTIONS[self.command] in sections:
            return None
        return next((command for command, section in COMMAND_SECTIONS.items() if section in sections), None)

    @contextmanager
    def stopping_cleanly(self):
        try:
            yield
        except KalimatError:
            self._discard_unfinished()
            raise
        except KeyboardInterrupt:
            print(file=sys.stderr)  # on a line of its own: a progress bar was most likely drawing on the current one
            if self.resumable(self.path):
                raise Interrupted(
                    f"interrupted; the checkpoints in {self.path / CHECKPOINTS} are kept{self._sweep_note()}, "
                    f"continue with: {self.resume_command()}"
                ) from None
            self._discard_unfinished()
            # A run replacing a finished one (train.overwrite=true) has not touched its export yet.
            earlier = f" of this run; {self.export}, the earlier run's export, is left as it was" \
                if self.export.exists() else ""
            raise Interrupted(f"interrupted before the first checkpoint; nothing was kept{earlier}"
                              f"{self._sweep_note()}") from None

    def _sweep_note(self) -> str:
        """In a ``-m`` sweep, Ctrl-C stops the whole sweep: the jobs after this one never started."""
        if HydraConfig.get().mode != RunMode.MULTIRUN:
            return ""
        return (f" (job {HydraConfig.get().job.num} of a -m sweep: the jobs after it never started; run them "
                "with the same -m command, leaving out the values of the jobs that finished)")

    def resume_command(self) -> str:
        """The command that continues this run: its overrides, its ``run_name`` and, if need be, its folder.

        ``run_name`` is the one its ``config.yaml`` records (written before any checkpoint), which
        the resumed run must match. A multirun job's folder (``runs/multirun/<time>/<job name>``)
        is not where ``run_name`` alone leads, so the command names it with ``hydra.run.dir``.
        """
        saved = OmegaConf.load(self.path / CONFIG_FILE)
        overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith(("train.resume", "run_name="))]
        overrides.append(f"run_name={saved.run_name}")
        if self.path.absolute() != Path(saved.paths.runs_dir, saved.run_name).absolute():
            overrides.append(f"hydra.run.dir={self.path}")
        return shlex.join(["python", "-m", self.command, *overrides, "train.resume=true"])

    def _discard_unfinished(self) -> None:
        if (self.owned and process_state().is_main_process and self.path.is_dir() and not self.resumable(self.path)
                and not (self.path / self.result_file).is_file()):
            shutil.rmtree(self.path, ignore_errors=True)

"""Quiet step output for long commands: one line per step on the terminal, everything else in `<run>/logs/`.

    console = Console(run / "logs", verbose=False)
    with console.step("train C-plan s1", "train-C-plan-s1") as step:
        ...                       # prints, progress bars, library warnings -> logs/train-C-plan-s1.log
    console.say(f"train C-plan s1 -> models/... ({step.seconds:.1f} s)")
    console.close()

The redirection is at the file-descriptor level (`os.dup2` on 1 and 2), so it also catches what C
extensions, subprocesses (the sandbox) and loggers holding the old `sys.stderr` write. Between steps the
output goes to `logs/experiment.log`. With `verbose=True` nothing is redirected. A step that raises
writes its traceback to its log and is re-raised as `StepFailed`, which names the step and the log.
"""

import os
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from codereps.memory import memory_line, reset_peak_rss


class StepFailed(RuntimeError):
    """A step raised: what failed, why, and where its log is."""

    def __init__(self, step: str, log: Path | None, error: BaseException):
        self.step, self.log, self.error = step, log, error
        where = f" (log: {log})" if log else ""
        super().__init__(f"{step} failed: {error}{where}")


@dataclass
class StepTimer:
    started: float
    seconds: float = 0.0


class Console:
    def __init__(self, logs: Path, verbose: bool = False):
        self.logs, self.verbose = Path(logs), verbose
        self.logs.mkdir(parents=True, exist_ok=True)
        if verbose:
            self.out, self.err, self._saved = sys.stdout, sys.stderr, None
            return
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = (os.dup(1), os.dup(2))
        self.out = os.fdopen(os.dup(self._saved[0]), "w", buffering=1)
        self.err = os.fdopen(os.dup(self._saved[1]), "w", buffering=1)
        self._redirect(self.logs / "experiment.log")

    def say(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    def error(self, message: str) -> None:
        print(message, file=self.err, flush=True)

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    @contextmanager
    def step(self, title: str, log_name: str):
        """Run a step with its output in `logs/<log_name>.log`; a ticking line on a terminal while it runs."""
        timer = StepTimer(started=time.perf_counter())
        reset_peak_rss()  # the line below reports this step's own peak
        log = None if self.verbose else self.log_path(log_name)
        if log is not None:
            self._redirect(log)
        ticker = self._start_ticker(title, timer)
        try:
            yield timer
        except (KeyboardInterrupt, StepFailed):
            raise
        except Exception as e:
            traceback.print_exc()  # into the step's log
            raise StepFailed(title, log, e) from e
        finally:
            timer.seconds = time.perf_counter() - timer.started
            # into the step's log: what a long study holds in memory, step by step (the peak is this step's)
            print(f"[{title}] {timer.seconds:.1f} s; {memory_line()}", flush=True)
            if ticker is not None:
                ticker.set()
            if log is not None:
                self._redirect(self.logs / "experiment.log")

    def close(self) -> None:
        if self._saved is None:
            return
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in self._saved:
            os.close(fd)
        self._saved = None

    def _redirect(self, path: Path) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)

    def _start_ticker(self, title: str, timer: StepTimer) -> threading.Event | None:
        """One self-rewriting line (`title ... 12 s`) on a terminal; nothing in a pipe or a log."""
        if self.verbose or not self.out.isatty():
            return None
        stop = threading.Event()

        def tick():
            while not stop.wait(1.0):
                self.out.write(f"\r  {title} ... {time.perf_counter() - timer.started:.0f} s")
                self.out.flush()
            self.out.write("\r\033[K")
            self.out.flush()

        threading.Thread(target=tick, daemon=True).start()
        return stop

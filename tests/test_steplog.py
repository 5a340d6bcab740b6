"""Quiet steps: the terminal gets one line per step, the step's own output (also from C and subprocesses) its log."""

import subprocess
import sys

SCRIPT = """
import os, subprocess, sys, warnings
from pathlib import Path
from trainers.steplog import Console, StepFailed

console = Console(Path(sys.argv[1]), verbose=False)
with console.step("train X", "train-x") as step:
    print("loss 1.0")
    warnings.warn("a library warning")
    os.write(2, b"written by C\\n")
    subprocess.run([sys.executable, "-c", "print('from a subprocess')"])
console.say(f"train X -> models/x ({step.seconds:.1f} s)")
try:
    with console.step("evaluate X", "evaluate-x"):
        raise RuntimeError("out of luck")
except StepFailed as e:
    console.error(f"error: {e}")
console.close()
print("after close")
"""


def test_step_output_goes_to_its_log_and_a_failure_names_it(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True)
    assert done.stdout.splitlines()[0].startswith("train X -> models/x (")
    assert done.stdout.splitlines()[1] == "after close" and len(done.stdout.splitlines()) == 2
    assert (
        done.stderr.strip() == f"error: evaluate X failed: out of luck (log: {tmp_path / 'evaluate-x.log'})"
    )
    log = (tmp_path / "train-x.log").read_text()
    for text in ("loss 1.0", "a library warning", "written by C", "from a subprocess"):
        assert text in log
    assert "Traceback" in (tmp_path / "evaluate-x.log").read_text()

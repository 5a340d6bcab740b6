"""The datatrove builder: equal to the in-process builder for any --tasks and executor, resumable, never half-published.

The in-process builder (`--executor datasets`, `Dataset.from_generator`) is the reference: the same input gives
the same rows, in the same order, and the same counts by reason under the local executor (several tasks), a
local Ray instance and the Slurm executor (its job script as datatrove writes it; `sbatch` is the one fake).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dataset_fixtures import build, load_config, load_report, read_config

DEEP_EXPRESSION = "def deep():\n    return " + "(" * 10_000 + "1" + ")" * 10_000 + "\n"
COUNTED = ("items_read", "rows_written", "removed_by_filter", "skipped", "ir_failures_kept", "empty_splits")


def hostile_project(root: Path) -> Path:
    """Good modules plus the hostile files of test_dataset_bad_input (not the slow 50,000-line function)."""
    project = root / "project"
    (project / "pkg").mkdir(parents=True)
    for i in range(9):
        (project / f"m{i}.py").write_text(
            "".join(f"def f{i}_{k}(a):\n    if a:\n        return {k}\n    return a\n\n" for k in range(5))
            + f"class C{i}:\n    def m(self):\n        return {i}\n"
        )
    (project / "pkg" / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9'\n"
    )
    (project / "pkg" / "not_utf8.py").write_bytes(b"def f():\n    return '\xff\xfe'\n")
    (project / "pkg" / "nul.py").write_bytes(b"def f():\n    return 1\x00\n")
    (project / "pkg" / "deep.py").write_text(DEEP_EXPRESSION)
    (project / "pkg" / "py2.py").write_text("def f():\n    print 'hello'\n")
    return project


def assert_same_build(folder, reference, config):
    got, want = load_report(folder, config), load_report(reference, config)
    assert {k: got[k] for k in COUNTED} == {k: want[k] for k in COUNTED}
    assert got["skipped_examples"] == want["skipped_examples"]
    tables, reference_tables = read_config(folder, config), read_config(reference, config)
    assert tables.keys() == reference_tables.keys()
    for split, table in reference_tables.items():
        assert tables[split].to_pylist() == table.to_pylist(), split  # same rows, same (input) order


@pytest.fixture(scope="module")
def reference_local(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    project = hostile_project(root)
    assert (
        build(
            "build",
            "--source",
            "local",
            "--input",
            project,
            "--output",
            root / "ds",
            "--executor",
            "datasets",
        )
        == 0
    )
    return project, root / "ds"


@pytest.mark.parametrize("tasks, workers", [(1, 1), (4, 1), (5, 2)])
def test_local_executor_equals_the_in_process_build(tmp_path, reference_local, tasks, workers):
    project, reference = reference_local
    folder = tmp_path / "ds"
    assert build("build", "--source", "local", "--input", project, "--output", folder,
                 "--tasks", tasks, "--workers", workers) == 0  # fmt: skip
    assert_same_build(folder, reference, "local")
    assert load_report(reference, "local")["skipped"] == {
        "decode_error": 1, "nul_bytes": 1, "syntax_error": 1, "too_deep": 1,
    }  # fmt: skip
    report = load_report(folder, "local")
    assert (report["executor"], report["tasks"], report["workers"]) == ("local", tasks, workers)
    files = report["splits"]["train"]["files"]
    assert all(
        f.startswith("data/local/train-") and f.endswith(f"-of-{len(files):05d}.parquet") for f in files
    )
    assert not (folder / ".staging").exists()
    assert load_config(folder, "local", split="train").num_rows == report["splits"]["train"]["num_examples"]


def test_codesearchnet_bad_lines_and_filter_counts_match(tmp_path, shared_data):
    """JSON lines (invalid, not an object, missing field, truncated gzip) and the seed filter, over 3 tasks."""
    import gzip

    sample = shared_data / "codesearchnet" / "python_sample.jsonl.gz"
    lines = gzip.decompress(sample.read_bytes()).decode().splitlines()[:400]
    lines[3], lines[10], lines[20] = "{not json", "[1, 2]", json.dumps({"partition": "test"})
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "python_test_0.jsonl.gz"
    path.write_bytes(data[: len(data) - 300])  # truncated
    reference, folder = tmp_path / "reference", tmp_path / "ds"
    common = ("build", "--source", "codesearchnet", "--input", path, "--filter", "seed")
    assert build(*common, "--output", reference, "--executor", "datasets") == 0
    assert build(*common, "--output", folder, "--tasks", 3, "--workers", 2) == 0
    assert_same_build(folder, reference, "codesearchnet")
    skipped = load_report(folder, "codesearchnet")["skipped"]
    assert skipped["invalid_json"] == skipped["not_an_object"] == skipped["truncated_input"] == 1
    assert load_report(folder, "codesearchnet")["removed_by_filter"]


def _slow_project(root: Path) -> Path:
    """Four files, one per task of `--tasks 4`; the last one takes seconds to serialize."""
    project = root / "project"
    project.mkdir()
    for i in range(3):
        (project / f"a{i}.py").write_text("".join(f"def f{k}(x):\n    return x + {k}\n\n" for k in range(20)))
    (project / "a3_slow.py").write_text(
        "def long_one(x):\n" + "".join(f"    x = x + {i}\n" for i in range(30_000)) + "    return x\n"
    )
    return project


@pytest.mark.slow  # two CLI processes and a 30,000-line function: ~15 s
def test_a_killed_build_reruns_only_unfinished_tasks_and_never_half_publishes(tmp_path):
    project = _slow_project(tmp_path)
    folder = tmp_path / "ds"
    old = tmp_path / "old"
    old.mkdir()
    (old / "old.py").write_text("def old(x):\n    return x\n")
    assert build("build", "--source", "local", "--input", old, "--output", folder, "--workers", 1) == 0
    published = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    command = [sys.executable, "-m", "codereps", "dataset", "build", "--source", "local", "--input", str(project),
               "--output", str(folder), "--tasks", "4", "--workers", "1", "--overwrite"]  # fmt: skip
    staged = folder / ".staging" / "local"
    completions = staged / "logs" / "completions"
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while not (completions / "00002").exists():  # tasks 0-2 done, task 3 (the slow file) running
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert {
        p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and ".staging" not in p.parts
    } == published
    assert sorted(p.name for p in completions.iterdir()) == ["00000", "00001", "00002"]

    (completions / "00000").unlink()  # task 0 is redone too
    long_ago = (
        946_684_800  # 2000-01-01: the finished tasks' parts are marked, to tell them from rewritten ones
    )
    for part in (staged / "parts").rglob("*.parquet"):
        os.utime(part, (long_ago, long_ago))
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 of 4 task(s) already finished" in result.stdout
    report = load_report(folder, "local")
    # The published files are hard links of the parts: tasks 1 and 2 were not run again, 0 and 3 were.
    published_mtimes = [(folder / f).stat().st_mtime for f in report["splits"]["train"]["files"]]
    assert [t == long_ago for t in published_mtimes] == [False, True, True, False]
    assert not staged.exists()

    reference = tmp_path / "reference"
    assert (
        build(
            "build", "--source", "local", "--input", project, "--output", reference, "--executor", "datasets"
        )
        == 0
    )
    assert_same_build(folder, reference, "local")


def test_a_different_build_does_not_resume_from_another_ones_staging(tmp_path, reference_local, capsys):
    project, reference = reference_local
    folder = tmp_path / "ds"
    staged = folder / ".staging" / "local"
    (staged / "logs" / "completions").mkdir(parents=True)
    (staged / "build.json").write_text(json.dumps({"config": "local", "tasks": 99}))
    (staged / "logs" / "completions" / "00000").touch()
    assert build("build", "--source", "local", "--input", project, "--output", folder, "--tasks", 2,
                 "--workers", 1) == 0  # fmt: skip
    assert "holds another build of local; starting over" in capsys.readouterr().out
    assert_same_build(folder, reference, "local")


def test_ray_executor_on_a_local_ray_equals_the_local_build(tmp_path, reference_local):
    import ray

    project, reference = reference_local
    folder = tmp_path / "ds"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        assert build("build", "--source", "local", "--input", project, "--output", folder,
                     "--executor", "ray", "--tasks", 3, "--workers", 2) == 0  # fmt: skip
    finally:
        ray.shutdown()
    assert_same_build(folder, reference, "local")
    assert load_report(folder, "local")["executor"] == "ray"


FAKE_SBATCH = """#!/bin/sh
# Records each submission (arguments, then the script) and answers like sbatch.
n=$(ls "$SBATCH_RECORDS" | wc -l)
{ echo "$@"; cat "$(eval echo \\${$#})"; } > "$SBATCH_RECORDS/$n.txt"
echo "Submitted batch job $((1000 + n))"
"""


@pytest.mark.slow  # runs the submitted job array's tasks and the publish job as the cluster would (~15 s)
def test_slurm_job_script_and_its_tasks(tmp_path, reference_local):
    project, reference = reference_local
    bin_dir, records = tmp_path / "bin", tmp_path / "sbatch"
    bin_dir.mkdir()
    records.mkdir()
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    (bin_dir / "scontrol").write_text('#!/bin/sh\necho "$3"\n')  # `scontrol show hostnames NODELIST`
    for tool in ("sbatch", "scontrol"):
        (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}",
           "SBATCH_RECORDS": str(records)}  # fmt: skip
    folder = tmp_path / "ds"
    command = [sys.executable, "-m", "codereps", "dataset", "build", "--source", "local", "--input", str(project),
               "--output", str(folder), "--executor", "slurm", "--tasks", "3", "--workers", "2",
               "--slurm-partition", "cpu", "--slurm-time", "1:30:00"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "submitted Slurm job array 1000 (3 task(s)) and publish job 1001" in result.stdout
    assert not (folder / "data").exists()  # nothing is published before the jobs ran

    logs = folder / ".staging" / "local" / "logs"
    script = (logs / "launch_script.slurm").read_text()
    for line in ("#SBATCH --array=0-2%2", "#SBATCH --partition=cpu", "#SBATCH --time=1:30:00",
                 "#SBATCH --job-name=codereps-local", "#SBATCH --cpus-per-task=1",
                 f"#SBATCH --output={folder}/.staging/local-jobs/slurm_logs/%A_%a.out", "#SBATCH --requeue",
                 f"launch_pickled_pipeline {logs}/executor.pik"):  # fmt: skip
        assert line in script.splitlines() or line in script, line
    assert sorted(p.name for p in records.iterdir()) == ["0.txt", "1.txt"]  # the array, then the publish job
    submissions = [(records / f"{i}.txt").read_text() for i in range(2)]
    assert submissions[0].startswith("--export=ALL,RUN_OFFSET=0 ") and script in submissions[0]
    assert "--dependency=afterok:1000" in submissions[1].splitlines()[0]
    publish_logs = folder / ".staging" / "local-jobs" / "publish"
    assert f"launch_pickled_pipeline {publish_logs}/executor.pik" in submissions[1]

    # The cluster's part, by hand: each array task, then the publish job, from the pickled executors.
    launcher = str(Path(sys.executable).parent / "launch_pickled_pipeline")
    for task in range(3):
        job_env = {**env, "SLURM_ARRAY_TASK_ID": str(task), "SLURM_NODELIST": "node1", "SLURM_JOB_ID": "1000"}
        run = subprocess.run(
            [launcher, str(logs / "executor.pik")], env=job_env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr[-3000:]
    job_env = {**env, "SLURM_ARRAY_TASK_ID": "0", "SLURM_NODELIST": "node1", "SLURM_JOB_ID": "1001"}
    run = subprocess.run(
        [launcher, str(publish_logs / "executor.pik")], env=job_env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert_same_build(folder, reference, "local")
    assert load_report(folder, "local")["executor"] == "slurm"


def test_bad_executor_arguments_are_one_line(tmp_path, capsys):
    project = tmp_path / "p"
    project.mkdir()
    (project / "a.py").write_text("def a():\n    return 1\n")
    assert (
        build(
            "build",
            "--source",
            "local",
            "--input",
            project,
            "--output",
            tmp_path / "ds",
            "--executor",
            "slurm",
        )
        == 2
    )
    assert "--executor slurm needs --slurm-partition" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build("build", "--source", "local", "--input", project, "--output", tmp_path / "ds", "--tasks", 0)
    assert "--tasks: must be at least 1" in capsys.readouterr().err

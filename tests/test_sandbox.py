"""The executor's ordinary behaviour: order, fresh directories, environment, output, imports, limits."""

import pytest

from eval_space.pass_at_k.sandbox import OUTPUT_TAIL_CHARS, Limits, SandboxExecutor

LIMITS = Limits(timeout=5.0, memory_bytes=512 << 20)


@pytest.fixture(scope="module")
def executor():
    with SandboxExecutor(workers=2, limits=LIMITS) as running:
        yield running


def test_outcomes_come_back_in_job_order_across_workers(executor):
    jobs = [
        (f"import time\ntime.sleep({0.05 * (i % 3)})\nvalue = {i}", f"assert value == {i}") for i in range(12)
    ]
    jobs[5] = ("value = -1", "assert value == 5")
    outcomes = executor.run(jobs)
    assert [o["passed"] for o in outcomes] == [i != 5 for i in range(12)]
    assert outcomes[5]["error"] == "AssertionError: "


def test_each_candidate_gets_a_fresh_empty_directory_and_a_minimal_environment(executor):
    writes = (
        "import os\nopen('left-behind.txt', 'w').write('x')\nassert os.listdir('.') == ['left-behind.txt']"
    )
    checks = (
        "import os\n"
        "assert os.listdir('.') == [], os.listdir('.')\n"
        "assert os.environ['HOME'] == os.getcwd() == os.environ['TMPDIR']\n"
        "assert set(os.environ) <= {'PATH', 'LANG', 'PYTHONDONTWRITEBYTECODE', 'HOME', 'TMPDIR'}, dict(os.environ)\n"
    )
    outcomes = executor.run([(writes, ""), (checks, ""), (writes, ""), (checks, "")])
    assert [o["status"] for o in outcomes] == ["passed"] * 4, outcomes


def test_output_is_captured_and_only_its_tail_kept(executor):
    short, long = executor.run(
        [("print('hello from the candidate')", ""), ("print('y' * 50_000 + 'END')", "")]
    )
    assert short["output"] == "hello from the candidate\n"
    assert long["passed"] and len(long["output"]) == OUTPUT_TAIL_CHARS and long["output"].endswith("END\n")


def test_standard_library_modules_import_even_when_not_preloaded(executor):
    program = "import fractions, decimal, socket, sqlite3, json, typing\nvalue = fractions.Fraction(1, 3) * 3"
    outcome = executor.run([(program, "assert value == 1")])[0]
    assert outcome["passed"], outcome


def test_cpu_bound_candidate_is_timed_out_by_wall_clock():
    with SandboxExecutor(workers=1, limits=Limits(timeout=1.0)) as fast:
        outcome = fast.run([("x = 0\nwhile True:\n    x += 1", "")])[0]
    assert outcome["status"] == "timed out" and outcome["seconds"] < 5


def test_isolation_is_reported_in_every_outcome(executor):
    outcomes = executor.run([("x = 1", ""), ("raise ValueError('no')", "")])
    assert {o["isolation"] for o in outcomes} == {executor.isolation}
    assert executor.isolation.endswith("rlimits")


def test_bad_configuration_is_an_error():
    with pytest.raises(ValueError, match="timeout must be positive"):
        Limits(timeout=0)
    with pytest.raises(ValueError, match="isolation must be one of"):
        SandboxExecutor(workers=1, isolation="docker")


def test_an_interpreter_installed_under_tmp_still_runs_with_the_private_tmp(tmp_path):
    """CI clones (and their .venv) may live under /tmp, which the mount layer covers with a private tmpfs."""
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    with SandboxExecutor(workers=1, limits=LIMITS, python=str(venv / "bin" / "python")) as under_tmp:
        [outcome] = under_tmp.run([("import json\nx = json.dumps([1])", "assert x == '[1]'")])
    assert outcome["passed"], outcome

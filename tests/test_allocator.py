"""The allocator re-exec: a model command re-executes itself once on jemalloc; other commands, an opt-out or a
second pass do not; a bad choice is an error naming the variable."""

import os
import subprocess
import sys

import pytest

from codereps.allocator import (
    ALLOCATOR_ENV,
    JEMALLOC_CONF,
    AllocatorError,
    find_jemalloc,
    jemalloc_env,
    requested_allocator,
)

needs_jemalloc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or find_jemalloc() is None,
    reason="jemalloc is not installed (make install adds Debian's libjemalloc2)",
)

# what a console script does, in a child process: pick the allocator for a command, then say which one runs
PROBE = (
    "import sys; from codereps.allocator import reexec_with_jemalloc, loaded_allocator; "
    "reexec_with_jemalloc(sys.argv[1:]); print(loaded_allocator(), sys.argv[1:])"
)


def probe(*argv, **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "MALLOC_CONF", ALLOCATOR_ENV)}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv], env=env, capture_output=True, text=True, timeout=60
    )


@needs_jemalloc
def test_a_model_command_reexecutes_itself_on_jemalloc_with_its_arguments():
    out = probe("train", "--config", "x.yaml")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "jemalloc ['train', '--config', 'x.yaml']"


@needs_jemalloc
def test_other_commands_and_the_opt_out_keep_the_system_allocator():
    assert probe("ir", "show").stdout.strip() == "system ['ir', 'show']"
    opted_out = probe("train", **{ALLOCATOR_ENV: "system"})
    assert opted_out.stdout.strip() == "system ['train']"


@needs_jemalloc
def test_an_earlier_preload_is_kept_and_a_second_reexec_never_happens():
    # the caller's own preload (here one the loader refuses with a warning) stays behind jemalloc
    out = probe("train", LD_PRELOAD="/nonexistent/libnothing.so")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "jemalloc ['train']"
    # the mark a re-executed process carries: it must not re-execute again, whatever it runs on
    looped = probe("train", CODEREPS_ALLOCATOR_REEXEC="1")
    assert looped.stdout.strip() == "system ['train']"


def test_a_bad_choice_names_the_variable():
    with pytest.raises(AllocatorError, match=f"{ALLOCATOR_ENV}='tcmalloc'"):
        requested_allocator({ALLOCATOR_ENV: "tcmalloc"})
    assert requested_allocator({}) == "jemalloc"
    assert requested_allocator({ALLOCATOR_ENV: "System"}) == "system"


def test_the_preload_goes_first_and_a_users_configuration_is_kept():
    env = jemalloc_env({"LD_PRELOAD": "/opt/libother.so", "PATH": "/bin"}, "/usr/lib/libjemalloc.so.2")
    assert env["LD_PRELOAD"] == "/usr/lib/libjemalloc.so.2:/opt/libother.so"
    assert env["MALLOC_CONF"] == JEMALLOC_CONF and env["PATH"] == "/bin"
    mine = jemalloc_env({"MALLOC_CONF": "narenas:1"}, "/usr/lib/libjemalloc.so.2")
    assert mine["MALLOC_CONF"] == "narenas:1" and mine["LD_PRELOAD"] == "/usr/lib/libjemalloc.so.2"


def test_the_cli_rejects_a_bad_choice_with_one_line():
    env = {**os.environ, ALLOCATOR_ENV: "mimalloc"}
    out = subprocess.run(
        [sys.executable, "-m", "codereps", "train", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == f"codereps: error: {ALLOCATOR_ENV}='mimalloc': use 'jemalloc' or 'system'"


@needs_jemalloc
def test_jemalloc_keeps_freed_pages_for_reuse_until_release_memory_purges_them():
    code = (
        "from codereps.memory import _proc_status_mb, release_memory\n"
        "block = bytearray(300 * 2**20); held = _proc_status_mb('VmRSS'); del block\n"
        "kept = _proc_status_mb('VmRSS'); release_memory()\n"
        "print(round(held - kept), round(held - _proc_status_mb('VmRSS')))"
    )
    env = jemalloc_env({k: v for k, v in os.environ.items() if k != "MALLOC_CONF"}, find_jemalloc())
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    kept_back, released = map(int, out.stdout.split())
    assert (
        kept_back < 50
    )  # freed, but kept: the next step's tensors reuse these pages without faulting them in
    assert released > 250  # handed back to the system between steps

"""The process's memory allocator: jemalloc, where it is installed, for the commands that train and generate.

Why: PyTorch on CPU allocates and frees blocks of tens to hundreds of MB on every training step (activations,
their gradients, logits, variant C's merged embedding). glibc serves every block above its mmap threshold (32 MB
at most) with a fresh `mmap` and unmaps it on `free`, so each step page-faults and zeroes the same memory again.
jemalloc keeps freed extents and hands them out again. `oversize_threshold:0` matters: by default jemalloc gives
blocks over 8 MB a dedicated arena that it purges at once, which is glibc's behaviour again.

Measured on a 2-core AMD EPYC (avx512_bf16), SmolLM2-135M, variant A, bf16, the smol recipe, each allocator in
its own process (`LD_PRELOAD`):
- the first 5-12 steps, six runs each (three interleaved): glibc 161-203 train tokens/s (mean 178); jemalloc
  with this configuration 190-271 (mean 239, x1.34). Single runs: jemalloc's defaults 206, `oversize_threshold:0`
  alone 166, with a 30 s decay 177, tcmalloc 249, glibc's tunables (mmap/trim threshold, hugetlb) 192. The
  machine's own noise is +-20 %, so one pair of runs says little.
- Never purging is not safe over a whole training: the resident set grew by ~0.3 GB a step (11.4 GB at step 42,
  24 GB and swapping in a full smol run, with `narenas:1` too). So the training purges once per optimizer step
  (`trainers.training_log.PurgeFreedPagesCallback`): 60 steps (`codereps train`, `--max_steps 60`) ran at 201.6
  tokens/s with a 4.2 GB peak against glibc's 178.6 tokens/s and 5.3 GB (x1.13, -1.2 GB; one pair of runs).
- `python benchmarks/allocator_throughput.py --dataset <smol run>/dataset` (one run, cells alternating, 8 steps,
  64 MBPP problems): train A 205.5 -> 222.5 tokens/s (x1.08), peak 3.7 -> 3.3 GB; train C 195.6 -> 227.0
  (x1.16), peak 4.4 -> 3.7 GB; the same final loss to the last digit; generation x0.99 (no effect).
So the allocator is worth ~10-15 % of training speed and ~0.5 GB of peak, not the x1.34 the short runs suggested.

An allocator must be in place before the process's first `malloc`, so `reexec_with_jemalloc` re-executes the
command once with `LD_PRELOAD` (what PyTorch's own CPU launcher, `torch.backends.xeon.run_cpu`, does).
`CODEREPS_ALLOCATOR=system` keeps the system allocator. The sandbox that runs candidate programs starts from its
own minimal environment, so they never inherit the preload.
"""

import os
import sys
from pathlib import Path

ALLOCATOR_ENV = "CODEREPS_ALLOCATOR"  # "jemalloc" (the default, where installed) or "system"
_REEXEC_MARK = "CODEREPS_ALLOCATOR_REEXEC"  # set in the re-executed process: never re-execute twice
# keep freed extents of every size (no dedicated, at-once-purged arena for large blocks) and never purge on a
# timer: jemalloc's decay purges gradually from the moment a block is freed, and even a 30 s decay measured no
# faster than glibc (177 tok/s). The pages go back once per training step (`PurgeFreedPagesCallback`) and
# between a study's steps (`codereps.memory.release_memory`): without that the resident set grows unbounded.
JEMALLOC_CONF = "oversize_threshold:0,background_thread:false,dirty_decay_ms:-1,muzzy_decay_ms:-1"
# the commands that run models; the others are short and gain nothing from a re-exec
MODEL_COMMANDS = frozenset({"train", "evaluate", "experiment", "classify"})
_SEARCH_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
)


class AllocatorError(ValueError):
    """`CODEREPS_ALLOCATOR` names an allocator this module does not know."""


def find_jemalloc() -> str | None:
    """The path of an installed jemalloc shared library (Debian's libjemalloc2), or None."""
    for folder in _SEARCH_DIRS:
        for name in ("libjemalloc.so.2", "libjemalloc.so"):
            path = Path(folder) / name
            if path.exists():
                return str(path)
    return None


def loaded_allocator() -> str:
    """Which allocator this process runs on: 'jemalloc', 'tcmalloc' or 'system' (read from its memory map)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "system"
    for name in ("jemalloc", "tcmalloc"):
        if f"lib{name}" in maps:
            return name
    return "system"


def requested_allocator(env=os.environ) -> str:
    choice = env.get(ALLOCATOR_ENV, "jemalloc").strip().lower() or "jemalloc"
    if choice not in ("jemalloc", "system"):
        raise AllocatorError(f"{ALLOCATOR_ENV}={choice!r}: use 'jemalloc' or 'system'")
    return choice


def jemalloc_env(env: dict, library: str) -> dict:
    """`env` with `library` preloaded ahead of any other preload, and this module's configuration."""
    child = dict(env)
    child["LD_PRELOAD"] = ":".join(p for p in (library, env.get("LD_PRELOAD", "")) if p)
    child.setdefault("MALLOC_CONF", JEMALLOC_CONF)
    return child


def reexec_with_jemalloc(argv: list[str]) -> None:
    """Re-execute this command on jemalloc when it runs models, jemalloc is installed and not yet loaded.

    Returns (doing nothing) otherwise: not Linux, another command, `CODEREPS_ALLOCATOR=system`, no jemalloc
    on the machine, or already re-executed once (a preload the loader refused must not loop)."""
    if not sys.platform.startswith("linux") or not argv or argv[0] not in MODEL_COMMANDS:
        return
    if requested_allocator() != "jemalloc" or os.environ.get(_REEXEC_MARK) or loaded_allocator() != "system":
        return
    library = find_jemalloc()
    if library is None:
        return
    env = jemalloc_env(os.environ, library)
    env[_REEXEC_MARK] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    # orig_argv is the interpreter's own command line (a console script's path, or -m codereps), so the new
    # process imports the same code from the same place
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)


def allocator_note() -> str:
    """One line for a command's output: which allocator runs, and how to change it."""
    loaded = loaded_allocator()
    if loaded == "jemalloc":
        return f"memory allocator: jemalloc ({ALLOCATOR_ENV}=system for the system's)"
    if loaded != "system":
        return f"memory allocator: {loaded} (preloaded by the caller)"
    if requested_allocator() == "system":
        return f"memory allocator: the system's ({ALLOCATOR_ENV}=system)"
    if find_jemalloc() is None:
        return (
            "memory allocator: the system's; install jemalloc (Debian: libjemalloc2) to train faster on CPU"
        )
    return "memory allocator: the system's (jemalloc is installed; only the codereps command preloads it)"

"""This process's memory: what it holds now and at its peak, and giving freed memory back to the system.

A study trains and evaluates many models in one process; without `release_memory` between them, reference
cycles (trainer <-> accelerator <-> model) keep dead models alive until the next automatic collection, and
glibc keeps freed arenas mapped, so the resident set grows with every model.
"""

import ctypes
import functools
import gc
import resource
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident set size since the last `reset_peak_rss` (or since it started).

    Linux: VmHWM from /proc, which `reset_peak_rss` can lower again; elsewhere the kernel's max RSS for the
    whole process (`getrusage`), which only grows."""
    try:
        return _proc_status_mb("VmHWM")
    except (OSError, StopIteration):
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, KiB on Linux


# the largest peak the resets have forgotten: the kernel's own max RSS (`getrusage`, what `/usr/bin/time -v`
# prints) follows VmHWM down after a reset, so only this keeps the whole process's peak
_peak_before_resets = 0.0


def process_peak_rss_mb() -> float:
    """This process's peak resident set size since it started, across every `reset_peak_rss`."""
    return max(_peak_before_resets, peak_rss_mb())


def reset_peak_rss() -> bool:
    """Start a new peak at the current resident set (Linux >= 4.0: `5` into /proc/self/clear_refs); True if it did.

    One process trains and evaluates many models; without the reset each step's peak would be the largest of
    all the steps before it, and what holds the memory could not be told step by step."""
    global _peak_before_resets
    _peak_before_resets = max(_peak_before_resets, peak_rss_mb())
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def memory_line() -> str:
    """`RSS <now> MB, peak <max since the last reset> MB` (the current size from /proc: Linux only)."""
    try:
        now = _proc_status_mb("VmRSS")
    except (OSError, StopIteration):
        return f"peak RSS {peak_rss_mb():.0f} MB"
    return f"RSS {now:.0f} MB, peak {peak_rss_mb():.0f} MB"


def _proc_status_mb(field: str) -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith(f"{field}:"))


def release_memory() -> None:
    """Collect unreachable objects, then hand the allocator's free pages back to the system.

    glibc: `malloc_trim`. jemalloc (`codereps.allocator`, configured never to purge on its own, so that a
    training step reuses the pages of the step before): purge every arena now, between the study's steps."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        pass
    purge_jemalloc()


def purge_jemalloc() -> bool:
    """`arena.<MALLCTL_ARENAS_ALL>.purge` when jemalloc is this process's allocator; True if it purged."""
    mallctl = _jemalloc_mallctl()
    if mallctl is None:
        return False
    return mallctl(b"arena.4096.purge", None, None, None, ctypes.c_size_t(0)) == 0


@functools.cache
def _jemalloc_mallctl():
    # looked up once: the allocator is fixed when the process starts, and this runs at every training step
    return getattr(ctypes.CDLL(None), "mallctl", None)  # exported only by a loaded jemalloc

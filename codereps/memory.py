"""This process's memory: what it holds now and at its peak, and giving freed memory back to the system.

A study trains and evaluates many models in one process; without `release_memory` between them, reference
cycles (trainer <-> accelerator <-> model) keep dead models alive until the next automatic collection, and
glibc keeps freed arenas mapped, so the resident set grows with every model.
"""

import ctypes
import gc
import resource
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (the kernel's max RSS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, KiB on Linux


def memory_line() -> str:
    """`RSS <now> MB, peak <max so far> MB` (the current size from /proc: Linux only)."""
    try:
        status = Path("/proc/self/status").read_text()
        now = next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS"))
    except (OSError, StopIteration):
        return f"peak RSS {peak_rss_mb():.0f} MB"
    return f"RSS {now:.0f} MB, peak {peak_rss_mb():.0f} MB"


def release_memory() -> None:
    """Collect unreachable objects, then hand glibc's free heap pages back to the system (no-op elsewhere)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        pass

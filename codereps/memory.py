"""This process's memory: what it holds now and at its peak, and giving freed memory back to the system.

A study trains and evaluates many models in one process; without `release_memory` between them, reference
cycles (trainer <-> accelerator <-> model) keep dead models alive until the next automatic collection, and
glibc keeps freed arenas mapped, so the resident set grows with every model.
"""

import ctypes
import gc
from pathlib import Path


def memory_line() -> str:
    """`RSS <now> MB, peak <max so far> MB` from /proc (Linux); says so where there is no /proc."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return "memory: not measured (no /proc)"
    kib = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith("Vm")}
    return f"RSS {kib.get('VmRSS', 0) / 1024:.0f} MB, peak {kib.get('VmHWM', 0) / 1024:.0f} MB"


def release_memory() -> None:
    """Collect unreachable objects, then hand glibc's free heap pages back to the system (no-op elsewhere)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        pass

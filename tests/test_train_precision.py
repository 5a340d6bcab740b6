"""The training precision default: bf16 autocast on a CPU with native bf16, fp32 elsewhere or when asked."""

import pytest
import torch

import eval_space.generation as generation
from trainers.sft_config import Bf16UnsupportedError, TrainConfig

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU default")


@pytest.mark.parametrize("native", [True, False])
def test_cpu_default_follows_native_bf16(tmp_path, monkeypatch, native):
    monkeypatch.setattr(generation, "cpu_supports_bf16", lambda: native)
    config = TrainConfig(output_dir=str(tmp_path))
    assert config.use_cpu and config.bf16 is native and not config.fp16


def test_bf16_false_restores_fp32(tmp_path, monkeypatch):
    monkeypatch.setattr(generation, "cpu_supports_bf16", lambda: True)
    assert TrainConfig(output_dir=str(tmp_path), bf16=False).bf16 is False


def test_bf16_true_without_native_bf16_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(generation, "cpu_supports_bf16", lambda: False)
    with pytest.raises(Bf16UnsupportedError, match=r"bf16: this CPU has no native bf16 matmul .*bf16: false"):
        TrainConfig(output_dir=str(tmp_path), bf16=True)

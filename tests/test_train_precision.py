"""The training precision default: bf16 autocast on a CPU whose native bf16 matmul the probe measures faster than
fp32 (the engine's `auto` rule), fp32 elsewhere or when asked."""

import pytest
import torch

import eval_space.generation as generation
from trainers.sft_config import Bf16UnsupportedError, TrainConfig

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU default")


@pytest.mark.parametrize(
    ("native", "speedup", "bf16"),
    [(True, 2.3, True), (True, 0.6, False), (False, 2.3, False)],  # 0.6: native bf16 slower than fp32
)
def test_cpu_default_is_bf16_only_where_it_is_native_and_faster(tmp_path, monkeypatch, native, speedup, bf16):
    monkeypatch.setattr(generation, "cpu_supports_bf16", lambda: native)
    monkeypatch.setattr(generation, "bf16_matmul_speedup", lambda threads=None: speedup)
    config = TrainConfig(output_dir=str(tmp_path))
    assert config.use_cpu and config.bf16 is bf16 and not config.fp16
    assert (
        generation.resolve_dtype("auto", "cpu") == "bfloat16"
    ) is bf16  # one rule for training and generation


def test_bf16_true_where_native_but_slower_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setattr(generation, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(generation, "bf16_matmul_speedup", lambda threads=None: 0.6)
    assert TrainConfig(output_dir=str(tmp_path), bf16=True).bf16 is True


def test_bf16_false_restores_fp32(tmp_path, monkeypatch):
    monkeypatch.setattr(generation, "cpu_supports_bf16", lambda: True)
    assert TrainConfig(output_dir=str(tmp_path), bf16=False).bf16 is False


def test_bf16_true_without_native_bf16_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(generation, "cpu_supports_bf16", lambda: False)
    with pytest.raises(Bf16UnsupportedError, match=r"bf16: this CPU has no native bf16 matmul .*bf16: false"):
        TrainConfig(output_dir=str(tmp_path), bf16=True)

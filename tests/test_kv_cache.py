"""The engine's in-place KV cache layer against transformers' DynamicLayer, operation by operation."""

import torch
from transformers.cache_utils import DynamicLayer

from eval_space import kv_cache
from eval_space.kv_cache import GrowingLayer, new_cache


def states(batch, length, seed):
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, 2, length, 4)
    return torch.randn(shape, generator=generator), torch.randn(shape, generator=generator)


def assert_same(growing, dynamic):
    assert torch.equal(growing.keys, dynamic.keys)
    assert torch.equal(growing.values, dynamic.values)
    assert growing.get_seq_length() == dynamic.get_seq_length()
    assert growing.get_mask_sizes(1) == dynamic.get_mask_sizes(1)


def test_growing_layer_matches_dynamic_layer_through_appends_selects_cuts_and_merges(monkeypatch):
    monkeypatch.setattr(kv_cache, "HEADROOM", 2)  # a new buffer every few appends: the copy path runs too
    growing, dynamic = GrowingLayer(), DynamicLayer()
    assert growing.get_seq_length() == 0
    for layer in (growing, dynamic):
        returned = layer.update(*states(4, 5, 0))
    assert_same(growing, dynamic)
    assert torch.equal(returned[0], dynamic.keys)
    for step in range(7):  # single-token appends, past the headroom more than once
        out = growing.update(*states(4, 1, step + 1))
        dynamic.update(*states(4, 1, step + 1))
        assert torch.equal(out[0], dynamic.keys) and torch.equal(out[1], dynamic.values)
    assert_same(growing, dynamic)

    index = torch.tensor([0, 2, 3])
    growing.batch_select_indices(index)
    dynamic.batch_select_indices(index)
    assert_same(growing, dynamic)

    growing.drop_leading(3)
    dynamic.keys, dynamic.values = dynamic.keys[..., 3:, :], dynamic.values[..., 3:, :]
    assert_same(growing, dynamic)
    for step in range(3):  # appends after a cut write into the spare end of the same buffer
        growing.update(*states(3, 1, 20 + step))
        dynamic.update(*states(3, 1, 20 + step))
    assert_same(growing, dynamic)

    extra_keys, extra_values = states(2, growing.get_seq_length(), 30)  # the engine merging rows in
    for layer in (growing, dynamic):
        layer.keys = torch.cat([layer.keys, extra_keys])
        layer.values = torch.cat([layer.values, extra_values])
    for layer in (growing, dynamic):
        layer.update(*states(5, 1, 40))
    assert_same(growing, dynamic)


def test_appends_within_the_headroom_write_into_one_buffer():
    layer = GrowingLayer()
    layer.update(*states(2, 3, 0))
    buffer = layer._key_buffer
    for step in range(kv_cache.HEADROOM):
        layer.update(*states(2, 1, step + 1))
    assert layer._key_buffer is buffer  # no copy of the cache per token
    layer.update(*states(2, 1, 99))
    assert layer._key_buffer is not buffer and layer.get_seq_length() == 3 + kv_cache.HEADROOM + 1


def test_new_cache_uses_growing_layers_for_full_attention_only():
    from transformers import LlamaConfig, MistralConfig

    llama = new_cache(LlamaConfig(num_hidden_layers=3))
    assert [type(layer) for layer in llama.layers] == [GrowingLayer] * 3
    sliding = new_cache(MistralConfig(num_hidden_layers=2, sliding_window=16))
    assert all(type(layer) is not GrowingLayer for layer in sliding.layers)

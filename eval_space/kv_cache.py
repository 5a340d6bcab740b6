"""The engine's KV cache: `transformers`' DynamicCache with layers that append a token in place.

`DynamicLayer.update` appends by `torch.cat`, which copies a layer's whole cache every decoding step: on a
2-core AMD EPYC (AVX2), SmolLM2 at 64 rows and ~300 cached positions, `aten::cat` was 71 % of a step's time
and the matmuls 19 % (torch.profiler, fp32). `GrowingLayer` keeps its keys and values in a buffer with
spare positions at the end, so appending writes into it; it copies only when the buffer is full (then with
`HEADROOM` spare positions again) and when rows leave (`batch_select_indices`, an index copy whatever the
cache). Cutting leading columns is a view (no copy).

`keys` / `values` are views of the filled part, so everything in transformers that reads them (the mask
sizes, the sequence length) sees a cache of the usual shape. Assigning them (as the engine does when it
merges new rows in) adopts the tensor as the buffer; the next append gives it headroom.
"""

from transformers.cache_utils import DynamicCache, DynamicLayer

# spare positions a buffer gets whenever it is (re)allocated: one copy of the cache per HEADROOM steps at most
HEADROOM = 64


class GrowingLayer(DynamicLayer):
    """A full-attention cache layer whose appends write into spare positions of a buffer."""

    def __init__(self, **kwargs):
        self._key_buffer = self._value_buffer = None
        self._length = 0
        super().__init__(**kwargs)

    @property
    def keys(self):
        return None if self._key_buffer is None else self._key_buffer[..., : self._length, :]

    @keys.setter
    def keys(self, tensor):
        self._key_buffer = tensor
        # the empty tensor of `lazy_initialization` is 1-d: a cache of no positions
        self._length = tensor.shape[-2] if tensor is not None and tensor.dim() == 4 else 0

    @property
    def values(self):
        return None if self._value_buffer is None else self._value_buffer[..., : self._length, :]

    @values.setter
    def values(self, tensor):
        # keys and values are always assigned together and have the same length; `keys` keeps the length
        self._value_buffer = tensor

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        added = key_states.shape[-2]
        end = self._length + added
        if self._key_buffer.dim() != 4 or end > self._key_buffer.shape[-2]:
            shape = (*key_states.shape[:-2], end + HEADROOM, key_states.shape[-1])
            keys = key_states.new_empty(shape)
            values = value_states.new_empty((*shape[:-1], value_states.shape[-1]))
            if self._length:
                keys[..., : self._length, :] = self._key_buffer[..., : self._length, :]
                values[..., : self._length, :] = self._value_buffer[..., : self._length, :]
            self._key_buffer, self._value_buffer = keys, values
        self._key_buffer[..., self._length : end, :] = key_states
        self._value_buffer[..., self._length : end, :] = value_states
        self._length = end
        return self.keys, self.values

    def batch_select_indices(self, indices) -> None:
        if self._length:
            # the index copy takes the spare positions along, so the next append needs no new buffer
            self._key_buffer = self._key_buffer[indices, ...]
            self._value_buffer = self._value_buffer[indices, ...]

    def drop_leading(self, count: int) -> None:
        """Forget the first `count` positions (padding no row attends to any more): a view, no copy."""
        if count:
            self._key_buffer = self._key_buffer[..., count:, :]
            self._value_buffer = self._value_buffer[..., count:, :]
            self._length -= count


def new_cache(config) -> DynamicCache:
    """A DynamicCache for `config` whose full-attention layers are `GrowingLayer`s (sliding-window and other
    special layers keep their own classes)."""
    cache = DynamicCache(config=config)
    cache.layers = [GrowingLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache

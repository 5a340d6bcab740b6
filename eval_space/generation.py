"""The generation engine: batched decoding with the KV cache that stops paying for a row once it is done.

    texts = generate_texts(model, tokenizer, prompts, max_new_tokens=256, stop_strings=task.stop_sequences)

What it does differently from a loop of `model.generate` over the rows in task order:

- rows join the running batch longest prompt first, so rows that run together pad little, and a batch that
  holds a long prompt holds fewer rows (a KV-cache budget, `admit_count`), so one outlier cannot pad a full
  batch;
- a row that has produced EOS or a stop string leaves the running batch (its KV cache rows are dropped), so
  the rest of the batch stops computing tokens nobody reads, and queued rows take the free places
  (continuous batching): the batch stays full until the queue is empty, instead of running its last steps
  for the few rows that go on to the token limit;
- the model runs in the dtype `resolve_dtype` picks ("auto": bf16 on CUDA, and on a CPU whose bf16 matmul
  beats fp32 in a short probe; fp32 otherwise);
- the prompt pass computes the logits of the last position only, and rows join it in groups of similar
  length (`prefill_groups`), so it does not pad every prompt to the longest;
- the KV cache appends in place (`eval_space.kv_cache`), instead of copying itself every step.

The stop-string rule is `transformers`' `StopStringCriteria`'s: a row stops at the first token that completes a
stop string (the string may start in the prompt and the token may run past it), so a greedy fp32 run gives
the programs a `model.generate(stop_strings=...)` loop gives. Texts come back in the order of `prompts`.
"""

import time
from dataclasses import dataclass

DTYPES = ("auto", "float32", "bfloat16")


class DtypeError(ValueError):
    """A `--dtype` the device cannot run."""


@dataclass
class Completion:
    text: str | list[int]  # token ids inside the engine, decoded text once returned
    new_tokens: int  # tokens generated up to and including the stop (what the row cost)
    stop: str  # "eos", "stop_string" or "length"


def default_batch_size(device) -> int:
    """Rows decoded together on `device`.

    CPU: 64. Measured on a quiet 2-core AMD EPYC (avx512_bf16), SmolLM2-135M, the first 64 MBPP test
    prompts, 256 new tokens, greedy, one process per dtype: bf16 34.2 s at 16 rows,
    25.4 s at 32, 20.1 s at 64; fp32 81.5 s at 16, 53.4 s at 64. Decoding a 135M model is bound by the
    per-step overhead of 30 layers, not by the matmuls, so more rows a step is nearly free; rows leave as
    they finish, so a wide batch costs no wasted tokens. A GPU has room for many more rows (128; not
    measured)."""
    return 128 if str(device).startswith("cuda") else 64


# the prompt length a full batch is sized for: above it, a batch holds fewer rows (`admit_count`)
CACHE_ROW = 256

_PROBE_CACHE: dict = {}


def bf16_matmul_speedup(threads: int | None = None) -> float:
    """fp32 time / bf16 time of a decoding-shaped matmul (64x576 @ 576x1536) on this CPU; cached per process."""
    import torch

    threads = threads or torch.get_num_threads()
    if threads not in _PROBE_CACHE:
        rates = matmul_gflops(("float32", "bfloat16"), repeats=20)
        _PROBE_CACHE[threads] = rates["bfloat16"] / rates["float32"]
    return _PROBE_CACHE[threads]


def matmul_gflops(dtypes=("float32", "bfloat16"), m=64, k=576, n=1536, repeats=50) -> dict:
    """The machine's matmul rate (GFLOP/s, best of `repeats`) per dtype at a decoding step's shape, on CPU."""
    import torch

    rates = {}
    for name in dtypes:
        dtype = getattr(torch, name)
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
        for _ in range(3):
            a @ b  # warm-up: the first calls pick kernels
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(10):
                a @ b
            best = min(best, (time.perf_counter() - start) / 10)
        rates[name] = 2 * m * k * n / best / 1e9
    return rates


def cpu_supports_bf16() -> bool:
    """Native bf16 matmul on this CPU (oneDNN: AVX512-BF16 or AMX); without it bf16 is emulated and slow."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


# bf16 must beat fp32 by this much in the probe to be chosen: a CPU can have native bf16 matmul and still run it
# slower than fp32 (seen here: an Intel Xeon with AVX512-BF16 and no AMX, 150 vs 250 GFLOP/s at every shape tried)
BF16_MIN_SPEEDUP = 1.1


def cpu_bf16_is_faster() -> bool:
    """What `auto` means on a CPU, for generation and for training alike: native bf16 matmul that a short probe
    measures faster than fp32."""
    return cpu_supports_bf16() and bf16_matmul_speedup() > BF16_MIN_SPEEDUP


def resolve_dtype(dtype: str, device) -> str:
    """ "auto" | "float32" | "bfloat16" -> the dtype name to run in on `device`; DtypeError if it cannot."""
    import torch

    if dtype not in DTYPES:
        raise DtypeError(f"--dtype {dtype!r} is not supported: choose one of {', '.join(DTYPES)}")
    on_cuda = str(device).startswith("cuda")
    if dtype == "bfloat16":
        supported = torch.cuda.is_bf16_supported() if on_cuda else cpu_supports_bf16()
        if not supported:
            where = "this GPU" if on_cuda else "this CPU (no AVX512-BF16/AMX)"
            raise DtypeError(f"--dtype bfloat16: {where} has no native bf16 matmul; use --dtype float32")
        return dtype
    if dtype == "float32":
        return dtype
    if on_cuda:
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    return "bfloat16" if cpu_bf16_is_faster() else "float32"


def describe(model) -> dict:
    """What a generation ran on, for the generations and results JSON."""
    import torch

    from codereps.allocator import loaded_allocator

    parameter = next(model.parameters())
    return {
        "dtype": str(parameter.dtype).removeprefix("torch."),
        "device": str(parameter.device),
        "threads": torch.get_num_threads(),
        "allocator": loaded_allocator(),
    }


def prepare_model(model, dtype: str = "auto"):
    """Cast `model` in place to the dtype `resolve_dtype` picks (no copy: one model in memory); eval mode."""
    import torch

    device = next(model.parameters()).device
    name = resolve_dtype(dtype, device)
    if next(model.parameters()).dtype != getattr(torch, name):
        model.to(getattr(torch, name))
    model.eval()
    return model


def generate_texts(
    model,
    tokenizer,
    prompts: list[str],
    max_new_tokens: int,
    stop_strings=(),
    batch_size: int | None = None,
    temperature: float = 0.0,
    top_p: float = 0.95,
    progress=None,
    refill: bool = True,
) -> list[Completion]:
    """One completion per prompt (repeat a prompt for several samples), in the order of `prompts`.

    Sampling draws from torch's global generator: `torch.manual_seed(s)` before the call makes it reproducible.
    `progress(n)` is called as rows finish. `refill=False` admits rows only into an empty batch (each batch
    drains before the next starts: the engine without continuous batching, for benchmarks/)."""
    import torch

    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1 (got {max_new_tokens})")
    device = next(model.parameters()).device
    batch_size = batch_size or default_batch_size(device)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos_ids = _eos_ids(model, tokenizer)
    sampler = _Sampler(temperature, top_p, getattr(model.generation_config, "top_k", None))
    stops = _StopStrings(tokenizer, stop_strings)

    encoded = [tokenizer(p, add_special_tokens=True)["input_ids"] for p in prompts]
    # longest first: the first rows show at once whether memory suffices, and later ones only get faster
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
    results: list[Completion | None] = [None] * len(prompts)
    with torch.inference_mode():
        for row, completion in _decode_continuously(
            _RunningBatch(model, pad_id),
            encoded,
            order,
            batch_size,
            max_new_tokens,
            eos_ids,
            sampler,
            stops,
            refill,
        ):
            results[row] = completion
            if progress is not None:
                progress(1)
    texts = tokenizer.batch_decode([c.text for c in results], skip_special_tokens=True)
    return [Completion(text, c.new_tokens, c.stop) for text, c in zip(texts, results, strict=True)]


# rows join the running batch once this share of it is free: a prefill is a forward pass of its own, so
# admitting one row at a time would pay that pass for every row
REFILL_SHARE = 8


def admit_count(
    queued_longest: int, running: int, running_longest: int, free: int, batch_size: int, max_new_tokens: int
) -> int:
    """How many queued rows join a running batch of `running` rows whose longest prompt has `running_longest`
    tokens, when the longest queued prompt has `queued_longest` tokens and `free` slots are open.

    The KV cache may hold `batch_size * (CACHE_ROW + max_new_tokens)` positions; a batch's cache grows to at
    most its longest prompt plus `max_new_tokens`. Every row of the batch is left-padded to its widest row,
    and each decoding step reads the whole cache, so without the budget one long outlier (MBPP's test split
    has a 1,735-token prompt, the next is 196) would pad 63 short rows to its length and make every step
    attend over ~2,000 positions. An empty batch always takes one row, however long, so every prompt runs."""
    budget = batch_size * (CACHE_ROW + max_new_tokens)
    fits = budget // (max(running_longest, queued_longest) + max_new_tokens) - running
    return max(1 if running == 0 else 0, min(free, fits))


# a prefill group's padded positions may exceed its prompt tokens by this share: one pass over 64 rows padded
# to the longest spent most of its time on padding (see `prefill_groups`)
PREFILL_PADDING = 0.25
# and it holds at most this many padded positions, which bounds the prompt pass's activations
PREFILL_POSITIONS = 4096


def prefill_groups(lengths: list[int]) -> list[list[int]]:
    """Indices of `lengths` (prompt lengths) in groups to prefill together: longest first, a row joins the
    current group while the group's padded positions (rows x its longest) stay within `PREFILL_PADDING` of
    its real ones and within `PREFILL_POSITIONS`.

    A prompt pass costs its padded positions: the first 64 MBPP test prompts hold 3,154 tokens but, padded to
    their longest, a few times that, and that one pass was 20 s of a 90 s fp32 run on a 2-core EPYC. A pass
    more costs little (one forward of a few hundred positions)."""
    groups: list[list[int]] = []
    real = 0
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        group = groups[-1] if groups else None
        if group:
            longest = lengths[group[0]]
            padded = longest * (len(group) + 1)
            if padded <= (1 + PREFILL_PADDING) * (real + lengths[index]) and padded <= PREFILL_POSITIONS:
                group.append(index)
                real += lengths[index]
                continue
        groups.append([index])
        real = lengths[index]
    return groups


def _decode_continuously(batch, encoded, queue, batch_size, max_new_tokens, eos_ids, sampler, stops, refill):
    """Yield (row, token-id Completion) as rows finish. The running batch is refilled from `queue` (rows in
    the order to admit them) whenever an eighth of it is free, so it stays full until the queue is empty: a
    batch that only drains would run its last steps for a handful of long rows."""
    import torch

    from codereps.memory import purge_jemalloc

    queue = list(reversed(queue))  # pop() takes the next row
    refill_at = max(1, batch_size // REFILL_SHARE)
    prompt_of, generated = {}, {}
    while queue or batch.rows:
        free = batch_size - len(batch.rows)
        if queue and (not batch.rows or (refill and free >= min(refill_at, len(queue)))):
            count = admit_count(
                len(encoded[queue[-1]]),
                len(batch.rows),
                batch.longest_prompt,
                min(free, len(queue)),
                batch_size,
                max_new_tokens,
            )
            # count is 0 when the next prompt would push the running batch's cache past its budget: it
            # waits until enough rows have left
            if count:
                # the cache changes shape here: hand jemalloc's freed pages back (it never purges on its own,
                # codereps.allocator), or the resident set grows with every refill
                purge_jemalloc()
                rows = [queue.pop() for _ in range(count)]
                for row in rows:
                    prompt_of[row], generated[row] = encoded[row], []
                batch.add(rows, [encoded[row] for row in rows])
        tokens = sampler(batch.logits)
        is_eos = torch.isin(tokens, batch.eos(eos_ids)).tolist() if eos_ids else [False] * len(tokens)
        keep = []
        for slot, (row, token) in enumerate(zip(batch.rows, tokens.tolist(), strict=True)):
            done = generated[row]
            if is_eos[slot]:
                yield row, Completion(done, len(done) + 1, "eos")
                continue
            done.append(token)
            if stops.completed(prompt_of[row], done):
                yield row, Completion(done, len(done), "stop_string")
            elif len(done) == max_new_tokens:
                yield row, Completion(done, len(done), "length")
            else:
                keep.append(slot)
        batch.keep(keep)
        if batch.rows:
            batch.step(
                tokens[torch.tensor(keep, device=tokens.device)] if len(keep) < len(tokens) else tokens
            )


class _RunningBatch:
    """The rows being decoded: their KV cache (rows right-aligned, left-padded to the widest), attention
    mask, next positions and the logits of their next token. Rows join (`add`: a prefill of their own,
    merged into the cache) and leave (`keep`) between steps; columns that are padding in every remaining
    row are cut, so the cache is as wide as its widest live row, not as the batch's history."""

    def __init__(self, model, pad_id):
        self.model, self.pad_id = model, pad_id
        self.device = next(model.parameters()).device
        self.rows: list[int] = []
        self.prompt_lengths: list[int] = []
        self.cache = self.attention = self.next_position = self.logits = None
        self._eos = None

    @property
    def longest_prompt(self) -> int:
        return max(self.prompt_lengths, default=0)

    @property
    def width(self) -> int:
        return 0 if self.attention is None else self.attention.shape[1]

    def eos(self, eos_ids):
        import torch

        if self._eos is None:
            self._eos = torch.tensor(sorted(eos_ids), device=self.device)
        return self._eos

    def add(self, rows, prompt_ids):
        """Prefill `rows` and merge them in. Rows of similar prompt length are prefilled together
        (`prefill_groups`), each group left-padded to its own longest prompt; the prompt pass computes the
        last position's logits only."""
        import torch

        groups = prefill_groups([len(ids) for ids in prompt_ids])
        parts = [self._prefill([prompt_ids[r] for r in group]) for group in groups]
        if self.rows:
            parts.insert(0, (self.cache, self.attention, self.next_position, self.logits))
        self.rows += [rows[r] for group in groups for r in group]
        self.prompt_lengths += [len(prompt_ids[r]) for group in groups for r in group]
        if len(parts) == 1:
            self.cache, self.attention, self.next_position, self.logits = parts[0]
            return
        # one concatenation for all the parts: merging them one at a time would copy the cache once per part
        width = max(attention.shape[1] for _, attention, _, _ in parts)
        caches = [cache for cache, _, _, _ in parts]
        for index, layer in enumerate(caches[0].layers):
            members = [cache.layers[index] for cache in caches]
            layer.keys = torch.cat([_left_pad(member.keys, width, -2) for member in members])
            layer.values = torch.cat([_left_pad(member.values, width, -2) for member in members])
        self.cache = caches[0]
        self.attention = torch.cat([_left_pad(attention, width, 1) for _, attention, _, _ in parts])
        self.next_position = torch.cat([position for _, _, position, _ in parts])
        self.logits = torch.cat([logits for _, _, _, logits in parts])

    def _prefill(self, prompt_ids):
        """The prompt pass of rows left-padded to their longest: (cache, attention mask, next positions,
        next-token logits)."""
        import torch

        from eval_space.kv_cache import new_cache

        width = max(len(ids) for ids in prompt_ids)
        input_ids = torch.full((len(prompt_ids), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(prompt_ids), width), dtype=torch.long)
        for r, ids in enumerate(prompt_ids):
            input_ids[r, width - len(ids) :] = torch.tensor(ids)
            attention[r, width - len(ids) :] = 1
        input_ids, attention = input_ids.to(self.device), attention.to(self.device)
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        cache = new_cache(self.model.config)
        logits = self.model(
            input_ids=input_ids,
            attention_mask=attention,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1]
        return cache, attention, positions[:, -1] + 1, logits

    def keep(self, slots):
        """Keep only the rows in `slots`; cut the leading columns that no remaining row attends to."""
        import torch

        if len(slots) == len(self.rows):
            return
        if not slots:
            self.rows, self.prompt_lengths, self.cache = [], [], None
            self.attention = self.next_position = self.logits = None
            return
        index = torch.tensor(slots, device=self.device)
        self.cache.batch_select_indices(index)
        self.attention, self.next_position = self.attention[index], self.next_position[index]
        self.logits = self.logits[index]
        self.rows = [self.rows[slot] for slot in slots]
        self.prompt_lengths = [self.prompt_lengths[slot] for slot in slots]
        first = int(self.attention.any(0).int().argmax())  # the first column some row attends to
        if first:
            from eval_space.kv_cache import GrowingLayer

            self.attention = self.attention[:, first:]
            for layer in self.cache.layers:
                if isinstance(layer, GrowingLayer):
                    layer.drop_leading(first)
                else:
                    layer.keys, layer.values = layer.keys[..., first:, :], layer.values[..., first:, :]

    def step(self, tokens):
        """Feed each row its newest token; the logits of the token after it."""
        import torch

        self.attention = torch.cat([self.attention, self.attention.new_ones((len(self.rows), 1))], dim=1)
        self.logits = self.model(
            input_ids=tokens[:, None],
            attention_mask=self.attention,
            position_ids=self.next_position[:, None],
            cache=self.cache,
            use_cache=True,
        ).logits[:, -1]
        self.next_position = self.next_position + 1


def _left_pad(tensor, width: int, dim: int):
    """`tensor` with zeros prepended along `dim` up to `width` (zero keys and values are masked out anyway)."""
    import torch.nn.functional as F

    missing = width - tensor.shape[dim]
    if not missing:
        return tensor
    pad = [0, 0] * (tensor.dim() - dim % tensor.dim() - 1) + [missing, 0]
    return F.pad(tensor, pad)


def _eos_ids(model, tokenizer) -> set[int]:
    configured = getattr(model.generation_config, "eos_token_id", None)
    if configured is None:
        configured = tokenizer.eos_token_id
    if configured is None:
        return set()
    return set(configured) if isinstance(configured, list | tuple) else {configured}


class _Sampler:
    """Greedy (temperature 0), or temperature -> top-k -> top-p sampling as `model.generate` warps logits."""

    def __init__(self, temperature: float, top_p: float, top_k: int | None):
        self.temperature, self.top_p, self.top_k = temperature, top_p, top_k

    def __call__(self, logits):
        import torch

        logits = logits.float()
        if self.temperature <= 0:
            return logits.argmax(-1)
        logits = logits / self.temperature
        if self.top_k:
            kth = torch.topk(logits, min(self.top_k, logits.shape[-1]), dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if self.top_p < 1.0:
            sorted_logits, sorted_index = torch.sort(logits, descending=False)
            cumulative = sorted_logits.softmax(-1).cumsum(-1)
            remove = cumulative <= 1 - self.top_p
            remove[:, -1] = False  # keep at least the most likely token
            logits = logits.masked_fill(remove.scatter(1, sorted_index, remove), float("-inf"))
        return torch.multinomial(logits.softmax(-1), 1)[:, 0]


class _StopStrings:
    """`StopStringCriteria`'s rule on text: a stop string that ends inside the newest token (it may start in
    the prompt, and the token may run past its end) stops the row."""

    def __init__(self, tokenizer, stop_strings):
        self.tokenizer = tokenizer
        self.strings = tuple(s for s in stop_strings if s)
        # a stop string of n characters spans at most n tokens; a few more absorb partial UTF-8 bytes
        self.window = max((len(s) for s in self.strings), default=0) + 4

    def completed(self, prompt_ids, generated) -> bool:
        if not self.strings:
            return False
        tail = generated[-self.window :]
        if len(tail) < self.window:
            tail = prompt_ids[len(tail) - self.window :] + tail
        text = self.tokenizer.decode(tail)
        before = len(self.tokenizer.decode(tail[:-1]))
        for stop in self.strings:
            if text.find(stop, max(0, before - len(stop) + 1)) != -1:
                return True
        return False

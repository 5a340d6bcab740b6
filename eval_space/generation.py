"""The generation engine: batched decoding with the KV cache that stops paying for a row once it is done.

    texts = generate_texts(model, tokenizer, prompts, max_new_tokens=256, stop_strings=task.stop_sequences)

What it does differently from a loop of `model.generate` over the rows in task order:

- rows are sorted by prompt length before they are cut into batches, so a batch pads little, and a batch of
  long prompts holds fewer rows (a KV-cache budget, `plan_batches`), so one outlier cannot pad a full batch;
- a row that has produced EOS or a stop string leaves the running batch (its KV cache rows are dropped), so
  the rest of the batch stops computing tokens nobody reads;
- the model runs in the dtype `resolve_dtype` picks ("auto": bf16 on CUDA, and on a CPU whose bf16 matmul
  beats fp32 in a short probe; fp32 otherwise);
- the prompt pass computes the logits of the last position only.

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


# the prompt length a full batch is sized for: above it, a batch holds fewer rows (`plan_batches`)
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

    parameter = next(model.parameters())
    return {
        "dtype": str(parameter.dtype).removeprefix("torch."),
        "device": str(parameter.device),
        "threads": torch.get_num_threads(),
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
) -> list[Completion]:
    """One completion per prompt (repeat a prompt for several samples), in the order of `prompts`.

    Sampling draws from torch's global generator: `torch.manual_seed(s)` before the call makes it reproducible.
    `progress(n)` is called as rows finish."""
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
    # longest first: the first batch shows at once whether memory suffices, and shorter ones only get faster
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
    results: list[Completion | None] = [None] * len(prompts)
    with torch.inference_mode():
        for rows in plan_batches([len(encoded[i]) for i in order], order, batch_size, max_new_tokens):
            for row, completion in zip(
                rows,
                _decode_batch(
                    model,
                    [encoded[i] for i in rows],
                    max_new_tokens,
                    pad_id,
                    eos_ids,
                    sampler,
                    stops,
                    progress,
                ),
                strict=True,
            ):
                results[row] = completion
    texts = tokenizer.batch_decode([c.text for c in results], skip_special_tokens=True)
    return [Completion(text, c.new_tokens, c.stop) for text, c in zip(texts, results, strict=True)]


def plan_batches(
    lengths: list[int], order: list[int], batch_size: int, max_new_tokens: int
) -> list[list[int]]:
    """Cut `order` (rows sorted longest prompt first; `lengths` in that order) into batches of at most
    `batch_size` rows whose KV cache holds at most `batch_size * (CACHE_ROW + max_new_tokens)` positions.

    Every row of a batch is left-padded to its longest prompt, and each decoding step reads the whole cache:
    without the budget one long outlier (MBPP's test split has a 1,735-token prompt, the next is 196) pads 63
    short rows to its length and makes every step of that batch attend over ~2,000 positions."""
    budget = batch_size * (CACHE_ROW + max_new_tokens)
    batches, start = [], 0
    while start < len(order):
        width = lengths[start] + max_new_tokens  # the longest row is the batch's first
        rows = max(1, min(batch_size, budget // width))
        batches.append(order[start : start + rows])
        start += rows
    return batches


def _decode_batch(model, prompt_ids, max_new_tokens, pad_id, eos_ids, sampler, stops, progress):
    """Left-padded prefill, then one token a step for the rows still running; returns token-id Completions."""
    import torch
    from transformers import DynamicCache

    device = next(model.parameters()).device
    width = max(len(ids) for ids in prompt_ids)
    input_ids = torch.full((len(prompt_ids), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(prompt_ids), width), dtype=torch.long)
    for r, ids in enumerate(prompt_ids):
        input_ids[r, width - len(ids) :] = torch.tensor(ids)
        attention[r, width - len(ids) :] = 1
    input_ids, attention = input_ids.to(device), attention.to(device)
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache(config=model.config)
    logits = model(
        input_ids=input_ids,
        attention_mask=attention,
        position_ids=positions,
        cache=cache,
        use_cache=True,
        logits_to_keep=1,
    ).logits[:, -1]
    next_position = positions[:, -1] + 1

    running = list(range(len(prompt_ids)))  # batch slot -> row
    generated = [[] for _ in prompt_ids]
    done: list[Completion | None] = [None] * len(prompt_ids)
    eos = torch.tensor(sorted(eos_ids), device=device)
    for step in range(max_new_tokens):
        tokens = sampler(logits)
        is_eos = torch.isin(tokens, eos).tolist() if eos_ids else [False] * len(running)
        tokens_list = tokens.tolist()
        keep = []
        for slot, row in enumerate(running):
            if is_eos[slot]:
                done[row] = Completion(generated[row], len(generated[row]) + 1, "eos")
                continue
            generated[row].append(tokens_list[slot])
            if stops.completed(prompt_ids[row], generated[row]):
                done[row] = Completion(generated[row], len(generated[row]), "stop_string")
            elif step == max_new_tokens - 1:
                done[row] = Completion(generated[row], len(generated[row]), "length")
            else:
                keep.append(slot)
        if progress is not None and len(keep) < len(running):
            progress(len(running) - len(keep))
        if not keep:
            break
        if len(keep) < len(running):
            # finished rows leave the batch: their cache rows, mask rows and positions go
            index = torch.tensor(keep, device=device)
            cache.batch_select_indices(index)
            attention, next_position, tokens = attention[index], next_position[index], tokens[index]
            running = [running[slot] for slot in keep]
        attention = torch.cat([attention, attention.new_ones((len(running), 1))], dim=1)
        logits = model(
            input_ids=tokens[:, None],
            attention_mask=attention,
            position_ids=next_position[:, None],
            cache=cache,
            use_cache=True,
        ).logits[:, -1]
        next_position = next_position + 1
    return done


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

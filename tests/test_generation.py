"""The generation engine against a plain `model.generate` loop, on a tiny Llama built from config (CPU, fp32)."""

import pytest
import torch

from eval_space.generation import (
    CACHE_ROW,
    PREFILL_PADDING,
    PREFILL_POSITIONS,
    DtypeError,
    admit_count,
    generate_texts,
    prefill_groups,
    prepare_model,
    resolve_dtype,
)
from eval_space.harness import generate
from eval_space.tasks import HumanEval, get_task

MAX_NEW = 24


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A byte-level BPE trained on HumanEval and a 2-layer Llama initialised from config (as test_harness)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = [doc["prompt"] + doc["canonical_solution"] for doc in HumanEval().get_dataset()]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|pad|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|endoftext|>", pad_token="<|pad|>", model_max_length=4096
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config).eval()
    return model, tokenizer


def plain_loop(model, tokenizer, prompts, stop_strings, batch_size=3):
    """What the harness did before the engine: `model.generate` over the rows in order, batch by batch."""
    tokenizer.padding_side = "left"
    texts = []
    for start in range(0, len(prompts), batch_size):
        encoded = tokenizer(prompts[start : start + batch_size], return_tensors="pt", padding=True)
        with torch.inference_mode():
            output = model.generate(
                **encoded,
                max_new_tokens=MAX_NEW,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                stop_strings=list(stop_strings) or None,
                tokenizer=tokenizer,
            )
        texts += tokenizer.batch_decode(output[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
    return texts


def mixed_prompts():
    """Seven HumanEval prompts cut to very different lengths (10 to ~400 characters)."""
    docs = HumanEval().get_dataset()
    return [doc["prompt"][:cut] for doc, cut in zip(docs, (10, 400, 60, 250, 25, 130, 333), strict=False)]


def ascii_piece(text: str, start: int, length: int) -> str:
    """The first run of `length` printable ASCII characters at or after `start` (no partial UTF-8 bytes)."""
    for i in range(start, len(text) - length + 1):
        piece = text[i : i + length]
        if piece.isascii() and piece.isprintable() and piece.strip():
            return piece
    raise AssertionError(f"no ASCII piece in {text!r}")


def test_greedy_engine_equals_plain_generate_loop_with_stop_strings_and_eos(tiny):
    model, tokenizer = tiny
    prompts = mixed_prompts()
    unconstrained = plain_loop(model, tokenizer, prompts, ())
    # stop strings this model really produces, each first completed at a different step in a different row,
    # and an EOS id it produces in another row: rows leave the running batch at different steps
    stop_strings = [ascii_piece(unconstrained[0], 5, 2), ascii_piece(unconstrained[3], 12, 3)]
    eos_row = tokenizer(unconstrained[5], add_special_tokens=False)["input_ids"]
    model.generation_config.eos_token_id = [tokenizer.eos_token_id, eos_row[min(8, len(eos_row) - 1)]]
    try:
        expected = plain_loop(model, tokenizer, prompts, stop_strings)
        engine = generate_texts(model, tokenizer, prompts, MAX_NEW, stop_strings, batch_size=4)
    finally:
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    assert [c.text for c in engine] == expected
    stops = {c.stop for c in engine}
    assert {"stop_string", "eos"} <= stops, stops
    assert len({c.new_tokens for c in engine}) >= 3  # rows really finished at different steps
    truncate = get_task("humaneval").truncate_at_stop
    assert [truncate(c.text) for c in engine] == [truncate(t) for t in expected]


def test_engine_in_harness_keeps_doc_order_and_task_stops(tiny):
    model, tokenizer = tiny
    task = get_task("mbpp")
    docs = task.get_dataset()[:5]
    prompts = [task.get_prompt(doc) for doc in docs]
    expected = plain_loop(model, tokenizer, prompts, task.stop_sequences, batch_size=5)
    # fp32 like the plain loop (auto is bf16 on a CPU with native bf16, and greedy bf16 may pick other tokens)
    generations = generate(
        model, tokenizer, task, docs, max_new_tokens=MAX_NEW, batch_size=2, progress=False, dtype="float32"
    )
    assert [g["task_id"] for g in generations] == [task.get_problem_id(d) for d in docs]
    assert [g["completions"][0] for g in generations] == expected
    assert [g["programs"][0] for g in generations] == [task.postprocess_generation(t, {}) for t in expected]
    seen = []

    def postprocess(text, doc):
        seen.append(doc["task_id"])
        return "# " + text

    custom = generate(
        model,
        tokenizer,
        task,
        docs,
        max_new_tokens=4,
        postprocess_fn=postprocess,
        dtype="float32",
        progress=False,
    )
    assert seen == [d["task_id"] for d in docs]
    assert all(g["programs"][0] == "# " + g["completions"][0] for g in custom)


def test_seeded_sampling_is_reproducible(tiny):
    model, tokenizer = tiny
    prompts = mixed_prompts()[:4] * 2

    def sample(seed):
        torch.manual_seed(seed)
        return [
            c.text
            for c in generate_texts(
                model, tokenizer, prompts, MAX_NEW, ("\n\n",), batch_size=3, temperature=0.8
            )
        ]

    first = sample(1)
    assert sample(1) == first
    assert sample(2) != first  # the draws really depend on the seed


def test_bad_dtype_is_a_clear_error_naming_the_option(tiny, monkeypatch):
    model, _ = tiny
    with pytest.raises(DtypeError, match=r"--dtype 'float16' is not supported: choose one of auto"):
        prepare_model(model, "float16")
    import eval_space.generation as generation

    monkeypatch.setattr(generation, "cpu_supports_bf16", lambda: False)
    with pytest.raises(DtypeError, match=r"--dtype bfloat16: this CPU .* use --dtype float32"):
        resolve_dtype("bfloat16", "cpu")
    assert resolve_dtype("auto", "cpu") == "float32"  # without native bf16, auto never picks it
    assert next(model.parameters()).dtype == torch.float32  # a refused dtype leaves the model as it was


def test_evaluate_rejects_unknown_dtype_at_the_parser():
    from codereps.cli import main as codereps_main

    with pytest.raises(SystemExit) as raised:
        codereps_main(["evaluate", "--model", "x", "--task", "mbpp", "--dtype", "float16"])
    assert raised.value.code == 2


def test_admission_keeps_a_long_outlier_from_padding_a_full_batch():
    # MBPP's test split: one 1,735-token prompt, then ~200 and shorter (longest first, as the engine admits)
    budget = 64 * (CACHE_ROW + 256)
    assert admit_count(1735, 0, 0, 64, 64, 256) == budget // (1735 + 256)  # the outlier's batch is narrow
    assert admit_count(196, 1, 1735, 63, 64, 256) == budget // (1735 + 256) - 1  # still beside it
    assert admit_count(196, 0, 0, 64, 64, 256) == 64  # ordinary prompts fill the whole batch
    assert admit_count(60, 56, 196, 8, 64, 256) == 8  # free places are refilled
    assert admit_count(40_000, 0, 0, 64, 64, 256) == 1  # a prompt over the whole budget still runs, alone
    assert admit_count(40_000, 3, 100, 61, 64, 256) == 0  # ... but only once the batch is empty


def test_refilled_batch_gives_the_programs_of_each_row_decoded_alone(tiny):
    model, tokenizer = tiny
    prompts = mixed_prompts() * 2  # 14 rows through 2 or 3 places: rows join and leave at every step or so
    free = generate_texts(model, tokenizer, prompts[:7], MAX_NEW, (), batch_size=7)
    stops = (ascii_piece(free[0].text, 5, 2), ascii_piece(free[3].text, 12, 3))  # met at different steps
    alone = [generate_texts(model, tokenizer, [p], MAX_NEW, stops, batch_size=1)[0] for p in prompts]
    for batch_size in (2, 3, 16):
        together = generate_texts(model, tokenizer, prompts, MAX_NEW, stops, batch_size=batch_size)
        assert [c.text for c in together] == [c.text for c in alone], batch_size
        assert [(c.new_tokens, c.stop) for c in together] == [(c.new_tokens, c.stop) for c in alone]
    assert len({c.new_tokens for c in alone}) >= 3  # rows really finish at different steps


def test_rows_wait_while_the_running_batch_has_no_cache_budget_for_them(tiny):
    model, tokenizer = tiny
    batch_size = 3
    budget = batch_size * (CACHE_ROW + MAX_NEW)
    doc_prompts = [doc["prompt"] for doc in HumanEval().get_dataset()[:12]]
    long = "".join(doc_prompts)
    long = long[
        : next(
            n
            for n in range(200, len(long), 50)
            if len(tokenizer(long[:n])["input_ids"]) + MAX_NEW > budget // 2
        )
    ]
    prompts = [long, *mixed_prompts()[:4]]
    # the long row runs by itself: no queued row fits beside it, so admission yields 0 rows until it ends
    assert (
        admit_count(
            len(tokenizer(prompts[1])["input_ids"]),
            1,
            len(tokenizer(long)["input_ids"]),
            2,
            batch_size,
            MAX_NEW,
        )
        == 0
    )
    alone = [generate_texts(model, tokenizer, [p], MAX_NEW, (), batch_size=1)[0] for p in prompts]
    together = generate_texts(model, tokenizer, prompts, MAX_NEW, (), batch_size=batch_size)
    assert [(c.text, c.new_tokens, c.stop) for c in together] == [
        (c.text, c.new_tokens, c.stop) for c in alone
    ]


def test_programs_do_not_depend_on_when_the_kv_cache_reallocates(tiny, monkeypatch):
    from eval_space import kv_cache

    model, tokenizer = tiny
    prompts = mixed_prompts() * 2
    default = generate_texts(model, tokenizer, prompts, MAX_NEW, (), batch_size=3)
    monkeypatch.setattr(kv_cache, "HEADROOM", 1)  # a new buffer at every other step
    tight = generate_texts(model, tokenizer, prompts, MAX_NEW, (), batch_size=3)
    assert [c.text for c in tight] == [c.text for c in default]


def test_prefill_groups_bound_the_padding_and_cover_every_row_once():
    lengths = [49, 12, 119, 50, 48, 30, 31, 119, 8, 60, 47] * 6 + [1735]
    groups = prefill_groups(lengths)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))
    for group in groups:
        longest = max(lengths[i] for i in group)
        assert lengths[group[0]] == longest  # longest first, so rows join a group no longer than its head
        if len(group) > 1:
            assert longest * len(group) <= (1 + PREFILL_PADDING) * sum(lengths[i] for i in group)
            assert longest * len(group) <= PREFILL_POSITIONS
    assert [1735] in [[lengths[i] for i in group] for group in groups]  # the outlier pads nobody
    assert len(prefill_groups([40] * 200)) == 2  # equal prompts: only the positions bound splits them


def test_programs_equal_a_plain_loop_when_a_batch_is_prefilled_in_several_groups(tiny):
    model, tokenizer = tiny
    prompts = mixed_prompts()
    lengths = [len(tokenizer(p)["input_ids"]) for p in prompts]
    assert len(prefill_groups(lengths)) > 2  # one batch of all seven rows, prefilled in several passes
    unconstrained = plain_loop(model, tokenizer, prompts, ())
    stop_strings = [ascii_piece(unconstrained[0], 5, 2), ascii_piece(unconstrained[3], 12, 3)]
    expected = plain_loop(model, tokenizer, prompts, stop_strings)
    engine = generate_texts(model, tokenizer, prompts, MAX_NEW, stop_strings, batch_size=len(prompts))
    assert [c.text for c in engine] == expected

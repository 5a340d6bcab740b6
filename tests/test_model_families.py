"""Variants A, B and C on a tiny random model of every architecture the seed research names.

Each model is built from transformers' own config class for that family (tiny dimensions, a small BPE
tokenizer trained in the test), trained for a few real steps per variant, merged, reloaded with
`AutoModelForCausalLM` and asked to generate. C resizes the embeddings and trains the new rows, which is
where tied vs untied heads, head biases and learned position tables differ between families.
"""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.train_fixtures import humaneval_rows, tiny_ir_tokens, write_dataset_repo
from trainers.run import train_variant
from trainers.sft import parse
from trainers.tiny_model import python_corpus, tiny_config, train_tiny_tokenizer

pytestmark = pytest.mark.slow

TINY = dict(n_embd=64, n_layer=2, n_head=4)  # the GPT-2-style names (GPT2, GPTBigCode, CodeGen)


def _config(family: str, tokenizer):
    """The seed's model families, each from its own config class (tiny, random weights)."""
    from transformers import CodeGenConfig, GPT2Config, GPTBigCodeConfig, GPTNeoXConfig, XGLMConfig

    vocab = len(tokenizer)
    ids = dict(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if family in ("llama", "phi"):  # SmolLM2 (tied head), phi-1 (untied head with a bias)
        return tiny_config(family, vocab, tokenizer)
    if family == "codegen":  # codegen-350M-mono
        return CodeGenConfig(vocab_size=vocab, n_positions=1024, n_ctx=1024, rotary_dim=8, **TINY, **ids)
    if family == "gpt_bigcode":  # santacoder as ported to transformers (multi-query attention)
        return GPTBigCodeConfig(vocab_size=vocab, n_positions=1024, multi_query=True, **TINY, **ids)
    if family == "gpt2":  # codeparrot
        return GPT2Config(vocab_size=vocab, n_positions=1024, **TINY, **ids)
    if family == "xglm":  # incoder-1B
        return XGLMConfig(
            vocab_size=vocab,
            max_position_embeddings=1024,
            d_model=64,
            ffn_dim=128,
            num_layers=2,
            attention_heads=4,
            decoder_start_token_id=tokenizer.bos_token_id,
            **ids,
        )
    if family == "gpt_neox":  # PolyCoder-0.4B
        return GPTNeoXConfig(
            vocab_size=vocab,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=1024,
            rotary_pct=0.25,
            **ids,
        )
    raise ValueError(family)


FAMILIES = {
    "llama": "LlamaForCausalLM",
    "phi": "PhiForCausalLM",
    "codegen": "CodeGenForCausalLM",
    "gpt_bigcode": "GPTBigCodeForCausalLM",
    "gpt2": "GPT2LMHeadModel",
    "xglm": "XGLMForCausalLM",
    "gpt_neox": "GPTNeoXForCausalLM",
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    write_dataset_repo(root / "dataset", "humaneval", "test", humaneval_rows(12))
    tokenizer = train_tiny_tokenizer(python_corpus(max_chars=150_000), vocab_size=400)
    tokenizer.save_pretrained(root / "tokenizer")
    return root


def _build(workdir, family: str):
    folder = workdir / f"tiny-{family}"
    if not (folder / "config.json").exists():
        tokenizer = AutoTokenizer.from_pretrained(workdir / "tokenizer")
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(_config(family, tokenizer))
        assert type(model).__name__ == FAMILIES[family]
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return folder


def _train(workdir, family: str, variant: str):
    base = _build(workdir, family)
    tokenizer = AutoTokenizer.from_pretrained(base)
    ir_tokens = tiny_ir_tokens(tokenizer, [r["ast"] for r in humaneval_rows(12)]) if variant == "C" else None
    argv = [
        *("--model_name_or_path", str(base), "--dataset_name", str(workdir / "dataset")),
        *("--dataset_config", "humaneval", "--dataset_train_split", "test"),
        *(
            "--variant",
            variant,
            "--ir",
            "ast",
            "--output_dir",
            str(workdir / "models" / f"{family}-{variant}"),
        ),
        *("--max_steps", "6", "--per_device_train_batch_size", "4", "--learning_rate", "1e-2"),
        *("--lora_r", "8", "--lora_alpha", "16", "--logging_steps", "1", "--max_length", "384"),
        *("--save_steps", "100", "--seed", "0", "--report_to", "none"),
    ]
    if ir_tokens is not None:
        argv += ["--ir_tokenizer", "given-in-process"]
    return train_variant(*parse(argv), ir_tokens=ir_tokens), ir_tokens


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_variants_train_merge_reload_and_generate(workdir, family):
    for variant in ("A", "B", "C"):
        log, ir_tokens = _train(workdir, family, variant)
        assert log["final_loss"] < log["first_loss"], (family, variant, log["loss_curve"])
        merged_dir = workdir / "models" / f"{family}-{variant}" / "merged"
        merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
        assert type(merged).__name__ == FAMILIES[family]
        tokenizer = AutoTokenizer.from_pretrained(merged_dir)
        inputs = tokenizer("def add(a, b):\n", return_tensors="pt")
        out = merged.generate(
            **inputs, max_new_tokens=6, do_sample=False, pad_token_id=tokenizer.pad_token_id
        )
        assert out.shape[1] > inputs["input_ids"].shape[1], (family, variant)
        if variant == "C":
            base = AutoModelForCausalLM.from_pretrained(workdir / f"tiny-{family}")
            base_rows = base.get_input_embeddings().weight
            rows = merged.get_input_embeddings().weight
            assert rows.shape[0] == ir_tokens.vocab_size == len(tokenizer)
            new_rows = rows[ir_tokens.new_ids]
            # the new rows started at the mean of the base rows; training moved them
            assert not torch.allclose(new_rows, base_rows.mean(0).expand_as(new_rows), atol=1e-4), family

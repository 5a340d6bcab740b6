"""Tiny real artifacts laid out like a `codereps experiment` run folder, for hub and publish tests.

<run>/dataset/                 parquet + README with YAML configs (config `tiny`)
<run>/tokenizers/cfg-512/      a BPE tokenizer trained here + README
<run>/models/tiny-C/merged/    a tiny Llama + tokenizer + README (model card)
<run>/models/tiny-C/adapter/   a real PEFT LoRA adapter of that model
<run>/results/*.json, <run>/tokenizer_report/
"""

from leaderboard_fixtures import write_results_folder

DATASET_README = """---
license: cc-by-4.0
configs:
- config_name: tiny
  data_files:
  - split: train
    path: data/tiny/train-00000-of-00001.parquet
  - split: test
    path: data/tiny/test-00000-of-00001.parquet
---

# tiny
"""

MODEL_README = """---
license: apache-2.0
library_name: transformers
base_model: tiny-llama
---

# tiny
"""


def make_dataset_folder(folder):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "data" / "tiny").mkdir(parents=True)
    (folder / "README.md").write_text(DATASET_README)
    for split, n in (("train", 3), ("test", 2)):
        table = pa.table({"src": [f"def f{i}(): return {i}" for i in range(n)], "n_params": list(range(n))})
        pq.write_table(table, folder / "data" / "tiny" / f"{split}-00000-of-00001.parquet")
    return folder


def train_tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = ["def add(a, b):\n    return a + b\n", "def neg(x):\n    return -x\n"] * 20
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(
        corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"])
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")


def make_tiny_model(tokenizer):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        bos_token_id=1,
        eos_token_id=2,
    )
    return LlamaForCausalLM(config)


def make_model_folder(folder, tokenizer=None):
    """A tiny Llama model and a BPE tokenizer trained here, saved as a Hub model folder."""
    tokenizer = tokenizer or train_tiny_tokenizer()
    make_tiny_model(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "README.md").write_text(MODEL_README)
    return folder


def make_adapter_folder(folder, tokenizer):
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(make_tiny_model(tokenizer), LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_run_folder(root):
    run = root / "run"
    make_dataset_folder(run / "dataset")
    tokenizer = train_tiny_tokenizer()
    tokenizer.save_pretrained(run / "tokenizers" / "cfg-512")
    (run / "tokenizers" / "cfg-512" / "README.md").write_text(
        "---\nlicense: apache-2.0\ntags:\n- tokenizer\n---\n"
    )
    make_model_folder(run / "models" / "tiny-C" / "merged", tokenizer)
    make_adapter_folder(run / "models" / "tiny-C" / "adapter", tokenizer)
    write_results_folder(run)
    return run

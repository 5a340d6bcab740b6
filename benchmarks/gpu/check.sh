#!/usr/bin/env bash
# GPU path check for a lent H200 (NOT RUN YET: no device was lent to the session that wrote it).
# Needs on the device: torch, transformers, peft, accelerate (in the image) + bitsandbytes carried as a wheel:
#   pip download bitsandbytes==0.50.2 --no-deps -d benchmarks/gpu/wheels   # manylinux, ~43 MB (< 64 MiB carry)
# then:  bash benchmarks/gpu/check.sh     (from the repository root; a few minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
if ls benchmarks/gpu/wheels/*.whl >/dev/null 2>&1; then
    python -m pip install --no-deps --quiet benchmarks/gpu/wheels/*.whl
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python - <<'PY'
import tempfile, time
import torch
from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoTokenizer, BitsAndBytesConfig, PhiConfig, PhiForCausalLM, PreTrainedTokenizerFast
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers as tk_trainers

from eval_space.generation import describe, generate_texts, prepare_model
from eval_space.tasks import get_task

assert torch.cuda.is_available(), "no CUDA device"
work = tempfile.mkdtemp(prefix="gpu-check-")
task = get_task("humaneval")
docs = task.get_dataset()
texts = [d["prompt"] + d["canonical_solution"] for d in docs]
# a byte-level BPE on HumanEval stands in for phi-1's tokenizer (no Hub here); 200 "IR" tokens extend it (variant C)
backend = Tokenizer(models.BPE())
backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
backend.decoder = decoders.ByteLevel()
backend.train_from_iterator(texts, tk_trainers.BpeTrainer(vocab_size=2000, special_tokens=["<|endoftext|>"],
                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
base_vocab = len(tokenizer)
tokenizer.add_tokens([f"<ir_{i}>" for i in range(200)])
# phi-1 sized (1.3B): 24 layers, hidden 2048, 32 heads, MLP 8192; random weights
config = PhiConfig(vocab_size=base_vocab, hidden_size=2048, intermediate_size=8192, num_hidden_layers=24,
                   num_attention_heads=32, max_position_embeddings=2048, eos_token_id=0, pad_token_id=0)
PhiForCausalLM(config).to(torch.bfloat16).save_pretrained(f"{work}/base")
bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                         bnb_4bit_compute_dtype=torch.bfloat16)
model = PhiForCausalLM.from_pretrained(f"{work}/base", quantization_config=bnb, device_map={"": 0})
model.resize_token_embeddings(len(tokenizer))
model = prepare_model_for_kbit_training(model)
new_rows = list(range(base_vocab, len(tokenizer)))
lora = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM",
                  trainable_token_indices={"embed_tokens": new_rows})
model = get_peft_model(model, lora)
optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
ir = " ".join(f"<ir_{i % 200}>" for i in range(32))
batch_texts = [ir + t for t in texts]
torch.cuda.reset_peak_memory_stats()
tokens, start = 0, time.perf_counter()
for step in range(30):
    batch = tokenizer(batch_texts[step * 8 % 160 : step * 8 % 160 + 8], return_tensors="pt", padding=True,
                      truncation=True, max_length=512).to("cuda")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    loss = model(**batch, labels=labels).loss
    loss.backward(); optim.step(); optim.zero_grad()
    tokens += int(batch["attention_mask"].sum())
torch.cuda.synchronize()
train_s = time.perf_counter() - start
print(f"train: 30 QLoRA steps (variant C, NF4 + double quant, bf16 compute), loss {loss.item():.3f}, "
      f"{tokens / train_s:.0f} train tokens/s, peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
model.save_pretrained(f"{work}/adapter")
del model, optim
torch.cuda.empty_cache()
# merge into the unquantized bf16 base (merging into NF4 weights would round the update away)
base = PhiForCausalLM.from_pretrained(f"{work}/base", dtype=torch.bfloat16).to("cuda")
base.resize_token_embeddings(len(tokenizer))
merged = PeftModel.from_pretrained(base, f"{work}/adapter").merge_and_unload()
prepare_model(merged, "auto")
torch.cuda.reset_peak_memory_stats()
prompts = [d["prompt"] for d in docs[:128]]
start = time.perf_counter()
out = generate_texts(merged, tokenizer, prompts, 256, task.stop_sequences)
torch.cuda.synchronize()
gen_s = time.perf_counter() - start
n = sum(c.new_tokens for c in out)
print(f"generate: {len(prompts)} HumanEval prompts, engine {describe(merged)}, {n / gen_s:.0f} generated tokens/s, "
      f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
PY

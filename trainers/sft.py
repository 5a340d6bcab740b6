"""Fine-tune a causal LM on prompt -> solution for one variant (TRL SFTTrainer, LoRA / QLoRA).

    A:      prompt -> solution
    B:      (prompt, IR of the solution as text) -> solution
    C:      B with the IR written in new IR tokens added to the vocabulary (new embedding rows trained)
    B-plan: prompt -> (IR of the solution as text, then the solution); the model writes the IR at test time
    C-plan: B-plan with the IR in the new IR tokens (their embedding and output rows trained)
    A-aux:  A plus source -> IR and IR -> source rows (`--aux_corpus DATASET[:CONFIG]` adds a corpus's)

What each variant is: `codereps/variants.py`; its prompts and targets: `codereps/prompts.py`.

# SmolLM2-135M on MBPP, LoRA fp32 on CPU
```bash
codereps train --config configs/smol.yaml --variant B \\
    --dataset_name build/experiments/smol/dataset \\
    --output_dir build/experiments/smol/models/codereps-smollm2-B
```

# phi-1, QLoRA (NF4, double quantization, bf16 compute) on one GPU, variant C
```bash
codereps train --config configs/phi1.yaml --variant C \\
    --ir_tokenizer build/experiments/phi1/tokenizers/cfg-extended-phi1 \\
    --dataset_name build/experiments/phi1/dataset \\
    --output_dir build/experiments/phi1/models/codereps-phi-1-C
```

# C-plan from a warm-up's model (`python -m trainers.warmup ...`: its vocabulary already has the IR tokens)
```bash
codereps train --config configs/smol.yaml --variant C-plan \
    --model_name_or_path build/warmup/smollm2-cfg-ir-tokens/merged \
    --ir_tokenizer build/experiments/smol/tokenizers/cfg-extended \
    --dataset_name build/experiments/smol/dataset \
    --output_dir build/experiments/smol/models/codereps-smollm2-C-plan-warm
```

# Several GPUs (data parallel; same flags)
```bash
accelerate launch --num_processes 4 -m trainers.sft --config configs/phi1.yaml --variant A ...
```

# Resume a killed run from its last checkpoint
```bash
codereps train --config configs/smol.yaml --variant B ... --resume
```

Outputs in `--output_dir`: `checkpoint-*/`, `adapter/`, `merged/` (loads with
`AutoModelForCausalLM.from_pretrained`, tokenizer included — the extended one
for C), `training_log.json`, `loss.png`, and the model card `merged/README.md`.
"""

import argparse
import sys


def main(script_args, training_args, model_args) -> dict:
    """Train one variant (`trainers.sft_config` holds the three configs); returns its training log (also written to `<output_dir>/training_log.json`)."""
    from trainers.run import train_variant

    return train_variant(script_args, training_args, model_args)


def make_parser(prog: str | None = None):
    from trl import TrlParser

    from trainers.sft_config import TrainConfig, TrainModelConfig, TrainScriptArguments

    return TrlParser((TrainScriptArguments, TrainConfig, TrainModelConfig), prog=prog)


def parse(argv: list[str] | None = None, prog: str | None = None):
    script_args, training_args, model_args = make_parser(prog).parse_args_and_config(args=argv)
    return script_args, training_args, model_args


def add_parser(subparsers):
    """`codereps train`: the flags are TRL's (`codereps train --help` lists them); heavy imports run on use."""
    parser = subparsers.add_parser(
        "train",
        help="fine-tune one variant: A, B, C, B-plan, C-plan, A-aux (TRL SFTTrainer, LoRA/QLoRA)",
        add_help=False,
        prefix_chars="\0",  # every flag goes to the TRL parser, --help included
    )
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    parser.set_defaults(func=_run_from_cli)
    return parser


def _run_from_cli(args) -> int:
    from trainers.errors import user_errors

    try:
        main(*parse(args.argv, prog="codereps train"))
    except user_errors() as e:
        print(f"codereps train: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    main(*parse(sys.argv[1:]))

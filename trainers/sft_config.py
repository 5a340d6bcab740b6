"""The `codereps train` configuration: TRL's dataclasses with only this project's fields and defaults.

Kept apart from `trainers/sft.py` because importing `trl` takes seconds, and
`codereps --help` imports every subcommand module.
"""

from dataclasses import dataclass, field

from trl import ModelConfig, ScriptArguments, SFTConfig

from codereps.prompts import DEFAULT_IR, IR_FIELDS, VARIANTS, check_ir, check_variant


@dataclass
class TrainScriptArguments(ScriptArguments):
    variant: str = field(
        default="A", metadata={"help": f"Which model to train: one of {', '.join(VARIANTS)}."}
    )
    ir: str = field(
        default=DEFAULT_IR,
        metadata={"help": f"IR field of the variants that use one (all but A): {', '.join(IR_FIELDS)}."},
    )
    ir_tokenizer: str | None = field(
        default=None,
        metadata={
            "help": "Variants C and C-plan: folder of the extended tokenizer (base vocabulary + IR tokens)."
        },
    )
    aux_corpus: str | None = field(
        default=None,
        metadata={
            "help": "A-aux: also translation rows from the train split of this dataset, DATASET[:CONFIG] "
            "(a dataset folder or Hub repo of this project, e.g. `build/corpus:local`)."
        },
    )
    aux_corpus_rows: int = field(
        default=1000,
        metadata={"help": "A-aux: at most this many --aux_corpus rows (two translation rows each)."},
    )
    limit: int | None = field(default=None, metadata={"help": "Train on the first N rows only (quick runs)."})
    merge: bool = field(
        default=True, metadata={"help": "Also write the merged model to `<output_dir>/merged`."}
    )
    resume: bool = field(default=False, metadata={"help": "Resume from the last checkpoint in `output_dir`."})

    def __post_init__(self):
        variant = check_variant(self.variant)
        check_ir(self.ir)
        if variant.needs_extension and not self.ir_tokenizer:
            raise ValueError(
                f"variant {variant.name} needs --ir_tokenizer (the extended tokenizer folder from "
                "`codereps tokenizer extend`)"
            )
        if self.aux_corpus and not variant.aux_rows:
            raise ValueError(f"--aux_corpus is for variants with auxiliary rows (A-aux), not {variant.name}")
        if self.dataset_config is None:
            self.dataset_config = "mbpp"


class Bf16UnsupportedError(ValueError):
    """`bf16: true` on a CPU without native bf16 matmul."""


@dataclass
class TrainConfig(SFTConfig):
    """SFTConfig with this project's defaults: loss on completions; on CPU, bf16 autocast (fp32 master weights)
    when the CPU has native bf16 matmul (AVX512-BF16 / AMX) that a probe measures faster than fp32 (the engine's
    `--dtype auto` rule), fp32 otherwise; `bf16: false` forces fp32, `bf16: true` forces bf16 where it is native."""

    completion_only_loss: bool | None = field(
        default=True, metadata={"help": "Loss on the solution tokens only (the prompt is masked)."}
    )

    def __post_init__(self):
        import torch

        from eval_space.generation import cpu_bf16_is_faster, cpu_supports_bf16

        if not torch.cuda.is_available():
            self.use_cpu = True
            self.fp16 = False
            if self.bf16 is None:  # not set in the recipe or on the command line
                self.bf16 = cpu_bf16_is_faster()
            elif self.bf16 and not cpu_supports_bf16():
                raise Bf16UnsupportedError(
                    "bf16: this CPU has no native bf16 matmul (AVX512-BF16/AMX); emulated bf16 is slower "
                    "than fp32: set `bf16: false` (or --bf16 false)"
                )
        super().__post_init__()


@dataclass
class TrainModelConfig(ModelConfig):
    """ModelConfig with LoRA on every linear layer by default; `model_name_or_path` also takes `smollm2`."""

    use_peft: bool = field(
        default=True, metadata={"help": "Train a LoRA adapter (QLoRA with --load_in_4bit)."}
    )
    lora_target_modules: list[str] | None = field(
        default_factory=lambda: ["all-linear"], metadata={"help": "LoRA target modules."}
    )

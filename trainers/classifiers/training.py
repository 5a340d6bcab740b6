"""Training any of the pair classifiers with the `transformers` Trainer (CPU-friendly defaults)."""

import tempfile
import time
from dataclasses import dataclass, field

import torch
from transformers import TrainerCallback


@dataclass
class ClassifierTrainSettings:
    epochs: float = field(
        default=1.0, metadata={"help": "passes over the train split (ignored with max_steps)"}
    )
    max_steps: int = field(
        default=-1, metadata={"help": "stop after this many optimizer steps (-1: use epochs)"}
    )
    batch_size: int = field(default=32, metadata={"help": "pairs per step"})
    learning_rate: float = field(default=1e-4, metadata={"help": "peak AdamW learning rate (linear decay)"})
    new_parameters_learning_rate: float | None = field(
        default=None,
        metadata={
            "help": "peak learning rate of what the pretrained checkpoint did not provide (classification "
            "head, IR embedding tables); None: learning_rate for everything"
        },
    )
    warmup_steps: int = field(default=0, metadata={"help": "linear warm-up steps"})
    logging_steps: int = field(default=10, metadata={"help": "log the training loss every N steps"})
    seed: int = field(default=0, metadata={"help": "shuffling and initialization seed"})
    lr_scheduler: str = field(default="linear", metadata={"help": "transformers scheduler name"})
    time_limit_s: float | None = field(default=None, metadata={"help": "stop training after this wall time"})
    bf16: bool = field(
        default=False,
        metadata={
            "help": "bfloat16 autocast (weights and optimizer stay fp32); fast on CPUs with AMX or "
            "AVX512-BF16, see benchmarks/classify_throughput.py"
        },
    )


def train_classifier(classifier, train_rows, settings: ClassifierTrainSettings, callbacks=()):
    """Train in place; returns the Trainer's logged losses and throughput figures.

    `callbacks` are extra `TrainerCallback`s (a benchmark's step timer, for one).
    """
    with tempfile.TemporaryDirectory(prefix="codereps-classify-") as work_dir:
        return _train(classifier, train_rows, settings, work_dir, list(callbacks))


def _train(classifier, train_rows, settings, work_dir, extra_callbacks):
    from transformers import Trainer, TrainingArguments

    encoded = classifier.encode(train_rows)
    args = TrainingArguments(
        output_dir=work_dir,  # nothing is saved there (save_strategy="no")
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps,
        per_device_train_batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        warmup_steps=settings.warmup_steps,
        lr_scheduler_type=settings.lr_scheduler,
        logging_steps=settings.logging_steps,
        seed=settings.seed,
        save_strategy="no",  # the caller saves the final model as a Hub folder
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        bf16=settings.bf16,
        remove_unused_columns=False,  # the collator reads our own columns
        dataloader_num_workers=0,
    )
    optimizer = build_optimizer(classifier, settings)  # None: the Trainer's own AdamW
    time_limit = [StopAfterSeconds(settings.time_limit_s)] if settings.time_limit_s else []
    trainer = Trainer(
        model=classifier.model,
        args=args,
        train_dataset=encoded,
        data_collator=classifier.collator(),
        callbacks=time_limit + extra_callbacks,
        optimizers=(optimizer, None),  # the Trainer still builds the schedule, scaling each group's peak
    )
    start = time.perf_counter()
    output = trainer.train()
    wall = time.perf_counter() - start
    # under bf16, accelerate wrapped the model's forward in autocast; evaluation and saving want the
    # plain fp32 model, the one `from_pretrained` gives back
    trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return {
        "train_rows": len(train_rows),
        "steps": output.global_step,
        "train_wall_s": round(wall, 2),
        "train_pairs_per_s": round(output.global_step * settings.batch_size / wall, 2),
        "train_loss": round(output.training_loss, 4),
        "logged_losses": losses,
        "settings": settings.__dict__,
        "stopped_by_time_limit": bool(time_limit and time_limit[0].fired),
    }


def build_optimizer(classifier, settings):
    """AdamW with a second peak learning rate for the new parameters, or None when one rate serves all.

    A pretrained encoder wants a small rate (5e-5) or it forgets what it knows; its randomly initialised
    head and IR tables learn at that rate for hundreds of steps before they carry any signal.
    """
    new_lr = settings.new_parameters_learning_rate
    new_names = classifier.new_parameter_names()
    if new_lr is None or not new_names:
        return None
    named = [(n, p) for n, p in classifier.model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in named if n not in new_names], "lr": settings.learning_rate},
        {"params": [p for n, p in named if n in new_names], "lr": new_lr},
    ]
    # the Trainer's default: AdamW, no weight decay, torch's betas and eps
    return torch.optim.AdamW(groups, lr=settings.learning_rate, weight_decay=0.0)


class StopAfterSeconds(TrainerCallback):
    """Ends training once `limit_s` of wall time has passed (a shared CPU gets a fixed time budget)."""

    def __init__(self, limit_s):
        self.limit_s, self.start, self.fired = limit_s, None, False

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if time.perf_counter() - self.start > self.limit_s:
            self.fired = control.should_training_stop = True
        return control

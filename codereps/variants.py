"""What a variant of the study is, as data: every consumer asks this definition instead of comparing names.

A variant is where the IR appears and how it is written:

| variant | IR at training time                     | IR at test time          | encoding  |
| ------- | --------------------------------------- | ------------------------ | --------- |
| A       | nowhere                                 | nowhere                  | -         |
| B       | prompt (the reference solution's IR)    | prompt (reference's IR)  | text      |
| C       | prompt (the reference solution's IR)    | prompt (reference's IR)  | IR tokens |
| B-plan  | target, before the code                 | the model writes it      | text      |
| C-plan  | target, before the code                 | the model writes it      | IR tokens |
| A-aux   | only in auxiliary source <-> IR rows    | nowhere (tested as A)    | text      |

"text" is the IR written as plain text under the base tokenizer; "ir-tokens" is the IR written in the
new tokens added to the vocabulary (`tokenizer_builder.extension`), whose embedding (and output) rows
are trained. B and C see the IR of the very solution they must write: an upper bound, not a setting
anyone can deploy. B-plan/C-plan (a structural plan written first) and A-aux (IR as a training signal
only) answer the question without the answer's IR.

This module imports nothing heavy: `codereps --help` and the leaderboard read it.
"""

from dataclasses import dataclass

IR_SOURCES = ("reference", "generated", "aux", "none")
IR_ENCODINGS = ("text", "ir-tokens")


class UnknownVariantError(ValueError):
    """A variant name that is not in `VARIANTS`."""


@dataclass(frozen=True)
class Variant:
    name: str
    # "reference": the reference solution's IR in the prompt; "generated": in the target before the code (the
    # model writes it at test time); "aux": only in auxiliary translation rows; "none": nowhere.
    ir_source: str
    ir_encoding: str | None  # "text" | "ir-tokens" | None (no IR)
    aux_rows: bool = False  # training mixes in source->IR and IR->source rows (IRCoder's direction markers)
    warmup_by_default: bool = False  # warmed up on paired source/IR sequences unless told otherwise
    description: str = ""  # one line for model cards and reports

    def __post_init__(self):
        if self.ir_source not in IR_SOURCES:
            raise ValueError(f"variant {self.name}: ir_source {self.ir_source!r} not in {IR_SOURCES}")
        if (self.ir_source == "none") != (self.ir_encoding is None):
            raise ValueError(f"variant {self.name}: an IR encoding exactly when the IR appears somewhere")
        if self.ir_encoding is not None and self.ir_encoding not in IR_ENCODINGS:
            raise ValueError(f"variant {self.name}: ir_encoding {self.ir_encoding!r} not in {IR_ENCODINGS}")
        if self.aux_rows != (self.ir_source == "aux"):
            raise ValueError(f"variant {self.name}: auxiliary rows are what ir_source 'aux' means")

    @property
    def uses_ir(self) -> bool:
        """Trained with an IR field at all (the results' and logs' `ir` is null otherwise)."""
        return self.ir_source != "none"

    @property
    def needs_extension(self) -> bool:
        """Needs the extended tokenizer (base vocabulary + IR tokens) and a resized model."""
        return self.ir_encoding == "ir-tokens"

    @property
    def ir_in_prompt(self) -> bool:
        """The prompt holds the reference solution's IR, at training and at test time."""
        return self.ir_source == "reference"

    @property
    def ir_in_target(self) -> bool:
        """The target starts with the IR: the model writes it at test time, and it is removed before execution."""
        return self.ir_source == "generated"

    @property
    def warmup_encoding(self) -> str:
        """The IR encoding of this variant's warm-up (one warm-up per encoding, shared by the variants using it)."""
        return self.ir_encoding or "text"

    def results_fields(self) -> dict:
        """The results JSON's description of the variant (DESIGN.md's `ir_source`, `ir_encoding`)."""
        return {"ir_source": self.ir_source, "ir_encoding": self.ir_encoding}


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("A", "none", None, description="fine-tuned on prompt -> solution (the baseline)"),
        Variant(
            "B",
            "reference",
            "text",
            description="fine-tuned on (prompt, IR of the solution) -> solution, the IR written as text "
            "under the base tokenizer",
        ),
        Variant(
            "C",
            "reference",
            "ir-tokens",
            warmup_by_default=True,
            description="fine-tuned like B, with the IR written in new IR tokens added to the vocabulary "
            "and new embeddings trained",
        ),
        Variant(
            "B-plan",
            "generated",
            "text",
            description="fine-tuned on prompt -> (IR of the solution as text, then the solution): at test "
            "time it writes the IR itself, then the code, and only the code is executed",
        ),
        Variant(
            "C-plan",
            "generated",
            "ir-tokens",
            warmup_by_default=True,
            description="fine-tuned like B-plan with the IR written in new IR tokens, so it generates them "
            "(their embedding and output rows trained)",
        ),
        Variant(
            "A-aux",
            "aux",
            "text",
            aux_rows=True,
            description="fine-tuned on A's rows plus auxiliary rows translating source -> IR and IR -> "
            "source (a direction marker each, as IRCoder); tested exactly like A",
        ),
    )
}
VARIANT_NAMES = tuple(VARIANTS)
# a model trained from the warm-up of its variant's IR encoding is labelled `<variant>-warm` (model names,
# the experiment's --variants, the report's rows)
WARM_SUFFIX = "-warm"


def get_variant(name: "str | Variant") -> Variant:
    """The `Variant` called `name` (a `Variant` passes through); an unknown name is a one-line error."""
    if isinstance(name, Variant):
        return name
    try:
        return VARIANTS[name]
    except (KeyError, TypeError):
        raise UnknownVariantError(
            f"unknown variant {name!r}: choose one of {', '.join(VARIANT_NAMES)}"
        ) from None

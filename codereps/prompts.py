"""The one place the prompt and target templates of every variant and the IR field live.

Training (`trainers/`) and evaluation (`eval_space/`) both build prompts here,
so a test prompt can never drift from the prompts the model was trained on.
What each variant is lives in `codereps/variants.py`; this module writes it out:

    A, A-aux:        <task prompt>                                 -> solution
    B:               # <ir>: <IR of the solution>\\n<task prompt>   -> solution   (IR as text, base tokenizer)
    C:               same text as B, but the IR span is encoded with the IR tokens added to the vocabulary
    B-plan:          <task prompt>  -> \\n# <ir>: <IR of the solution>\\n<solution>   (the model writes the IR)
    C-plan:          same as B-plan, the IR span in the IR tokens

and the auxiliary translation rows (A-aux, the warm-up), one direction marker each:

    source -> IR:    # translate: python -> <ir>\\n<source>    -> \\n# <ir>: <IR>\\n
    IR -> source:    # translate: <ir> -> python\\n# <ir>: <IR> -> \\n<source>\\n

A prompt or target is kept as three parts (`before_ir`, `ir`, `after_ir`) so the IR-token variants can
encode the IR span with the extended tokenizer and the rest with the base one.

The task prompt follows bigcode-evaluation-harness: MBPP is the description and
the first test in a docstring; HumanEval is its own `prompt` (signature + docstring).
"""

from dataclasses import dataclass

from codereps.variants import VARIANT_NAMES, UnknownVariantError, Variant, get_variant

VARIANTS = VARIANT_NAMES  # the names, kept for callers that list them
IR_FIELDS = ("cfg", "ast")
DEFAULT_IR = "cfg"
AUX_DIRECTIONS = ("source->ir", "ir->source")


class PromptError(ValueError):
    """A row that cannot be turned into a prompt (names the row and the reason)."""


@dataclass(frozen=True)
class PromptParts:
    before_ir: str
    ir: str
    after_ir: str

    @property
    def text(self) -> str:
        """The parts as plain text (what the text variants feed to the base tokenizer)."""
        return self.before_ir + self.ir + self.after_ir


def plain(text: str) -> PromptParts:
    return PromptParts(before_ir="", ir="", after_ir=text)


@dataclass(frozen=True)
class Example:
    """One training row: the prompt (masked out of the loss) and the target (trained on)."""

    prompt: PromptParts
    target: PromptParts
    kind: str = "task"  # "task", or an auxiliary direction of AUX_DIRECTIONS


def check_variant(variant) -> Variant:
    try:
        return get_variant(variant)
    except UnknownVariantError as e:
        raise PromptError(str(e)) from None


def check_ir(ir: str) -> str:
    if ir not in IR_FIELDS:
        raise PromptError(f"unknown IR field {ir!r}: choose one of {', '.join(IR_FIELDS)}")
    return ir


def ir_header(ir: str) -> str:
    """What precedes the IR wherever it is written (prompt, plan target, auxiliary rows)."""
    return f"# {ir}: "


def task_prompt(doc: dict) -> str:
    """The problem statement the model continues; MBPP rows have `text`, HumanEval rows `prompt`."""
    if "text" in doc and "test_list" in doc:  # MBPP
        first_test = doc["test_list"][0] if doc["test_list"] else ""
        return f'"""\n{doc["text"].strip()}\n{first_test.strip()}\n"""'
    if "prompt" in doc:  # HumanEval
        return doc["prompt"].rstrip()
    raise PromptError(
        f"row {doc.get('task_id', '?')}: neither MBPP (`text`, `test_list`) nor HumanEval (`prompt`) fields"
    )


def reference_solution(doc: dict) -> str:
    """The completion trained on: MBPP `code`, HumanEval `canonical_solution`, each starting on a new line.

    Prompts end without trailing whitespace and completions start with it (bigcode-evaluation-harness strips
    HumanEval prompts too): a BPE merges a newline with the next line's indentation, so a prompt ending in
    a newline would be tokenized differently alone (at inference) and followed by its completion (in training).
    """
    if "canonical_solution" in doc:
        return doc["prompt"][len(doc["prompt"].rstrip()) :] + doc["canonical_solution"]
    if "code" in doc:
        return "\n" + doc["code"].replace("\r\n", "\n").strip() + "\n"
    raise PromptError(f"row {doc.get('task_id', '?')}: no `code` or `canonical_solution` field")


def _row_ir(doc: dict, variant: Variant, ir: str) -> str:
    check_ir(ir)
    ir_text = doc.get(ir)
    if not ir_text:
        error = doc.get("error") or doc.get("ir_error") or "empty"
        raise PromptError(f"row {doc.get('task_id', '?')}: no {ir!r} IR for variant {variant.name} ({error})")
    return ir_text


def prompt_parts(doc: dict, variant, ir: str = DEFAULT_IR, render_ir=None) -> PromptParts:
    """The prompt of `doc` for `variant`; B and C need the row's `ir` field (the IR of the reference solution).

    `render_ir` (IR-token variants) writes the IR as the extended tokenizer's added tokens, so that tokenizer
    alone encodes the prompt text to the ids training used (`tokenizer_builder.extension`'s `render_ir`).
    Only B and C hold an IR in the prompt: the plan variants write it themselves, A-aux is tested as A.
    """
    variant = check_variant(variant)
    body = task_prompt(doc)
    if not variant.ir_in_prompt:
        return plain(body)
    ir_text = _row_ir(doc, variant, ir)
    if render_ir is not None and variant.needs_extension:
        ir_text = render_ir(ir_text)
    return PromptParts(before_ir=ir_header(ir), ir=ir_text, after_ir="\n" + body)


def target_parts(doc: dict, variant, ir: str = DEFAULT_IR, render_ir=None) -> PromptParts:
    """What `variant` is trained to write after its prompt: the solution, for the plan variants after the IR."""
    variant = check_variant(variant)
    solution = reference_solution(doc)
    if not variant.ir_in_target:
        return plain(solution)
    ir_text = _row_ir(doc, variant, ir)
    if render_ir is not None and variant.needs_extension:
        ir_text = render_ir(ir_text)
    # the solution starts with its own line break, which ends the IR line
    return PromptParts(before_ir="\n" + ir_header(ir), ir=ir_text, after_ir=solution)


def task_example(doc: dict, variant, ir: str = DEFAULT_IR) -> Example:
    return Example(prompt_parts(doc, variant, ir), target_parts(doc, variant, ir))


def translation_examples(src: str, ir_text: str, ir: str) -> list[Example]:
    """The two auxiliary rows of one (source, IR) pair, source -> IR and IR -> source (IRCoder-style).

    The direction marker is a line of plain text, so the rows need no new special token; the IR is written
    after the same `# <ir>: ` header as in every other template (so source -> IR teaches the plan's IR line).
    """
    check_ir(ir)
    src = src.replace("\r\n", "\n").strip()
    header = ir_header(ir)
    to_ir = Example(
        prompt=plain(f"# translate: python -> {ir}\n{src}"),
        target=PromptParts(before_ir="\n" + header, ir=ir_text, after_ir="\n"),
        kind="source->ir",
    )
    to_source = Example(
        prompt=PromptParts(before_ir=f"# translate: {ir} -> python\n{header}", ir=ir_text, after_ir=""),
        target=plain("\n" + src + "\n"),
        kind="ir->source",
    )
    return [to_ir, to_source]


def row_source(doc: dict) -> str:
    """The row's whole function: the dataset builder's `src`, else the prompt + reference solution."""
    if doc.get("src"):
        return doc["src"]
    if "canonical_solution" in doc:
        return doc["prompt"] + doc["canonical_solution"]
    return reference_solution(doc)


def variant_examples(doc: dict, variant, ir: str = DEFAULT_IR) -> tuple[list[Example], list[str]]:
    """Every training row `variant` makes of `doc`, and why an auxiliary row could not be made.

    A-aux: the task row, plus the two translation rows of the row's own solution (when it has an IR).
    A task row that cannot be made raises PromptError (the caller counts it).
    """
    variant = check_variant(variant)
    examples = [task_example(doc, variant, ir)]
    skipped = []
    if variant.aux_rows:
        check_ir(ir)
        if doc.get(ir):
            examples += translation_examples(row_source(doc), doc[ir], ir)
        else:
            error = doc.get("error") or doc.get("ir_error") or "empty"
            skipped.append(f"row {doc.get('task_id', '?')}: no {ir!r} IR for auxiliary rows ({error})")
    return examples, skipped


def build_prompt(doc: dict, variant, ir: str = DEFAULT_IR, render_ir=None) -> str:
    """The prompt as text: what text variants tokenize; for C, with `render_ir`, what its tokenizer reads."""
    return prompt_parts(doc, variant, ir, render_ir).text


def make_prompt_fn(variant, ir: str = DEFAULT_IR, render_ir=None):
    """A `prompt_fn(doc) -> str` for the eval harness (variant C needs the extension's `render_ir`)."""
    variant = check_variant(variant)
    if variant.ir_in_prompt and variant.needs_extension and render_ir is None:
        raise PromptError(
            f"variant {variant.name} prompts need render_ir (the extended tokenizer's IR tokens)"
        )

    def prompt_fn(doc: dict) -> str:
        return build_prompt(doc, variant, ir, render_ir)

    return prompt_fn

"""The one place the A/B/C prompt templates and the IR field live.

Training (`trainers/`) and evaluation (`eval_space/`) both build prompts here,
so a test prompt can never drift from the prompts the model was trained on.

    A:  <task prompt>                          -> solution
    B:  # <ir>: <IR of the solution>\\n<task prompt>  -> solution   (IR as text, base tokenizer)
    C:  same text as B, but the IR span is encoded with the IR tokens added to the vocabulary

A prompt is kept as three parts (`before_ir`, `ir`, `after_ir`) so variant C can
encode the IR span with the extended tokenizer and the rest with the base one.

The task prompt follows bigcode-evaluation-harness: MBPP is the description and
the first test in a docstring; HumanEval is its own `prompt` (signature + docstring).
"""

from dataclasses import dataclass

VARIANTS = ("A", "B", "C")
IR_FIELDS = ("cfg", "ast")
DEFAULT_IR = "cfg"


class PromptError(ValueError):
    """A row that cannot be turned into a prompt (names the row and the reason)."""


@dataclass(frozen=True)
class PromptParts:
    before_ir: str
    ir: str
    after_ir: str

    @property
    def text(self) -> str:
        """The prompt as plain text (what variants A and B feed to the base tokenizer)."""
        return self.before_ir + self.ir + self.after_ir


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise PromptError(f"unknown variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    return variant


def check_ir(ir: str) -> str:
    if ir not in IR_FIELDS:
        raise PromptError(f"unknown IR field {ir!r}: choose one of {', '.join(IR_FIELDS)}")
    return ir


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


def prompt_parts(doc: dict, variant: str, ir: str = DEFAULT_IR, render_ir=None) -> PromptParts:
    """The prompt of `doc` for `variant`; B and C need the row's `ir` field (the IR of the reference solution).

    `render_ir` (variant C) writes the IR as the extended tokenizer's added tokens, so that tokenizer alone
    encodes the prompt text to the ids training used (`tokenizer_builder.extension`'s `render_ir`).
    """
    check_variant(variant)
    body = task_prompt(doc)
    if variant == "A":
        return PromptParts(before_ir="", ir="", after_ir=body)
    check_ir(ir)
    ir_text = doc.get(ir)
    if not ir_text:
        error = doc.get("error") or "empty"
        raise PromptError(f"row {doc.get('task_id', '?')}: no {ir!r} IR for variant {variant} ({error})")
    if render_ir is not None and variant == "C":
        ir_text = render_ir(ir_text)
    return PromptParts(before_ir=f"# {ir}: ", ir=ir_text, after_ir="\n" + body)


def build_prompt(doc: dict, variant: str, ir: str = DEFAULT_IR, render_ir=None) -> str:
    """The prompt as text: what variants A and B tokenize; for C, with `render_ir`, what its tokenizer reads."""
    return prompt_parts(doc, variant, ir, render_ir).text


def make_prompt_fn(variant: str, ir: str = DEFAULT_IR, render_ir=None):
    """A `prompt_fn(doc) -> str` for the eval harness (variant C needs the extension's `render_ir`)."""
    check_variant(variant)
    if variant == "C" and render_ir is None:
        raise PromptError("variant C prompts need render_ir (the extended tokenizer's IR tokens)")

    def prompt_fn(doc: dict) -> str:
        return build_prompt(doc, variant, ir, render_ir)

    return prompt_fn

"""Evaluating a variant: its prompt and post-processing for the harness, and the plan variants' IR analysis.

The plan variants (B-plan, C-plan) write the IR themselves, on one line before the code:

    <task prompt>\\n# cfg: [1][SEP1][If][Return]...\\ndef f(x):\\n    ...

Only the code is executed: `postprocess_fn` removes the IR line, then applies the task's own
post-processing (stop sequences; HumanEval prepends its prompt). For C-plan the IR line is the new IR
tokens, which the extended tokenizer decodes as `<cfg|...>` texts.

Per candidate, `analyze_plan_candidates` reports the IR tokens generated, whether the generated IR is
well-formed (it parses as the IR's grammar; for C-plan, only IR tokens on the IR line), and IR fidelity:
whether the generated IR equals the IR our serializers (`dataset_builder.ir`) give the candidate's own
executed program.

    prompt_fn = make_prompt_fn("C-plan", "cfg")
    postprocess_fn = make_postprocess_fn("C-plan", task, "cfg")
    generations = generate(model, tokenizer, task, docs, prompt_fn=prompt_fn)   # harness
    generations = apply_postprocess(generations, docs, postprocess_fn)          # programs without the IR
    analysis = analyze_plan_candidates(generations, docs, postprocess_fn, "C-plan", "cfg", tokenizer, ir_tokens)
    summary = plan_summary(analysis)   # ir_tokens_generated, ir_well_formed, ir_fidelity

`apply_postprocess` recomputes the records' `programs` from their raw `completions`; it stands in for the
harness's own `postprocess_fn=` parameter where that is not there yet, and gives the same programs.
"""

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

from codereps.prompts import check_ir, check_variant, ir_header
from codereps.prompts import make_prompt_fn as _make_prompt_fn

_CFG_CONTROL = "If|For|While|Return|Try|Break|None"
_CFG_PATTERN = re.compile(
    rf"\[(\d+)\]\[SEP1\]((?:\[(?:{_CFG_CONTROL})\])*)\[SEP2\]((?:\[(?:\d+(?:,\d+)*)?\])*)\[SEP3\]((?:\[\d+\])*)"
)
AST_NODE_NAMES = frozenset(
    cls.__name__.upper() for cls in vars(ast).values() if isinstance(cls, type) and issubclass(cls, ast.AST)
)


@dataclass(frozen=True)
class PlanSplit:
    ir_text: str | None  # the IR line as generated (added-token texts for C-plan); None: no IR line
    code: str  # the completion without its IR line


def split_plan(completion: str, ir: str) -> PlanSplit:
    """The generated IR line and the code after it; a completion without the `# <ir>: ` line is all code.

    The IR line is the first line, after leading blank space, starting with the header (as trained:
    `codereps.prompts.target_parts`); it is removed with its line break, so the code keeps the line break
    that starts it (MBPP's `\\ndef ...`, HumanEval's `\\n    return ...`).
    """
    header = ir_header(ir)
    stripped = completion.lstrip()
    if not stripped.startswith(header):
        return PlanSplit(ir_text=None, code=completion)
    start = len(completion) - len(stripped)
    line_end = completion.find("\n", start)
    if line_end == -1:  # generation ended inside the IR line: no code
        return PlanSplit(ir_text=completion[start + len(header) :], code=completion[:start])
    return PlanSplit(
        ir_text=completion[start + len(header) : line_end],
        code=completion[:start] + completion[line_end + 1 :],
    )


def make_prompt_fn(variant, ir: str, render_ir=None) -> Callable[[dict], str]:
    """`prompt_fn(doc)` for the harness: the training prompt without its target (no IR for the plan variants)."""
    return _make_prompt_fn(variant, ir, render_ir)


def make_postprocess_fn(variant, task, ir: str) -> Callable[[str, dict], str]:
    """`postprocess_fn(completion, doc) -> program to execute`: the task's own, after removing a plan's IR line."""
    variant = check_variant(variant)
    check_ir(ir)
    if not variant.ir_in_target:
        return task.postprocess_generation

    def postprocess_fn(completion: str, doc: dict) -> str:
        return task.postprocess_generation(split_plan(completion, ir).code, doc)

    return postprocess_fn


def evaluation_functions(variant, task, ir: str, extension=None) -> tuple[Callable, Callable]:
    """(prompt_fn, postprocess_fn) of `variant` for the harness; `extension` (C) renders the prompt's IR tokens."""
    variant = check_variant(variant)
    render_ir = extension.render_ir if (extension is not None and variant.needs_extension) else None
    return make_prompt_fn(variant, ir, render_ir), make_postprocess_fn(variant, task, ir)


def prompt_ir_tokens(variant, doc: dict, ir: str, base_tokenizer, extension=None) -> int:
    """Prompt tokens spent on the IR: 0 unless the IR is in the prompt; base tokens (B) or IR tokens (C)."""
    variant = check_variant(variant)
    if not variant.ir_in_prompt:
        return 0
    ir_text = doc.get(check_ir(ir))
    if not ir_text:
        raise ValueError(f"row {doc.get('task_id', '?')}: no {ir!r} IR to count")
    if variant.needs_extension:
        if extension is None:
            raise ValueError(f"variant {variant.name}: counting IR tokens needs the extension")
        return len(extension.encode_ir(ir_text))
    return len(base_tokenizer(ir_text, add_special_tokens=False)["input_ids"])


def apply_postprocess(generations: list[dict], docs: list[dict], postprocess_fn) -> list[dict]:
    """Generation records with `programs` recomputed from `completions` by `postprocess_fn` (new records)."""
    if len(generations) != len(docs):
        raise ValueError(f"{len(generations)} generations for {len(docs)} problems")
    out = []
    for generation, doc in zip(generations, docs, strict=True):
        if generation.get("completions") is None:
            raise ValueError(
                f"generation for problem {generation.get('task_id')} has no raw completions to post-process"
            )
        out.append({**generation, "programs": [postprocess_fn(c, doc) for c in generation["completions"]]})
    return out


def is_well_formed_ir(ir: str, text: str | None) -> bool:
    """Does `text` parse as the IR's grammar (DESIGN.md's formats)?

    ast: `MODULE_...`, every `_`-separated name an `ast` node class, upper-cased. cfg: `[P][SEP1]` control
    tags `[SEP2]` successor lists `[SEP3]` call counts, one of each per block, successors naming blocks.
    """
    check_ir(ir)
    if not text:
        return False
    if ir == "ast":
        names = text.split("_")
        return names[0] == "MODULE" and all(name in AST_NODE_NAMES for name in names)
    match = _CFG_PATTERN.fullmatch(text)
    if match is None:
        return False
    controls = re.findall(r"\[[A-Za-z]+\]", match.group(2))
    successors = re.findall(r"\[([\d,]*)\]", match.group(3))
    counts = re.findall(r"\[\d+\]", match.group(4))
    blocks = len(controls)
    if not (blocks == len(successors) == len(counts)):
        return False
    return all(int(t) < blocks for s in successors if s for t in s.split(","))


def generated_ir(ir_text: str | None, variant, tokenizer, ir_tokens=None) -> tuple[str | None, int, bool]:
    """(the IR as text or None, IR tokens generated, the IR line holds only IR tokens).

    Text encoding: the IR line as written, counted in the model's tokens. IR tokens: the line re-encoded by
    the extended tokenizer (the generated ids, as its added tokens split the text) and decoded back to the
    IR (`ir_tokens.decode_ir`); any id that is not an IR token makes it ill-formed.
    """
    variant = check_variant(variant)
    if ir_text is None:
        return None, 0, False
    if not variant.needs_extension:
        ids = tokenizer(ir_text, add_special_tokens=False)["input_ids"]
        return ir_text.strip(), len(ids), True
    if ir_tokens is None:
        raise ValueError(f"variant {variant.name}: decoding the generated IR needs the extension (ir_tokens)")
    ids = tokenizer(ir_text, add_special_tokens=False)["input_ids"]
    ir_ids = [i for i in ids if i >= ir_tokens.base_vocab_size]
    only_ir = bool(ids) and len(ir_ids) == len(ids)
    try:
        text = ir_tokens.decode_ir(ir_ids) if ir_ids else None
    except ValueError:
        text, only_ir = None, False
    return text, len(ir_ids), only_ir


def program_ir(program: str, ir: str) -> str | None:
    """Our serializer's IR of a program (its first function), or None when it cannot be serialized."""
    from dataset_builder.ir import IRError, serialize_source

    try:
        return serialize_source(program)[ir]
    except (IRError, RecursionError, ValueError):
        return None


def analyze_plan_candidates(
    generations: list[dict], docs: list[dict], postprocess_fn, variant, ir: str, tokenizer, ir_tokens=None
) -> list[dict]:
    """Per problem: task_id and, per candidate, the IR tokens generated, well-formedness and fidelity."""
    variant = check_variant(variant)
    check_ir(ir)
    problems = []
    for generation, doc in zip(generations, docs, strict=True):
        candidates = []
        for completion in generation["completions"]:
            split = split_plan(completion, ir)
            text, n_tokens, only_ir = generated_ir(split.ir_text, variant, tokenizer, ir_tokens)
            well_formed = only_ir and is_well_formed_ir(ir, text)
            own = program_ir(postprocess_fn(completion, doc), ir)
            candidates.append(
                {
                    "ir_line": split.ir_text is not None,
                    "ir_tokens": n_tokens,
                    "well_formed": well_formed,
                    "fidelity": text is not None and own is not None and text == own,
                    "program_serializable": own is not None,
                }
            )
        problems.append({"task_id": generation["task_id"], "candidates": candidates})
    return problems


def plan_summary(analysis: list[dict]) -> dict:
    """The results' figures: mean IR tokens generated per problem, shares well-formed and faithful."""
    candidates = [c for p in analysis for c in p["candidates"]]
    if not candidates:
        return {"ir_tokens_generated": None, "ir_well_formed": None, "ir_fidelity": None, "ir_candidates": 0}
    per_problem = [
        sum(c["ir_tokens"] for c in p["candidates"]) / len(p["candidates"])
        for p in analysis
        if p["candidates"]
    ]
    n = len(candidates)
    return {
        "ir_tokens_generated": round(sum(per_problem) / len(per_problem), 2),
        "ir_well_formed": round(sum(c["well_formed"] for c in candidates) / n, 4),
        "ir_fidelity": round(sum(c["fidelity"] for c in candidates) / n, 4),
        "ir_line_written": round(sum(c["ir_line"] for c in candidates) / n, 4),
        "ir_candidates": n,
    }

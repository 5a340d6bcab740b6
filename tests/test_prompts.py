import pytest

from codereps.prompts import PromptError, build_prompt, make_prompt_fn, prompt_parts, reference_solution

MBPP_ROW = {
    "task_id": 2,
    "text": "Write a function to add two numbers.",
    "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"],
    "code": "def add(a, b):\r\n    return a + b",
    "cfg": "[P]a,b[SEP1]...",
    "ast": "MODULE_FUNCTIONDEF",
}
HUMANEVAL_ROW = {
    "task_id": "HumanEval/0",
    "prompt": "def f(x):\n    '''Double x.'''\n",
    "canonical_solution": "    return 2 * x\n",
    "cfg": "[P]x[SEP1]",
    "ast": "MODULE",
}


def test_variant_a_is_the_task_prompt_without_ir():
    assert (
        build_prompt(MBPP_ROW, "A") == '"""\nWrite a function to add two numbers.\nassert add(1, 2) == 3\n"""'
    )
    assert build_prompt(HUMANEVAL_ROW, "A") == HUMANEVAL_ROW["prompt"].rstrip()


def test_variants_b_and_c_share_the_text_and_isolate_the_ir_span():
    b = prompt_parts(MBPP_ROW, "B", "cfg")
    c = prompt_parts(MBPP_ROW, "C", "cfg")
    assert b == c
    assert b.ir == "[P]a,b[SEP1]..."
    assert b.text == "# cfg: [P]a,b[SEP1]...\n" + build_prompt(MBPP_ROW, "A")
    assert build_prompt(HUMANEVAL_ROW, "B", "ast").startswith("# ast: MODULE\ndef f(x):")


def test_prompt_plus_reference_is_the_program_and_the_boundary_is_a_line_break():
    assert reference_solution(MBPP_ROW) == "\ndef add(a, b):\n    return a + b\n"
    assert reference_solution(HUMANEVAL_ROW) == "\n    return 2 * x\n"
    humaneval_program = build_prompt(HUMANEVAL_ROW, "A") + reference_solution(HUMANEVAL_ROW)
    assert humaneval_program == HUMANEVAL_ROW["prompt"] + HUMANEVAL_ROW["canonical_solution"]


@pytest.mark.parametrize(
    "row, variant, ir, match",
    [
        (MBPP_ROW, "D", "cfg", "unknown variant 'D'"),
        (MBPP_ROW, "B", "bytecode", "unknown IR field 'bytecode'"),
        ({**MBPP_ROW, "cfg": None, "error": "syntax: bad"}, "B", "cfg", r"row 2: no 'cfg' IR .*syntax: bad"),
        ({"task_id": 7}, "A", "cfg", "row 7: neither MBPP"),
    ],
)
def test_bad_rows_and_options_name_the_reason(row, variant, ir, match):
    with pytest.raises(PromptError, match=match):
        build_prompt(row, variant, ir)


def test_prompt_fn_for_the_harness():
    assert make_prompt_fn("B", "ast")(HUMANEVAL_ROW) == build_prompt(HUMANEVAL_ROW, "B", "ast")


def test_variant_c_prompt_writes_the_ir_as_added_tokens():
    def render(ir):
        return "".join(f"<cfg|{ch}>" for ch in ir[:3])

    prompt = build_prompt(MBPP_ROW, "C", "cfg", render_ir=render)
    assert prompt.startswith("# cfg: <cfg|[><cfg|P><cfg|]>\n")
    assert build_prompt(MBPP_ROW, "B", "cfg", render_ir=render) == build_prompt(MBPP_ROW, "B", "cfg")
    with pytest.raises(PromptError, match="variant C prompts need render_ir"):
        make_prompt_fn("C", "cfg")

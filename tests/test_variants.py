"""Variants as data: the registry, the rows and prompts of every variant, and the plan variants' evaluation
(the IR line removed before execution, its tokens counted, well-formedness, fidelity) on real IRs and a
real extended tokenizer; execution in the real sandbox."""

import pytest
from tokenizer_fixtures import golden_dataset_rows, train_base_tokenizer

from codereps.prompts import (
    PromptError,
    build_prompt,
    make_prompt_fn,
    prompt_parts,
    reference_solution,
    target_parts,
    variant_examples,
)
from codereps.variants import VARIANTS, UnknownVariantError, get_variant
from dataset_builder.ir import serialize_source
from eval_space.plan import (
    analyze_plan_candidates,
    apply_postprocess,
    is_well_formed_ir,
    make_postprocess_fn,
    plan_summary,
    split_plan,
)
from eval_space.tasks import get_task

CODE = "def add(a, b):\n    if a > b:\n        return a + b\n    return b + a"
MBPP_ROW = {
    "task_id": 2,
    "text": "Write a function to add two numbers.",
    "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"],
    "test_setup_code": "",
    "code": CODE,
    "src": CODE,
    **serialize_source(CODE),
}
HUMANEVAL_ROW = {
    "task_id": "HumanEval/0",
    "prompt": "def f(x):\n    '''Double x.'''\n",
    "canonical_solution": "    return 2 * x\n",
    "src": "def f(x):\n    '''Double x.'''\n    return 2 * x\n",
    **serialize_source("def f(x):\n    '''Double x.'''\n    return 2 * x\n"),
}


def test_registry_describes_every_variant_by_where_its_ir_appears():
    assert list(VARIANTS) == ["A", "B", "C", "B-plan", "C-plan", "A-aux"]
    table = {
        name: (v.ir_source, v.ir_encoding, v.aux_rows, v.warmup_by_default, v.ir_in_prompt, v.ir_in_target)
        for name, v in VARIANTS.items()
    }
    assert table == {
        "A": ("none", None, False, False, False, False),
        "B": ("reference", "text", False, False, True, False),
        "C": ("reference", "ir-tokens", False, True, True, False),
        "B-plan": ("generated", "text", False, False, False, True),
        "C-plan": ("generated", "ir-tokens", False, True, False, True),
        "A-aux": ("aux", "text", True, False, False, False),
    }
    assert [n for n, v in VARIANTS.items() if v.needs_extension] == ["C", "C-plan"]
    assert get_variant("C-plan").results_fields() == {"ir_source": "generated", "ir_encoding": "ir-tokens"}
    assert get_variant(VARIANTS["B"]) is VARIANTS["B"]
    with pytest.raises(UnknownVariantError, match="unknown variant 'D': choose one of A, B, C, B-plan"):
        get_variant("D")
    with pytest.raises(PromptError, match="unknown variant 'c-plan'"):
        build_prompt(MBPP_ROW, "c-plan")


@pytest.mark.parametrize("row", [MBPP_ROW, HUMANEVAL_ROW], ids=["mbpp", "humaneval"])
def test_test_prompts_of_plan_and_aux_variants_hold_no_ir(row):
    a_prompt = build_prompt(row, "A")
    for name in ("B-plan", "C-plan", "A-aux"):
        assert build_prompt(row, name, "cfg") == a_prompt
        assert make_prompt_fn(name, "cfg")(row) == a_prompt  # C-plan needs no render_ir: no IR in its prompt
        assert row["cfg"] not in a_prompt
    assert build_prompt(row, "B", "cfg").startswith(f"# cfg: {row['cfg']}\n")


@pytest.mark.parametrize("row", [MBPP_ROW, HUMANEVAL_ROW], ids=["mbpp", "humaneval"])
def test_plan_targets_start_with_the_ir_then_the_solution(row):
    for name in ("B-plan", "C-plan"):
        target = target_parts(row, name, "ast")
        assert target.before_ir == "\n# ast: " and target.ir == row["ast"]
        assert target.after_ir == reference_solution(row)
        assert target.text.startswith(f"\n# ast: {row['ast']}\n")
        assert prompt_parts(row, name, "ast").ir == ""
    for name in ("A", "B", "C", "A-aux"):
        assert target_parts(row, name, "ast").text == reference_solution(row)  # the IR, if any, is no target
    with pytest.raises(PromptError, match="row 2: no 'cfg' IR for variant B-plan"):
        target_parts({**MBPP_ROW, "cfg": None}, "B-plan", "cfg")


def test_a_aux_adds_both_translation_directions_with_their_markers():
    examples, skipped = variant_examples(MBPP_ROW, "A-aux", "cfg")
    assert [e.kind for e in examples] == ["task", "source->ir", "ir->source"] and not skipped
    task, to_ir, to_source = examples
    assert task.prompt.text == build_prompt(MBPP_ROW, "A") and task.target.text == reference_solution(
        MBPP_ROW
    )
    assert to_ir.prompt.text == f"# translate: python -> cfg\n{CODE}"
    assert to_ir.target.ir == MBPP_ROW["cfg"] and to_ir.target.text == f"\n# cfg: {MBPP_ROW['cfg']}\n"
    assert to_source.prompt.text == f"# translate: cfg -> python\n# cfg: {MBPP_ROW['cfg']}"
    assert to_source.prompt.ir == MBPP_ROW["cfg"] and to_source.target.text == f"\n{CODE}\n"
    # a row without the IR still trains A's row; the missing auxiliary rows are counted, not dropped silently
    examples, skipped = variant_examples({**MBPP_ROW, "cfg": None, "error": "syntax: bad"}, "A-aux", "cfg")
    assert [e.kind for e in examples] == ["task"]
    assert skipped == ["row 2: no 'cfg' IR for auxiliary rows (syntax: bad)"]
    assert [e.kind for e in variant_examples(MBPP_ROW, "A", "cfg")[0]] == ["task"]


def test_the_ir_line_is_removed_before_execution_and_the_code_passes(monkeypatch):
    from eval_space.harness import score

    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")
    task = get_task("mbpp")
    completion = target_parts(MBPP_ROW, "B-plan", "cfg").text + "\nassert add(1, 2) == 3\n"
    split = split_plan(completion, "cfg")
    assert (
        split.ir_text == MBPP_ROW["cfg"]
        and split.code == reference_solution(MBPP_ROW) + "\nassert add(1, 2) == 3\n"
    )
    postprocess = make_postprocess_fn("B-plan", task, "cfg")
    assert postprocess(completion, MBPP_ROW) == "\n" + CODE + "\n"  # IR line and stop sequence gone
    assert make_postprocess_fn("A-aux", task, "cfg") == task.postprocess_generation
    # an IR line without its `# ` is not removed, and executing it fails (NameError at SEP1)
    broken = completion.replace("\n# cfg: ", "\ncfg: ", 1)
    generations = [{"task_id": "2", "prompt": "", "completions": [completion, broken], "programs": None}]
    generations = apply_postprocess(generations, [MBPP_ROW], postprocess)
    assert generations[0]["programs"][0] == "\n" + CODE + "\n"
    results = score(task, [MBPP_ROW], generations, k=[1], progress=False)
    assert [o["status"] for o in results["per_problem"][0]["outcomes"]] == ["passed", "failed"]

    humaneval = get_task("humaneval")
    he_completion = target_parts(HUMANEVAL_ROW, "B-plan", "cfg").text
    program = make_postprocess_fn("B-plan", humaneval, "cfg")(he_completion, HUMANEVAL_ROW)
    # exactly the program A's completion (the solution alone) makes
    assert program == humaneval.postprocess_generation(reference_solution(HUMANEVAL_ROW), HUMANEVAL_ROW)
    assert "# cfg" not in program


def test_well_formed_irs_follow_each_grammar():
    assert is_well_formed_ir("cfg", MBPP_ROW["cfg"]) and is_well_formed_ir("ast", MBPP_ROW["ast"])
    assert is_well_formed_ir("cfg", "[1][SEP1][If][None][Return][SEP2][1,2][2][][SEP3][0][1][1]")
    for bad in (
        "",
        "[1][SEP1][If][SEP2][1][SEP3]",
        "[1][SEP1][If][SEP2][3][SEP3][0]",
        "[1][SEP1][Foo][SEP2][][SEP3][0]",
    ):
        assert not is_well_formed_ir("cfg", bad), bad
    assert not is_well_formed_ir("ast", "MODULE_FUNCTIONDEF_NOTANODE")
    assert not is_well_formed_ir("ast", "FUNCTIONDEF_ARGUMENTS")


def test_text_plan_analysis_counts_tokens_and_checks_fidelity_against_the_program(base_tokenizer):
    task = get_task("mbpp")
    postprocess = make_postprocess_fn("B-plan", task, "cfg")
    faithful = target_parts(MBPP_ROW, "B-plan", "cfg").text
    # a well-formed IR that is not this program's (one block too few), and a completion without an IR line
    wrong_ir = faithful.replace(MBPP_ROW["cfg"], "[2][SEP1][Return][SEP2][][SEP3][0]")
    no_ir = reference_solution(MBPP_ROW)
    generations = [{"task_id": "2", "completions": [faithful, wrong_ir, no_ir]}]
    analysis = analyze_plan_candidates(generations, [MBPP_ROW], postprocess, "B-plan", "cfg", base_tokenizer)
    first, second, third = analysis[0]["candidates"]
    assert first["ir_tokens"] == len(base_tokenizer(MBPP_ROW["cfg"], add_special_tokens=False)["input_ids"])
    assert (first["well_formed"], first["fidelity"]) == (True, True)
    assert (second["well_formed"], second["fidelity"]) == (True, False)
    assert (third["ir_line"], third["well_formed"], third["fidelity"], third["ir_tokens"]) == (
        False,
        False,
        False,
        0,
    )
    summary = plan_summary(analysis)
    assert summary["ir_fidelity"] == pytest.approx(1 / 3, abs=1e-3)
    assert summary["ir_well_formed"] == pytest.approx(2 / 3, abs=1e-3) and summary["ir_candidates"] == 3


# --- C-plan with a real extended tokenizer (base BPE + IR BPE from the funcskeleton golden rows) -------------


@pytest.fixture(scope="module")
def golden_rows(funcskeleton_golden):
    return golden_dataset_rows(funcskeleton_golden, limit=300)


@pytest.fixture(scope="module")
def base_tokenizer(tmp_path_factory, golden_rows):
    from transformers import AutoTokenizer

    folder = train_base_tokenizer(tmp_path_factory.mktemp("base"), [r["src"] for r in golden_rows["train"]])
    return AutoTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module")
def extension(base_tokenizer, golden_rows):
    from tokenizer_builder.extension import build_extension
    from tokenizer_builder.train import to_transformers, train_ir_tokenizer

    ir_tokenizer = to_transformers(
        train_ir_tokenizer([r["cfg"] for r in golden_rows["train"]], "cfg", vocab_size=300)
    )
    return build_extension(base_tokenizer, ir_tokenizer, field="cfg")


def test_c_plan_rows_put_the_ir_tokens_in_the_trained_target(extension, base_tokenizer):
    from trainers.data import encode_example

    (example,), _ = variant_examples(MBPP_ROW, "C-plan", "cfg")
    ids, mask = encode_example(example, extension)
    n_prompt = mask.index(1)
    assert all(i < extension.base_vocab_size for i in ids[:n_prompt])  # no IR in the prompt
    target_ir = [i for i, m in zip(ids, mask, strict=True) if m and i >= extension.base_vocab_size]
    assert target_ir == extension.encode_ir(MBPP_ROW["cfg"])
    assert ids[n_prompt:][: len(extension.encode_text("\n# cfg: "))] == extension.encode_text("\n# cfg: ")
    # C's IR stays in the prompt, masked out of the loss
    (c_example,), _ = variant_examples(MBPP_ROW, "C", "cfg")
    c_ids, c_mask = encode_example(c_example, extension)
    assert not any(m for i, m in zip(c_ids, c_mask, strict=True) if i >= extension.base_vocab_size)


def test_prompt_ir_tokens_and_harness_functions_follow_the_variant(extension, base_tokenizer):
    from eval_space.plan import evaluation_functions, prompt_ir_tokens

    counts = {name: prompt_ir_tokens(name, MBPP_ROW, "cfg", base_tokenizer, extension) for name in VARIANTS}
    assert counts["B"] == len(base_tokenizer(MBPP_ROW["cfg"], add_special_tokens=False)["input_ids"])
    assert counts["C"] == len(extension.encode_ir(MBPP_ROW["cfg"])) < counts["B"]
    assert counts["A"] == counts["B-plan"] == counts["C-plan"] == counts["A-aux"] == 0
    prompt_fn, postprocess_fn = evaluation_functions("C", get_task("mbpp"), "cfg", extension)
    assert prompt_fn(MBPP_ROW).startswith("# cfg: " + extension.render_ir(MBPP_ROW["cfg"]))
    prompt_fn, postprocess_fn = evaluation_functions("C-plan", get_task("mbpp"), "cfg", extension)
    assert prompt_fn(MBPP_ROW) == build_prompt(MBPP_ROW, "A")


def test_c_plan_generated_ir_tokens_decode_to_the_ir_and_are_checked(extension):
    from trainers.data import encode_example

    task = get_task("mbpp")
    postprocess = make_postprocess_fn("C-plan", task, "cfg")
    (example,), _ = variant_examples(MBPP_ROW, "C-plan", "cfg")
    ids, mask = encode_example(example, extension)
    # what the harness gets back: the generated ids decoded by the model's (extended) tokenizer
    completion = extension.tokenizer.decode(ids[mask.index(1) :], skip_special_tokens=True)
    assert postprocess(completion, MBPP_ROW) == "\n" + CODE + "\n"
    plain_ir = completion.replace(extension.render_ir(MBPP_ROW["cfg"]), MBPP_ROW["cfg"])  # IR as plain text
    generations = [{"task_id": "2", "completions": [completion, plain_ir]}]
    analysis = analyze_plan_candidates(
        generations, [MBPP_ROW], postprocess, "C-plan", "cfg", extension.tokenizer, extension
    )
    tokens, text = analysis[0]["candidates"]
    assert tokens["ir_tokens"] == len(extension.encode_ir(MBPP_ROW["cfg"])) > 0
    assert (tokens["well_formed"], tokens["fidelity"]) == (True, True)
    assert (text["ir_tokens"], text["well_formed"]) == (0, False)  # C-plan must write its IR in IR tokens


def test_warmup_and_training_refuse_bad_settings_in_one_line(tmp_path, capsys):
    from trainers.data import split_dataset_spec
    from trainers.sft import parse
    from trainers.warmup import WarmupError, main, run_warmup

    with pytest.raises(WarmupError, match="unknown warm-up encoding 'bytes'"):
        run_warmup("smollm2", "corpus:local", "bytes", "cfg", None, 10, tmp_path)
    with pytest.raises(WarmupError, match="needs the extended tokenizer"):
        run_warmup("smollm2", "corpus:local", "ir-tokens", "cfg", None, 10, tmp_path)
    with pytest.raises(WarmupError, match="steps must be >= 1"):
        run_warmup("smollm2", "corpus:local", "text", "cfg", None, 0, tmp_path)
    assert main(["--base-model", "smollm2", "--corpus", "c", "--encoding", "text", "--steps", "0",
                 "--output", str(tmp_path)]) == 2  # fmt: skip
    assert capsys.readouterr().err.strip() == "warm-up: error: warm-up steps must be >= 1 (got 0)"
    assert split_dataset_spec("build/corpus:local") == ("build/corpus", "local")
    assert split_dataset_spec("mrochk/codereps") == ("mrochk/codereps", None)
    assert split_dataset_spec("/tmp/a:b/corpus") == ("/tmp/a:b/corpus", None)
    with pytest.raises(ValueError, match="variant C-plan needs --ir_tokenizer"):
        parse(["--variant", "C-plan", "--model_name_or_path", "m", "--output_dir", str(tmp_path)])
    with pytest.raises(ValueError, match="--aux_corpus is for variants with auxiliary rows"):
        parse(["--variant", "B", "--aux_corpus", "x:local", "--model_name_or_path", "m", "--output_dir", "o"])

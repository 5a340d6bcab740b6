"""Pair datasets, sequence lengths, metrics and the bad inputs of the pair classifiers."""

import pytest
from classify_fixtures import train_tiny_tokenizer, write_pair_dataset


@pytest.fixture(scope="module")
def functions(funcskeleton_golden):
    return [f for f in funcskeleton_golden if len(f["src"]) < 200][:40]


@pytest.fixture(scope="module")
def src_ast_only(tmp_path_factory, functions):
    """Only `pairs-src-ast`, with an empty validation split."""
    folder = tmp_path_factory.mktemp("src-ast-only")
    return write_pair_dataset(
        folder, {"train": functions[:30], "validation": [], "test": functions[30:]}, pairs=("src-ast",)
    )


def test_pair_split_renames_member_columns(src_ast_only, functions):
    from trainers.classifiers.pair_data import load_pair_split

    rows = load_pair_split(str(src_ast_only), "src-ast", "train")
    assert rows.column_names == ["a", "b", "label", "b_correct", "func_name"]
    assert len(rows) == 30 and 0 < sum(rows["label"]) < 30
    # related rows carry their own AST, swapped rows another function's, with the true one kept
    for row, function in zip(rows, functions[:30], strict=True):
        assert row["a"] == function["src"] and row["b_correct"] == function["ast"]
        assert (row["b"] == row["b_correct"]) == (row["label"] == 0)


def test_missing_pair_config_is_a_clear_error(src_ast_only):
    from trainers.classifiers import PairConfigError
    from trainers.classifiers.pair_data import load_pair_split

    with pytest.raises(PairConfigError, match=r"no config 'pairs-ast-cfg' \(configs: pairs-src-ast\)"):
        load_pair_split(str(src_ast_only), "ast-cfg", "train")
    with pytest.raises(PairConfigError, match="unknown pair 'src-src'"):
        load_pair_split(str(src_ast_only), "src-src", "train")


def test_empty_or_missing_split_is_a_clear_error(src_ast_only, functions, tmp_path):
    from trainers.classifiers import EmptySplitError
    from trainers.classifiers.pair_data import load_pair_split, load_pair_splits

    with pytest.raises(EmptySplitError, match=r"pairs-src-ast/validation\]: the split is empty"):
        load_pair_split(str(src_ast_only), "src-ast", "validation")
    with pytest.raises(EmptySplitError, match="cannot load split 'prompt'"):
        load_pair_split(str(src_ast_only), "src-ast", "prompt")
    # across several sources a source without the split is skipped with a note; none at all is an error
    other = write_pair_dataset(tmp_path / "other", {"validation": functions[:6]}, pairs=("src-ast",))
    notes = []
    rows = load_pair_splits([str(src_ast_only), str(other)], "src-ast", "validation", log=notes.append)
    assert len(rows) == 6 and len(notes) == 1 and "the split is empty" in notes[0]
    with pytest.raises(EmptySplitError, match="no rows in split 'validation' of pairs-src-ast"):
        load_pair_splits([str(src_ast_only), str(src_ast_only)], "src-ast", "validation", log=notes.append)


def test_choose_max_length_is_mean_plus_two_std():
    from trainers.classifiers.pair_data import choose_max_length

    choice = choose_max_length([10, 10, 10, 10, 30])  # mean 14, sample std sqrt(80) = 8.94
    assert choice.max_length == 32 and choice.truncated_share == 0.0
    capped = choose_max_length([10, 10, 10, 10, 30], cap=20)
    assert capped.max_length == 20 and capped.truncated_share == 0.2


def test_extended_lengths_cut_the_longer_member_first():
    from trainers.classifiers.pair_classifier import fit_member_lengths

    src, ast = [100, 300, 200, 900], [10, 20, 12, 14]  # mean + 2 std: 1,094 and 23
    choices = fit_member_lengths({"a": src, "b": ast}, budget=125)
    assert choices["b"].max_length == 23 and choices["b"].truncated_share == 0.0
    assert choices["a"].max_length == 102 and choices["a"].truncated_share == 0.75
    both_long = fit_member_lengths({"a": src, "b": src}, budget=125)
    assert both_long["a"].max_length + both_long["b"].max_length == 125
    assert fit_member_lengths({"a": ast, "b": ast}, budget=125)["a"].max_length == 23  # fits: no cut


def test_classification_metrics_and_ir_length():
    from trainers.classifiers.evaluation import accuracy_by_ir_length, classification_metrics, ir_length

    m = classification_metrics([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
    assert m["confusion"] == {"true_related": 1, "false_swapped": 1, "false_related": 1, "true_swapped": 2}
    assert m["accuracy"] == 0.6 and m["f1"] == round(2 / 3, 4) and m["n_errors"] == 2
    assert ir_length("ast", "MODULE_FUNCTIONDEF_ARGUMENTS_ARG") == 4
    # funcskeleton's README example: 7 blocks
    cfg = "[1][SEP1][None][For][None][If][If][Return][Return][SEP2][1][2,3][1][4,5][6][][][SEP3][1][1][2][0][1][0][0]"
    assert ir_length("cfg", cfg) == 7
    bins = accuracy_by_ir_length("ast", ["A", "A_B", "A_B_C", "A_B_C_D"], [1, 1, 0, 0], n_bins=2)
    assert bins == [
        {"min_length": 1, "max_length": 2, "n": 2, "accuracy": 1.0},
        {"min_length": 3, "max_length": 4, "n": 2, "accuracy": 0.0},
    ]


def test_missing_member_tokenizer_is_a_clear_error(src_ast_only, functions, tmp_path):
    from trainers.classifiers import MissingTokenizerError, build_classifier
    from trainers.classifiers.pair_data import load_pair_split

    rows = load_pair_split(str(src_ast_only), "src-ast", "train")
    with pytest.raises(MissingTokenizerError, match="needs --ast-tokenizer"):
        src = train_tiny_tokenizer([f["src"] for f in functions], tmp_path / "src", 270)
        build_classifier("dual-encoder", "src-ast", rows, {"src": str(src), "ast": None})


def test_mismatched_tokenizer_is_rejected_on_load(src_ast_only, functions, tmp_path):
    from trainers.classifiers import TokenizerMismatchError, build_classifier, load_classifier
    from trainers.classifiers.pair_data import load_pair_split

    rows = load_pair_split(str(src_ast_only), "src-ast", "train")
    paths = {
        m: str(train_tiny_tokenizer([f[m] for f in functions], tmp_path / m, 270)) for m in ("src", "ast")
    }
    classifier = build_classifier(
        "dual-encoder",
        "src-ast",
        rows,
        paths,
        dual_sizes={"d_model_a": 16, "d_model_b": 16, "n_heads_a": 2}
        | {"n_heads_b": 2, "n_layers_a": 1, "n_layers_b": 1, "d_ff_encoder": 32, "d_ff_head": 32},
    )
    classifier.save(tmp_path / "model")
    assert (
        load_classifier(tmp_path / "model").tokenizers["ast"].get_vocab()
        == classifier.tokenizers["ast"].get_vocab()
    )
    # the src tokenizer given for the AST member: other vocabulary
    with pytest.raises(TokenizerMismatchError, match=r"\[ast\]: tokenizer .* does not match the model's"):
        load_classifier(tmp_path / "model", {"ast": paths["src"]})
    other_ast = train_tiny_tokenizer([f["ast"] for f in functions[:10]], tmp_path / "ast-other", 262)
    with pytest.raises(TokenizerMismatchError):
        load_classifier(tmp_path / "model", {"ast": str(other_ast)})


def test_longest_first_keeps_what_the_tokenizer_keeps(monkeypatch):
    from transformers import AutoTokenizer

    from trainers.classifiers.features import longest_first
    from trainers.classifiers.pair_classifier import default_base_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tokenizer = AutoTokenizer.from_pretrained(default_base_model())
    for a in range(1, 10):
        for b in range(1, 10):
            for budget in range(1, 20):
                # "x" and "y" are one token each: the tokenizer's own pair truncation, counted
                ids = tokenizer(
                    " ".join("x" * a), " ".join("y" * b), truncation="longest_first", max_length=budget + 3
                )
                kept = ids["input_ids"]
                x, y = tokenizer.convert_tokens_to_ids(["x", "y"])
                assert longest_first(a, b, budget) == (kept.count(x), kept.count(y)), (a, b, budget)


def test_text_pairs_are_cut_as_the_tokenizer_would(funcskeleton_golden, monkeypatch):
    """Members tokenized alone and joined here give the tokenizer's own longest-first pair encoding."""
    from transformers import AutoTokenizer

    from trainers.classifiers.features import encode_text_pair
    from trainers.classifiers.pair_classifier import default_base_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tokenizer = AutoTokenizer.from_pretrained(default_base_model())  # the offline MiniLM
    rows = funcskeleton_golden[:200]
    batch = {"a": [r["src"] for r in rows], "b": [r["ast"] for r in rows], "label": [0] * len(rows)}
    for max_length in (8, 64, 512):
        ours = encode_text_pair(batch, tokenizer, max_length)
        theirs = tokenizer(batch["a"], batch["b"], truncation="longest_first", max_length=max_length)
        assert ours["input_ids"] == theirs["input_ids"]
        assert ours["token_type_ids"] == theirs["token_type_ids"]

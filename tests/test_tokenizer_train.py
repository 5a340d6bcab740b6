"""BPE training per IR field: round trip, saved folder layout, pre-tokenization, bad input."""

import json

import pytest
from tokenizer_fixtures import golden_dataset_rows, train_base_tokenizer, write_dataset_folder

from codereps.cli import main
from tokenizer_builder.build import BuildRequest, build_tokenizers, check_request
from tokenizer_builder.data import load_config, load_field_texts
from tokenizer_builder.errors import OutputExistsError, TokenizerDataError, VocabSizeError
from tokenizer_builder.pretokenize import UnknownSchemeError, make_pre_tokenizer
from tokenizer_builder.train import MIN_VOCAB_SIZE, check_round_trip, to_transformers, train_ir_tokenizer

AST = "MODULE_FUNCTIONDEF_ARGUMENTS_ARG_RETURN_NAME_LOAD"
CFG = "[1][SEP1][None][For][None][If][If][Return][Return][SEP2][1][2,3][1][4,5][6][][][SEP3][1][1][2][0][1][0][0]"


@pytest.fixture(scope="module")
def golden_splits(funcskeleton_golden):
    return golden_dataset_rows(funcskeleton_golden, limit=800)


@pytest.fixture(scope="module")
def golden_dataset(tmp_path_factory, golden_splits):
    return write_dataset_folder(tmp_path_factory.mktemp("golden") / "ds", {"local": golden_splits})


@pytest.fixture(scope="module")
def base_tokenizer_dir(tmp_path_factory, golden_splits):
    return train_base_tokenizer(tmp_path_factory.mktemp("base"), [r["src"] for r in golden_splits["train"]])


def pieces(field, scheme, text):
    return [piece for piece, _ in make_pre_tokenizer(field, scheme).pre_tokenize_str(text)]


def test_pre_tokenizers_cut_at_the_grammar_separators():
    assert pieces("ast", "whole", AST) == [AST]
    assert pieces("ast", "node", AST)[:3] == ["MODULE_", "FUNCTIONDEF_", "ARGUMENTS_"]
    assert "".join(pieces("ast", "node", AST)) == AST
    sections = pieces("cfg", "sections", CFG)
    assert sections[:3] == ["[1]", "[SEP1]", "[None][For][None][If][If][Return][Return]"]
    assert pieces("cfg", "brackets", CFG)[:4] == ["[1]", "[SEP1]", "[None]", "[For]"]
    with pytest.raises(UnknownSchemeError, match="choose from whole, node"):
        make_pre_tokenizer("ast", "sections")


@pytest.mark.parametrize("field", ["ast", "cfg"])
def test_trained_tokenizer_round_trips_unseen_text_without_unknowns(golden_splits, field):
    train = [r[field] for r in golden_splits["train"]]
    tokenizer = to_transformers(train_ir_tokenizer(train, field, vocab_size=400))
    held_out = [r[field] for r in golden_splits["validation"] + golden_splits["test"]]
    # Bytes never seen in training (non-ASCII, a space, a newline) still encode: the alphabet is all 256 bytes.
    unseen = ["é ü\n\t\x00 ≠ 🐍", "lower_case [SEP9] {}"]
    result = check_round_trip(tokenizer, held_out + unseen)
    assert result.rows == len(held_out) + 2 and result.ok, result
    assert result.tokens < sum(len(t) for t in held_out)  # merges were learned and used


def test_vocab_size_below_the_alphabet_is_refused():
    with pytest.raises(VocabSizeError, match=f"smaller than the alphabet.*= {MIN_VOCAB_SIZE}"):
        train_ir_tokenizer(["MODULE_PASS"], "ast", vocab_size=MIN_VOCAB_SIZE - 1)


def test_build_writes_a_hub_tokenizer_repo_per_field(golden_dataset, base_tokenizer_dir, tmp_path):
    from transformers import AutoTokenizer

    request = BuildRequest(
        dataset=str(golden_dataset),
        fields=["ast", "cfg"],
        vocab_sizes=[300, 600],
        output=tmp_path,
        base_tokenizer=str(base_tokenizer_dir),
        progress=False,
    )
    builds = build_tokenizers(request)
    assert [b.folder.name for b in builds] == ["codereps-ast-tokenizer", "codereps-cfg-tokenizer"]
    repo = tmp_path / "codereps-cfg-tokenizer"
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "README.md"):
        assert (repo / name).is_file(), name
    assert json.loads((repo / "special_tokens_map.json").read_text())["pad_token"] == "<|pad|>"
    root = AutoTokenizer.from_pretrained(repo)
    small = AutoTokenizer.from_pretrained(repo, subfolder="vocab-300")
    assert len(root) == builds[1].metadata[600].actual_vocab_size and len(small) == 300
    assert root.decode(root.encode(CFG, add_special_tokens=False)) == CFG

    evaluation = builds[0].metadata[600].evaluation
    held_out = len(split_values(golden_dataset, "validation")) + len(split_values(golden_dataset, "test"))
    assert evaluation["held_out_rows"] == evaluation["round_trip_exact"] == held_out > 0
    assert evaluation["unknown_tokens"] == 0
    assert evaluation["ratio"] > 1 and evaluation["ir"]["mean"] < evaluation["base"]["mean"]
    # Trained on the train split only: the metadata counts exactly its rows and characters.
    train = split_values(golden_dataset, "train")
    assert builds[0].metadata[300].train_rows == len(train)
    assert builds[0].metadata[300].train_chars == sum(len(t) for t in train)
    card = (repo / "README.md").read_text()
    assert "mrochk/codereps-cfg-tokenizer" in card and "| 300 |" in card and "fewer tokens than base" in card


def split_values(folder, split, field="ast"):
    return load_config(str(folder), "local")[split][field]


def test_a_dataset_folder_rebuilt_in_place_is_read_anew(tmp_path):
    first = {"local": {"train": [{"src": "a", "ast": "MODULE_PASS"}]}}
    second = {"local": {"train": [{"src": "b", "ast": "MODULE_EXPR"}, {"src": "c", "ast": "MODULE_EXPR"}]}}
    texts = []
    for rows in (first, second):
        write_dataset_folder(tmp_path / "ds", rows)
        texts.append(load_field_texts(str(tmp_path / "ds"), ["local"], "ast", ("train",)).texts)
    assert texts == [["MODULE_PASS"], ["MODULE_EXPR", "MODULE_EXPR"]]


def test_existing_output_is_kept_without_overwrite(golden_dataset, base_tokenizer_dir, tmp_path):
    repo = tmp_path / "codereps-ast-tokenizer"
    repo.mkdir()
    (repo / "keep.txt").write_text("mine")
    request = BuildRequest(
        str(golden_dataset), ["ast"], [300], tmp_path, str(base_tokenizer_dir), progress=False
    )
    with pytest.raises(OutputExistsError, match="--overwrite"):
        build_tokenizers(request)
    assert (repo / "keep.txt").read_text() == "mine"
    request.overwrite = True
    build_tokenizers(request)
    assert not (repo / "keep.txt").exists() and (repo / "vocab-300" / "tokenizer.json").is_file()


def test_bad_requests_fail_before_any_work(tmp_path):
    with pytest.raises(VocabSizeError):
        check_request(BuildRequest("unused", ["ast"], [100], tmp_path, "unused"))
    with pytest.raises(UnknownSchemeError):
        check_request(BuildRequest("unused", ["cfg"], [300], tmp_path, "unused", pretokenizer="node"))


def test_missing_field_and_empty_dataset_are_named(tmp_path, base_tokenizer_dir):
    no_cfg = write_dataset_folder(tmp_path / "no_cfg", {"local": {"train": [{"src": "x", "ast": AST}]}})
    with pytest.raises(TokenizerDataError, match=r"no field 'cfg' \(columns: ast, src\)"):
        build_tokenizers(BuildRequest(str(no_cfg), ["cfg"], [300], tmp_path / "o1", str(base_tokenizer_dir)))
    empty = write_dataset_folder(tmp_path / "empty", {"local": {"train": [], "test": []}})
    with pytest.raises(TokenizerDataError, match="config 'local': empty"):
        build_tokenizers(BuildRequest(str(empty), ["ast"], [300], tmp_path / "o2", str(base_tokenizer_dir)))
    only_test = write_dataset_folder(tmp_path / "only_test", {"local": {"test": [{"src": "x", "ast": AST}]}})
    with pytest.raises(TokenizerDataError, match="no train rows with a non-empty 'ast'"):
        build_tokenizers(
            BuildRequest(str(only_test), ["ast"], [300], tmp_path / "o3", str(base_tokenizer_dir))
        )
    assert not (tmp_path / "o1" / "codereps-cfg-tokenizer").exists()


def test_cli_train_reports_bad_input_with_status_2(tmp_path, capsys, base_tokenizer_dir):
    status = main(
        ["tokenizer", "train", "--dataset", str(tmp_path / "nowhere"), "--field", "ast", "--vocab-size", "300",
         "--output", str(tmp_path / "out"), "--base-tokenizer", str(base_tokenizer_dir)]
    )  # fmt: skip
    assert status == 2
    assert "nowhere" in capsys.readouterr().err
    status = main(
        ["tokenizer", "train", "--dataset", "unused", "--vocab-size", "12", "--output", str(tmp_path / "out"),
         "--base-tokenizer", str(base_tokenizer_dir)]
    )  # fmt: skip
    assert status == 2
    assert "vocab size 12 is smaller than the alphabet" in capsys.readouterr().err

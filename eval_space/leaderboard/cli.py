"""`codereps leaderboard`: serve the leaderboard Space locally.

codereps leaderboard --results build/experiments/smoke          # a run folder (its results/)
codereps leaderboard --results build/experiments/smoke/results
codereps leaderboard --results mrochk/codereps-results --port 7860   # a Hub results dataset
"""


def add_parser(subparsers):
    import argparse

    parser = subparsers.add_parser(
        "leaderboard",
        help="serve the leaderboard Space locally",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--results",
        default=None,
        help="results folder, run folder or Hub dataset repo id (default: $CODEREPS_RESULTS, the Space's "
        "results/, or mrochk/codereps-results)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: local only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument(
        "--show-skipped",
        action="store_true",
        help="list each file not read as results, with the reason (default: only their count)",
    )
    parser.set_defaults(func=main)
    return parser


def main(args) -> int:
    from eval_space.leaderboard.app import launch
    from eval_space.leaderboard.leaderboard_data import load_leaderboard_data

    data = None
    if args.results:
        data = load_leaderboard_data(args.results)
        skipped = f"{len(data.problems)} file(s) not read"
        if data.problems and not args.show_skipped:
            skipped += " (--show-skipped lists them)"
        print(
            f"leaderboard: {len(data.lm_rows)} LM results, {len(data.classifier_rows)} classifier results, "
            f"{len(data.tokenizer_tables)} tokenizer report tables; {skipped}"
        )
        if args.show_skipped:
            for problem in data.problems:
                print(f"  skipped {problem}")
    print(f"serving on http://{args.host}:{args.port} (Ctrl-C to stop)")
    launch(args.results, host=args.host, port=args.port, data=data)
    return 0

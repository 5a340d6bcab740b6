"""The installed CPython standard library as a corpus of real functions.

Used by the whole-stdlib robustness check (tests/test_cfg_stdlib.py) and the
throughput benchmark (benchmarks/ir_throughput.py).

    python -m dataset_builder.ir.cfg_corpus     # serialize every stdlib function, print a JSON summary

Files that do not parse with the running interpreter (test data written to be
invalid, or for another Python version) are counted and listed, not skipped silently.
"""

import json
import signal
import sys
import sysconfig
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .ast_ir import serialize_ast
from .batch import FunctionSource, function_sources, serialize_source
from .errors import IRError

# A function of the stdlib serializes in milliseconds; 10 s means a hang.
PER_FUNCTION_TIMEOUT_S = 10


@dataclass
class StdlibCorpus:
    root: Path
    functions: list[tuple[str, FunctionSource]] = field(
        default_factory=list
    )  # (path relative to root, function)
    unparsable_files: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    n_files: int = 0


def stdlib_python_files(root: Path | None = None) -> list[Path]:
    root = Path(root or sysconfig.get_paths()["stdlib"])
    return sorted(p for p in root.rglob("*.py") if not {"site-packages", "dist-packages"} & set(p.parts))


def load_stdlib_corpus(root: Path | None = None) -> StdlibCorpus:
    root = Path(root or sysconfig.get_paths()["stdlib"])
    corpus = StdlibCorpus(root)
    for path in stdlib_python_files(root):
        corpus.n_files += 1
        rel = str(path.relative_to(root))
        try:
            # tokenize.open honours the BOM and the `# coding:` cookie, as the interpreter does.
            with tokenize.open(path) as f:
                functions = function_sources(f.read())
        except IRError as e:
            corpus.unparsable_files.append((rel, f"{e.reason}: {e}"))
            continue
        except (SyntaxError, UnicodeDecodeError) as e:  # an undecodable file or a bad coding cookie
            corpus.unparsable_files.append((rel, f"decode_error: {e}"))
            continue
        corpus.functions.extend((rel, fn) for fn in functions)
    return corpus


class _FunctionTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise _FunctionTimeout()


def check_stdlib(root: Path | None = None) -> dict:
    """Serialize every function; any exception (typed or not), a hang, or an `ast` that
    differs from `ast_ir`'s is a failure."""
    corpus = load_stdlib_corpus(root)
    failures = []
    signal.signal(signal.SIGALRM, _alarm)
    for rel, fn in corpus.functions:
        signal.alarm(PER_FUNCTION_TIMEOUT_S)
        try:
            row = serialize_source(fn.src)
            # The one-walk AST (cfg_walk) must equal the reference serializer (ast_ir).
            if row["ast"] != serialize_ast(fn.src):
                failures.append([rel, fn.qualname, "ast differs from ast_ir.serialize_ast"])
        except _FunctionTimeout:
            failures.append([rel, fn.qualname, f"timeout: no result after {PER_FUNCTION_TIMEOUT_S} s"])
        except Exception as e:  # report every kind: the check is that there are none
            failures.append([rel, fn.qualname, f"{type(e).__name__}: {e}"])
        finally:
            signal.alarm(0)
    return {
        "python": sys.version.split()[0],
        "root": str(corpus.root),
        "files": corpus.n_files,
        "unparsable_files": len(corpus.unparsable_files),
        "unparsable_by_reason": dict(
            Counter(reason.split(":", 1)[0] for _, reason in corpus.unparsable_files)
        ),
        "unparsable_file_list": corpus.unparsable_files,
        "functions": len(corpus.functions),
        "failures": failures,
    }


if __name__ == "__main__":
    print(json.dumps(check_stdlib(), indent=1))

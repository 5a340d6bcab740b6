"""APPS: coding-challenge problems judged on their input/output tests.

Measuring Coding Challenge Competence With APPS, Hendrycks et al., NeurIPS 2021. https://arxiv.org/abs/2105.09938
Homepage: https://github.com/hendrycks/apps (Hub: codeparrot/apps)

Reads the original folder format (one folder per problem: question.txt, input_output.json, solutions.json,
metadata.json, starter_code.py), codeparrot/apps rows (`input_output` a JSON string; JSON lines or Parquet)
and MapCoder's rows (`test_list` of {"input", "output"}). The prompt is bigcode-evaluation-harness's
(QUESTION, starter code, "Use Standard Input format" / "Use Call-Based format", ANSWER) and so are the stop
words. Standard-input problems run once per test with the input on stdin, their stdout compared like APPS
(exact, then line by line stripped, then whitespace tokens, then tokens as floats); call-based problems call
`fn_name` (on `Solution()` when the program defines `class Solution`) and compare the return value like APPS.
Both run after APPS's import prelude. Per test, APPS's codes: True (pass), False (wrong), -1 (runtime error
or time-out), -2 (compile error); besides pass@k, APPS's strict accuracy (all tests pass) and average
test-case accuracy.
"""

import json
from pathlib import Path

from eval_space.pass_at_k import plain_data
from eval_space.pass_at_k.judge import read_report

from .base import Task, TaskDataError

_CITATION = """\
@article{hendrycksapps2021,
  title={Measuring Coding Challenge Competence With APPS},
  author={Dan Hendrycks and Steven Basart and Saurav Kadavath and Mantas Mazeika and Akul Arora and Ethan Guo
          and Collin Burns and Samir Puranik and Horace He and Dawn Song and Jacob Steinhardt},
  journal={NeurIPS},
  year={2021}
}
"""

LEVELS = ("all", "introductory", "interview", "competition")
TEST_TIMEOUT = 4.0  # seconds per test, as APPS's testing_util
# What APPS's testing_util puts before every program (so `List[int]` annotations and bare `sqrt` work);
# `from typing import *` instead of its typing names, numpy left out (its import alone costs ~0.1 s per run).
IMPORT_PRELUDE = (
    "import sys\nimport time\nimport itertools\nfrom itertools import accumulate, product, permutations, "
    "combinations\nimport collections\nfrom collections import Counter, OrderedDict, deque, defaultdict, "
    "ChainMap\nfrom functools import lru_cache\nimport math\nfrom math import sqrt, sin, cos, tan, ceil, "
    "fabs, floor, gcd, exp, log, log2\nimport fractions\nfrom typing import *\nimport random\nimport heapq\n"
    "from heapq import *\n"
)


def default_apps_path() -> Path:
    from codereps.paths import shared_data_dir

    return shared_data_dir() / "apps" / "original"


def _doc(task_id, question, starter, io, solutions, difficulty) -> dict:
    inputs, outputs = io.get("inputs"), io.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
        raise ValueError("input_output needs lists `inputs` and `outputs` of one length")
    if not inputs:
        raise ValueError("no tests")
    fn_name = io.get("fn_name") or None
    for value in (*inputs, *outputs):
        plain_data.encode(value)
    if fn_name is None and not all(isinstance(i, str) for i in inputs):
        raise ValueError("standard-input tests need text inputs")
    return {
        "task_id": str(task_id), "question": question, "starter_code": starter or "", "fn_name": fn_name,
        "inputs": inputs, "outputs": outputs, "solutions": solutions, "difficulty": difficulty,
    }  # fmt: skip


def _parse_mapcoder_argument(line: str):
    for parse in (json.loads, _literal):
        try:
            return parse(line)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return line  # a bare string argument (MapCoder writes strings unquoted)


def _literal(text):
    import ast

    return ast.literal_eval(text)


def _starter_function_name(starter: str):
    import re

    names = re.findall(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", starter, flags=re.M)
    return names[-1] if names else None


class APPS(Task):
    name = "apps"
    stop_sequences = ("\nQUESTION", "\n---", "\nANSWER")  # bigcode's

    def __init__(self, dataset_path=None, level: str = "all"):
        """dataset_path: a folder of APPS problem folders (default: the shared 5-problem sample), or a
        codeparrot/apps or MapCoder .jsonl / .parquet file. level: all, introductory, interview, competition."""
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        self.dataset_path = dataset_path
        self.level = level
        self.bad_rows: dict[str, str] = {}
        self._docs = None

    def get_dataset(self) -> list[dict]:
        if self._docs is None:
            path = Path(self.dataset_path) if self.dataset_path else default_apps_path()
            if path.is_dir():
                docs = self._read_folders(path)
            elif path.is_file():
                docs = self._read_rows(path)
            else:
                raise TaskDataError(f"{path}: APPS folder or file not found")
            self._docs = [d for d in docs if self.level == "all" or d["difficulty"] == self.level]
        return self._docs

    def _read_folders(self, root: Path) -> list[dict]:
        docs = []
        folders = sorted(p for p in root.iterdir() if p.is_dir())
        if not folders:
            raise TaskDataError(f"{root}: no APPS problem folders")
        for folder in folders:
            try:
                question = (folder / "question.txt").read_text(encoding="utf-8")
                io = json.loads((folder / "input_output.json").read_text(encoding="utf-8"))
                starter = folder / "starter_code.py"
                solutions_file = folder / "solutions.json"
                solutions = json.loads(solutions_file.read_text()) if solutions_file.is_file() else []
                metadata_file = folder / "metadata.json"
                metadata = json.loads(metadata_file.read_text()) if metadata_file.is_file() else {}
                docs.append(
                    _doc(folder.name, question, starter.read_text() if starter.is_file() else "", io,
                         solutions, metadata.get("difficulty"))
                )  # fmt: skip
            except (OSError, ValueError, AttributeError, plain_data.NotPlainData) as e:
                self.bad_rows[folder.name] = f"{type(e).__name__}: {e}"[:300]
        return docs

    def _read_rows(self, path: Path) -> list[dict]:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
        else:
            rows = []
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if line.strip():
                        try:
                            rows.append(json.loads(line))
                        except json.JSONDecodeError as e:
                            self.bad_rows[f"{path.name}:{number}"] = f"not JSON ({e.msg})"
        docs, seen = [], set()
        for number, row in enumerate(rows, 1):
            task_id = str(row.get("problem_id", row.get("name", f"{path.name}:{number}")))
            if task_id in seen:
                continue  # MapCoder's file repeats 22 problems
            seen.add(task_id)
            try:
                if "test_list" in row:  # MapCoder
                    starter = row.get("starter_code") or ""
                    fn_name = _starter_function_name(starter) if starter.strip() else None
                    tests = row["test_list"]
                    if fn_name:
                        inputs = [
                            [_parse_mapcoder_argument(a) for a in t["input"].split("\n")] for t in tests
                        ]
                    else:
                        inputs = [t["input"] for t in tests]
                    io = {"inputs": inputs, "outputs": [t["output"] for t in tests], "fn_name": fn_name}
                    docs.append(_doc(task_id, row["description"], starter, io, [], row.get("difficulty")))
                else:  # codeparrot/apps
                    io = json.loads(row["input_output"]) if row.get("input_output") else {}
                    solutions = json.loads(row["solutions"]) if row.get("solutions") else []
                    docs.append(
                        _doc(
                            task_id,
                            row["question"],
                            row.get("starter_code"),
                            io,
                            solutions,
                            row.get("difficulty"),
                        )
                    )
            except (KeyError, ValueError, TypeError, AttributeError, plain_data.NotPlainData) as e:
                self.bad_rows[task_id] = f"{type(e).__name__}: {e}"[:300]
        return docs

    def get_prompt(self, doc: dict) -> str:
        prompt = "\nQUESTION:\n" + doc["question"]
        if doc["starter_code"]:
            prompt += doc["starter_code"]
        prompt += "\nUse Call-Based format" if doc["fn_name"] else "\nUse Standard Input format"
        return prompt + "\nANSWER:\n"

    def get_solution(self, doc: dict) -> str:
        return doc["solutions"][0] if doc["solutions"] else ""

    def postprocess_generation(self, completion: str, doc: dict) -> str:
        return self.truncate_at_stop(completion)

    def get_reference(self, doc: dict):
        return AppsPlan(doc)

    def get_references(self, docs, workers=None, isolation="auto") -> list:
        return [AppsPlan(doc) for doc in docs]


class AppsPlan:
    """One APPS problem's tests, as probes; judged with APPS's comparisons."""

    def __init__(self, doc: dict):
        self.fn_name = doc["fn_name"]
        self.inputs = doc["inputs"]
        self.outputs = doc["outputs"]

    def job(self, program: str) -> dict:
        count = len(self.inputs)
        job = {"program": program, "prelude": IMPORT_PRELUDE, "probe_timeouts": [TEST_TIMEOUT] * count,
               "timeout": TEST_TIMEOUT * count + 5.0}  # fmt: skip
        if self.fn_name:
            owner = "Solution" if "class Solution" in program else None
            probe = {"call": self.fn_name, **({"method_of": owner} if owner else {})}
            args = [a if isinstance(a, list) else [a] for a in self.inputs]
            job["probes"] = [{**probe, "args": plain_data.encode(a)} for a in args]
        else:
            job["probes"] = [{"stdin": text} for text in self.inputs]
            job["run_per_probe"] = True
        return job

    def verdict(self, outcome: dict) -> dict:
        report = read_report(outcome)
        judged = {k: v for k, v in outcome.items() if k not in ("results", "stdout", "line_seconds")}
        judged["verdict"] = "judge"
        if report.compile_error:
            tests = [-2] * len(self.inputs)
        elif report.failure is not None:
            tests = [-1] * len(self.inputs)
        else:
            tests = []
            for i, expected in enumerate(self.outputs):
                if i in report.values:
                    value = report.values[i]
                    ok = call_matches(value, expected) if self.fn_name else stdout_matches(value, expected)
                    tests.append(bool(ok))
                else:
                    tests.append(-1)
        passed = all(t is True for t in tests)
        first_bad = next((i for i, t in enumerate(tests) if t is not True), None)
        error = None
        if first_bad is not None:
            kind = {False: "wrong answer", -1: "runtime error or time-out", -2: "compile error"}[
                tests[first_bad]
            ]
            detail = report.failure or report.errors.get(first_bad) or ""
            error = f"test {first_bad}: {kind}" + (f" ({detail[:200]})" if detail else "")
        judged.update(status="passed" if passed else "failed", passed=passed, error=error, tests=tests)
        return judged


def call_matches(output, expected) -> bool:
    """APPS's call-based comparison: tuples as lists; an expected list may wrap the value."""
    if isinstance(output, tuple):
        output = list(output)
    if output == expected:
        return True
    if isinstance(expected, list) and expected:
        if output == expected[0]:
            return True
        if isinstance(output, list) and output and all(isinstance(x, tuple) for x in output):
            return [list(x) for x in output] == expected[0]
    return False


def stdout_matches(output: str, expected) -> bool:
    """APPS's standard-input comparison: exact, stripped lines, whitespace tokens, then floats."""
    if isinstance(expected, list):
        expected = "\n".join(str(e) for e in expected)
    if not isinstance(output, str) or not isinstance(expected, str):
        return False
    if output == expected:
        return True

    def lines(text):
        return [line.strip() for line in text.strip().split("\n")]

    if lines(output) == lines(expected):
        return True
    got, want = output.split(), expected.split()
    if got == want:
        return True
    if len(got) != len(want) or not got:
        return False
    try:
        import math

        return all(
            math.isclose(float(a), float(b), rel_tol=1e-5, abs_tol=1e-8)
            for a, b in zip(got, want, strict=True)
        )
    except ValueError:
        return False

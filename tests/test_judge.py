"""The judge outside the candidate's process: forging attempts of every known kind score 0, honest code 1."""

import json
import textwrap

import pytest

from eval_space.pass_at_k import plain_data
from eval_space.pass_at_k.judge import AssertPlan, InProcessPlan, plan_for_test, split_asserts
from eval_space.pass_at_k.pass_at_k import score_candidates
from eval_space.pass_at_k.sandbox import Limits, SandboxExecutor

TEST = "assert add(2, 3) == 5\nassert add(10, -4) == 6\nassert set(pairs(2)) == {(0, 1), (1, 0)}\n"
HONEST = "def add(a, b):\n    return a + b\ndef pairs(n):\n    return ((i, n - 1 - i) for i in range(n))\n"
WRONG_PAIRS = "def pairs(n):\n    return []\n"

FORGERIES = {
    # 1. the old attack: walk the interpreter's stack for the runner's secret, write the success record
    "stack-walking for a secret": textwrap.dedent("""
        import os, re, sys, json
        frame = sys._getframe()
        while frame is not None:
            for value in list(frame.f_locals.values()):
                if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{32}", value):
                    os.write(3, json.dumps({"finished": value}).encode() + b"\\n")
                if isinstance(value, dict) and "probes" in value:   # the judged job: claim every probe
                    for i in range(len(value["probes"])):
                        os.write(3, f"{i} true\\n".encode())
                    os.write(3, b"D\\n")
            frame = frame.f_back
        os._exit(0)
    """),
    # 2. an object equal to everything
    "always-true __eq__": "class Any:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
    "def add(a, b):\n    return Any()\ndef pairs(n):\n    return Any()\n",
    # 3. the same with a subclass of int
    "int subclass": "class Int(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
    "def add(a, b):\n    return Int(0)\n" + WRONG_PAIRS,
    # 4. patching what the judge side would import (here, in the candidate's own process, to no effect)
    "patching modules the judge imports": textwrap.dedent("""
        import builtins, json, sys
        json.loads = lambda *a, **k: 5
        json.dumps = lambda *a, **k: "5"
        builtins.bool = lambda *a: True
        builtins.isinstance = lambda *a: True
        for name in list(sys.modules):
            if "plain_data" in name or "judge" in name:
                sys.modules[name].decode = lambda text: 5
                sys.modules[name].encode = lambda value, normalize=None: "5"
        def add(a, b):
            return a - b
        def pairs(n):
            return []
    """),
    # 5. objects that lie in __repr__ / __hash__, and a str subclass
    "lying __repr__ and __hash__": "class Five:\n    def __repr__(self):\n        return '5'\n"
    "    def __hash__(self):\n        return hash(5)\n    def __eq__(self, other):\n        return True\n"
    "def add(a, b):\n    return Five()\n" + WRONG_PAIRS,
    "str subclass": "class S(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\n"
    "def add(a, b):\n    return S('x')\ndef pairs(n):\n    return S('y')\n",
    "dict and tuple subclasses": "class T(tuple):\n    def __eq__(self, other):\n        return True\n"
    "    __hash__ = tuple.__hash__\ndef add(a, b):\n    return T()\ndef pairs(n):\n    return [T()]\n",
    # 6. results that are huge or cyclic
    "cyclic result": "def add(a, b):\n    x = []\n    x.append(x)\n    return x\n" + WRONG_PAIRS,
    "huge result": "def add(a, b):\n    return 'x' * (80 << 20)\n" + WRONG_PAIRS,
    "deeply nested result": "def add(a, b):\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x\n"
    + WRONG_PAIRS,
    # 7. writing result lines itself, with a guess for every probe, then leaving
    "writing its own result lines": "import os\nos.write(3, b'R\\n0 5\\n1 5\\n2 5\\nD\\n')\nos._exit(0)\n",
    # 8. right for the example in the prompt only (`add(2, 3) == 5`), then wrong
    "memorized first example": "def add(a, b):\n    return 5\n" + WRONG_PAIRS,
}


@pytest.fixture(autouse=True, scope="module")
def allow_code_eval():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_ALLOW_CODE_EVAL", "1")
        yield


@pytest.fixture(scope="module")
def executor(allow_code_eval):
    with SandboxExecutor(workers=2, limits=Limits(timeout=10, memory_bytes=1 << 30)) as ex:
        yield ex


@pytest.fixture(scope="module")
def forged(executor):
    names = list(FORGERIES)
    result = score_candidates(
        [[FORGERIES[name]] for name in names] + [[HONEST]],
        [TEST] * (len(names) + 1),
        problem_ids=names + ["honest"],
        executor=executor,
    )
    return dict(zip(names + ["honest"], (r[0] for r in result["results"]), strict=True)), result


def test_the_honest_solution_passes_through_the_judge(forged):
    outcomes, result = forged
    assert outcomes["honest"]["status"] == "passed"
    assert outcomes["honest"]["verdict"] == "judge"
    assert result["verdicts"] == {"judge": len(FORGERIES) + 1, "in-process": 0}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_each_forgery_scores_zero(forged, name):
    outcome = forged[0][name]
    assert outcome["verdict"] == "judge"
    assert outcome["passed"] is False, outcome
    assert outcome["status"] in ("failed", "timed out")


def test_forgeries_fail_for_their_own_reasons(forged):
    outcomes = forged[0]
    assert "NotPlainData" in outcomes["always-true __eq__"]["error"]
    assert "NotPlainData" in outcomes["int subclass"]["error"]
    assert "contains itself" in outcomes["cyclic result"]["error"]
    assert "AssertionError" in outcomes["patching modules the judge imports"]["error"]
    assert "AssertionError: assert add(10, -4) == 6" == outcomes["memorized first example"]["error"]
    assert "AssertionError" in outcomes["writing its own result lines"]["error"]


def test_the_same_forgeries_passed_the_old_in_process_runner(executor):
    """The control that shows the judge is what stops them: in one process, objects that lie win."""
    test = "assert add(2, 3) == 5\nassert add(10, -4) == 6\n"
    forgeries = [
        FORGERIES[name] for name in ("always-true __eq__", "int subclass", "lying __repr__ and __hash__")
    ]
    in_process = InProcessPlan(test, "forced")
    assert [o["status"] for o in executor.run([in_process.job(f) for f in forgeries])] == ["passed"] * 3
    judged = score_candidates([forgeries], [test], k=[1], executor=executor)
    assert judged["pass@1"] == 0.0


def test_humaneval_check_bodies_are_split_into_probes():
    test = (
        "METADATA = {}\n\ndef check(candidate):\n    assert candidate([1, 2]) == 3\n"
        "    assert abs(candidate([0.5]) - 0.5) < 1e-6\n    assert not candidate([])\n"
        "    assert True, 'always'\n\ncheck(total)\n"
    )
    plan, reason = split_asserts(test)
    assert reason is None and isinstance(plan, AssertPlan)
    assert plan.probes == ["total([1, 2])", "total([0.5])", "total([])"]  # the expected sides stay here


def test_loops_around_the_candidate_are_judged_in_process():
    test = "def check(candidate):\n    for x in range(3):\n        assert candidate(x) == x\n\ncheck(f)\n"
    plan = plan_for_test(test)
    assert isinstance(plan, InProcessPlan) and "For" in plan.reason


def test_in_process_problems_are_counted_and_named(executor):
    loop_test = "for x in range(3):\n    assert ident(x) == x\n"
    result = score_candidates(
        [["def ident(x):\n    return x"], [HONEST]], [loop_test, TEST], problem_ids=["loop", "split"],
        executor=executor,
    )  # fmt: skip
    assert result["pass@1"] == 1.0
    assert result["verdicts"] == {"judge": 1, "in-process": 1}
    assert list(result["in_process_problems"]) == ["loop"]
    assert [r[0]["verdict"] for r in result["results"]] == ["in-process", "judge"]


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -(1 << 20000), 2.5, float("inf"), 1 + 2j, "s\n", b"\x00", [1, (2, {3})],
     {(1, 2): frozenset({b"a"})}, ((),), {"a": [None]}],
    ids=lambda value: type(value).__name__,
)  # fmt: skip
def test_plain_data_round_trips_with_exact_types(value):
    decoded = plain_data.decode(plain_data.encode(value))
    assert decoded == value and type(decoded) is type(value)


@pytest.mark.parametrize(
    "text",
    ['{"object": []}', '{"tuple": 3}', '{"set": [[1]]}', '{"dict": [[[1], 2]]}', "[" * 5000 + "]" * 5000,
     '{"int": "zz"}', '{"tuple": [], "set": []}', "not json", '{"complex": ["1", 2]}'],
)  # fmt: skip
def test_plain_data_rejects_anything_else(text):
    with pytest.raises(plain_data.NotPlainData):
        plain_data.decode(text)


def test_encode_refuses_subclasses_and_cycles():
    class Int(int):
        pass

    for value in (Int(3), [Int(3)], {"k": object()}):
        with pytest.raises(plain_data.NotPlainData):
            plain_data.encode(value)
    cyclic = {}
    cyclic["self"] = cyclic
    with pytest.raises(plain_data.NotPlainData, match="contains itself"):
        plain_data.encode(cyclic)
    assert json.loads(plain_data.encode([1, [2]])) == [1, [2]]

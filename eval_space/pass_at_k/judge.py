"""The judge: verdicts decided outside the candidate's process, from plain data only.

A candidate's process runs the candidate and computes *probes* (a call such as `f((3, 4), 5)`, or a
program's standard output for a given input); each result crosses back as plain data
(`plain_data.decode`: exact built-in types, bounded). The judge, here in the trusted process, compares the
results with expected values the candidate never saw: the other side of each assert (MBPP, HumanEval), the
canonical solution's outputs (EvalPlus) or the dataset's outputs (APPS). Nothing of the verdict depends on
what the candidate's process claims about passing, so stack-walking for a secret, objects whose `__eq__`
is always true, int subclasses or patched modules gain nothing.

For assert-style tests (`split_asserts`): each `assert` is parsed with `ast`; every call of a name the test
does not define (the candidate's function) whose arguments do not depend on the candidate becomes a probe
(with the built-in conversions wrapped around it, such as `set(f(x))`, computed there too); the rest of the
assert, with the probes' values in their place, is evaluated here by a small interpreter that knows only
literals, operators and a few pure built-ins (`judge_eval`), so no test code and no candidate code runs in
the trusted process. Test code that cannot be split this way (a loop around the calls, a candidate's class
built in the test's setup) runs the old way, candidate and test in one sandboxed process, and its outcomes
say `verdict: "in-process"`.
"""

import ast
import builtins
import json
import math

from . import plain_data

PROBE = "__probe_"  # names of the placeholders in a judged expression: __probe_0, __probe_1, ...

# Built-ins applied to a candidate's result inside its own process (`sorted(f(x))`): the probe then returns
# plain data even when the function returns a generator, a map or a dict view. Applying them there is
# safe: they see only the candidate's own value, never an expected one.
PROBE_WRAPPERS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "dict", "str", "len"})

# What the judge's interpreter may call: pure functions of plain data.
JUDGE_FUNCTIONS = {
    name: getattr(builtins, name)
    for name in (
        "abs all any bool dict float frozenset int isinstance len list max min range reversed round "
        "set sorted str sum tuple type zip enumerate"
    ).split()
}
JUDGE_MATH = {name: getattr(math, name) for name in "isclose fabs sqrt floor ceil inf pi e nan".split()}
JUDGE_MODULES = {"math": JUDGE_MATH}

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}
_UNARY = {ast.Not: lambda a: not a, ast.USub: lambda a: -a, ast.UAdd: lambda a: +a, ast.Invert: lambda a: ~a}
_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


class NotJudgeable(ValueError):
    """An expression outside what the judge's interpreter evaluates."""


def judge_eval(node: ast.AST, env: dict):
    """Evaluate a judged expression over plain values. Only literals, displays, operators, comparisons,
    subscripts, conditionals and calls of JUDGE_FUNCTIONS / math's functions: nothing else can run."""
    t = type(node)
    if t is ast.Constant:
        return node.value
    if t is ast.Name:
        if node.id in env:
            return env[node.id]
        if node.id in JUDGE_FUNCTIONS:
            return JUDGE_FUNCTIONS[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        raise NotJudgeable(f"unknown name {node.id!r}")
    if t is ast.Attribute:
        if isinstance(node.value, ast.Name) and node.value.id in JUDGE_MODULES and node.value.id not in env:
            module = JUDGE_MODULES[node.value.id]
            if node.attr in module:
                return module[node.attr]
        raise NotJudgeable(f"attribute {ast.unparse(node)!r}")
    if t in (ast.List, ast.Tuple, ast.Set):
        items = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                items.extend(judge_eval(element.value, env))
            else:
                items.append(judge_eval(element, env))
        return items if t is ast.List else tuple(items) if t is ast.Tuple else set(items)
    if t is ast.Dict:
        if any(key is None for key in node.keys):
            raise NotJudgeable("dict unpacking")
        return {judge_eval(k, env): judge_eval(v, env) for k, v in zip(node.keys, node.values, strict=True)}
    if t is ast.UnaryOp and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](judge_eval(node.operand, env))
    if t is ast.BinOp and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](judge_eval(node.left, env), judge_eval(node.right, env))
    if t is ast.BoolOp:
        value = None
        for operand in node.values:
            value = judge_eval(operand, env)
            if isinstance(node.op, ast.And) != bool(value):
                return value
        return value
    if t is ast.Compare:
        left = judge_eval(node.left, env)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _COMPARE:
                raise NotJudgeable(f"operator {type(op).__name__}")
            right = judge_eval(comparator, env)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if t is ast.IfExp:
        return judge_eval(node.body if judge_eval(node.test, env) else node.orelse, env)
    if t is ast.Subscript:
        return judge_eval(node.value, env)[judge_eval(node.slice, env)]
    if t is ast.Slice:
        parts = (node.lower, node.upper, node.step)
        return slice(*(None if p is None else judge_eval(p, env) for p in parts))
    if t is ast.Call:
        function = judge_eval(node.func, env)
        if function not in JUDGE_FUNCTIONS.values() and function not in JUDGE_MATH.values():
            raise NotJudgeable(f"call of {ast.unparse(node.func)!r}")
        args = [judge_eval(a, env) for a in node.args if not isinstance(a, ast.Starred)]
        if len(args) != len(node.args):
            raise NotJudgeable("starred call arguments")
        kwargs = {k.arg: judge_eval(k.value, env) for k in node.keywords if k.arg is not None}
        if len(kwargs) != len(node.keywords):
            raise NotJudgeable("keyword unpacking")
        return function(*args, **kwargs)
    raise NotJudgeable(f"{t.__name__} expression")


def _judgeable_shape(node: ast.AST, names: set) -> bool:
    """Whether judge_eval could evaluate `node` with `names` bound (checked once, before any candidate)."""
    allowed = (
        ast.Constant, ast.Name, ast.Load, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp,
        ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Call, ast.Attribute, ast.keyword,
        ast.Starred, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
    )  # fmt: skip
    for sub in ast.walk(node):
        if not isinstance(sub, allowed):
            return False
        if isinstance(sub, (ast.BinOp, ast.UnaryOp)) and type(sub.op) not in {**_BINARY, **_UNARY}:
            return False
        if isinstance(sub, ast.Compare) and any(type(op) not in _COMPARE for op in sub.ops):
            return False
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            known = sub.id in names or sub.id in JUDGE_FUNCTIONS or sub.id in JUDGE_MODULES
            if not known:
                return False
        if isinstance(sub, ast.Attribute):
            if not (isinstance(sub.value, ast.Name) and sub.value.id in JUDGE_MODULES):
                return False
            if sub.attr not in JUDGE_MODULES[sub.value.id]:
                return False
        if isinstance(sub, ast.Call) and not isinstance(sub.func, (ast.Name, ast.Attribute)):
            return False
    return True


# ---------------------------------------------------------------- assert-style tests (MBPP, HumanEval)


class AssertPlan:
    """A test program split into probes (run in the candidate's process) and judged checks (run here).

    setup: the test's statements that do not involve the candidate (imports, constants), run in the
    candidate's process before the probes so their arguments may use them; env: the values of the setup's
    plain assignments, for the judge; checks: (assert source, judged expression AST)."""

    def __init__(self, setup: str, probes: list[str], checks: list[tuple[str, ast.AST]], env: dict):
        self.setup = setup
        self.probes = probes
        self.checks = checks
        self.env = env

    def job(self, program: str) -> dict:
        return {"program": program, "setup": self.setup, "probes": [{"expr": p} for p in self.probes]}

    def verdict(self, outcome: dict) -> dict:
        report = read_report(outcome)
        if report.failure is not None:
            return _judged(outcome, report.failure_status, report.failure)
        for source, expression in self.checks:
            env = dict(self.env)
            for sub in ast.walk(expression):
                if isinstance(sub, ast.Name) and sub.id.startswith(PROBE):
                    index = int(sub.id[len(PROBE) :])
                    if index in report.errors:
                        return _judged(outcome, "failed", report.errors[index])
                    if index not in report.values:
                        return _judged(outcome, *report.missing(index))
                    env[sub.id] = report.values[index]
            try:
                ok = bool(judge_eval(expression, env))
            except Exception as e:  # e.g. sorted() of mixed types: the assert would have raised too
                return _judged(outcome, "failed", f"{type(e).__name__} while judging: {source[:200]}")
            if not ok:
                return _judged(outcome, "failed", f"AssertionError: {source[:200]}")
        return _judged(outcome, "passed", None)


def split_asserts(test_source: str):
    """(AssertPlan, None) when every statement of the test can be judged outside the candidate's process,
    else (None, the reason)."""
    try:
        tree = ast.parse(test_source)
    except SyntaxError as e:
        return None, f"test code does not parse ({e.msg})"
    statements = _inline_check(tree.body)
    defined = _defined_names(statements)
    loaded = {n.id for s in statements for n in ast.walk(s) if isinstance(n, ast.Name)}
    candidate = {
        name for name in loaded - defined if not hasattr(builtins, name) and name not in JUDGE_MODULES
    }
    if not candidate:  # the candidate's function shadows a built-in (MBPP 126 defines `sum`)
        candidate = {
            s.test.left.func.id
            for s in statements
            if isinstance(s, ast.Assert)
            and isinstance(s.test, ast.Compare)
            and isinstance(s.test.left, ast.Call)
            and isinstance(s.test.left.func, ast.Name)
        }
    if not candidate:
        return None, "no call of the candidate found"

    def mentions_candidate(node):
        return any(isinstance(n, ast.Name) and n.id in candidate for n in ast.walk(node))

    setup, probes, checks, env = [], [], [], {}
    for statement in statements:
        if isinstance(statement, ast.Assert):
            source = ast.unparse(statement)
            expression, statement_probes = _extract_probes(statement.test, candidate, len(probes))
            if mentions_candidate(expression):
                return None, f"the candidate is used outside a call: {source[:120]}"
            names = set(env) | {
                f"{PROBE}{i}" for i in range(len(probes), len(probes) + len(statement_probes))
            }
            if not _judgeable_shape(expression, names):
                return None, f"assert the judge cannot evaluate: {source[:120]}"
            probes.extend(statement_probes)
            checks.append((source, ast.fix_missing_locations(expression)))
        elif mentions_candidate(statement):
            return None, f"a {type(statement).__name__} statement uses the candidate"
        elif isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Expr, ast.Pass)):
            setup.append(statement)
        elif isinstance(statement, ast.Assign):
            setup.append(statement)
            target = statement.targets[0] if len(statement.targets) == 1 else None
            if isinstance(target, ast.Name) and _judgeable_shape(statement.value, set(env)):
                try:
                    env[target.id] = judge_eval(statement.value, env)
                except Exception:
                    pass  # left to the candidate's side only; a check using it is then not judgeable
        else:
            return None, f"a {type(statement).__name__} statement in the test"
    if not checks:
        return None, "no assert to judge"
    setup_source = "\n".join(ast.unparse(s) for s in setup)
    return AssertPlan(setup_source, probes, checks, env), None


def _inline_check(body: list) -> list:
    """HumanEval's `def check(candidate): ...` + `check(entry)`: the body, with `candidate` named `entry`."""
    if not body or not isinstance(body[-1], ast.Expr) or not isinstance(body[-1].value, ast.Call):
        return body
    call = body[-1].value
    if not (isinstance(call.func, ast.Name) and len(call.args) == 1 and isinstance(call.args[0], ast.Name)):
        return body
    checks = [s for s in body if isinstance(s, ast.FunctionDef) and s.name == call.func.id]
    if len(checks) != 1 or len(checks[0].args.args) != 1:
        return body
    check = checks[0]
    parameter, entry = check.args.args[0].arg, call.args[0].id

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            return ast.copy_location(ast.Name(entry, node.ctx), node) if node.id == parameter else node

    inner = [Rename().visit(s) for s in check.body]
    return [s for s in body[:-1] if s is not check] + inner


def _defined_names(statements) -> set:
    names = set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.comprehension):
                names.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    return names


def _extract_probes(expression: ast.AST, candidate: set, first_index: int):
    """Replace each candidate call with candidate-free arguments (plus the PROBE_WRAPPERS around it) by a
    placeholder name; returns (the new expression, the probes' sources)."""

    def free_of_candidate(node):
        return not any(isinstance(n, ast.Name) and n.id in candidate for n in ast.walk(node))

    parents = {}
    for node in ast.walk(expression):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    roots = []
    for node in ast.walk(expression):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in candidate
            and all(free_of_candidate(a) for a in node.args)
            and all(free_of_candidate(k.value) for k in node.keywords)
        ):
            root = node
            while (
                isinstance(parents.get(root), ast.Call)
                and isinstance(parents[root].func, ast.Name)
                and parents[root].func.id in PROBE_WRAPPERS
                and parents[root].args == [root]
                and not parents[root].keywords
            ):
                root = parents[root]
            if not any(root is r for r in roots):
                roots.append(root)
    # a probe inside another probe's arguments cannot happen: arguments are candidate-free
    sources, index_of = [], {}
    for root in roots:
        index_of[id(root)] = first_index + len(sources)
        sources.append(ast.unparse(root))

    class Replace(ast.NodeTransformer):
        def visit(self, node):
            if id(node) in index_of:
                return ast.copy_location(ast.Name(f"{PROBE}{index_of[id(node)]}", ast.Load()), node)
            return super().visit(node)

    return Replace().visit(expression), sources  # the test's own tree, parsed for this plan only


# ---------------------------------------------------------------- reading a candidate's report


class Report:
    """What a judged job's candidate process reported, decoded: values and errors per probe index."""

    def __init__(self, outcome: dict):
        self.outcome = outcome
        self.values: dict[int, object] = {}
        self.errors: dict[int, str] = {}
        self.loaded = False
        self.failure = None  # the program did not compile, or raised while loading
        self.failure_status = "failed"
        self.compile_error = False

    def missing(self, index: int) -> tuple[str, str]:
        """(status, error) for a probe with no result: the job's own end (timed out, killed, ...)."""
        if self.outcome["status"] == "timed out":
            return "timed out", self.outcome["error"] or f"TimeoutError: probe {index}"
        error = self.outcome["error"] or f"NoResult: probe {index} reported nothing"
        return "failed", error


def read_report(outcome: dict) -> Report:
    report = Report(outcome)
    for line in outcome.get("results", "").split("\n"):
        if not line:
            continue
        head, _, payload = line.partition(" ")
        if head == "R":
            report.loaded = True
        elif head in ("C", "E") and report.failure is None and not report.loaded:
            report.failure = _candidate_text(payload)
            report.compile_error = head == "C"
        elif head.isdigit() and len(head) < 10:
            index = int(head)
            if index in report.values or index in report.errors:
                continue  # the first claim stands; later ones are ignored
            if payload.startswith("!"):
                report.errors[index] = _candidate_text(payload[1:])
            else:
                try:
                    report.values[index] = plain_data.decode(payload)
                except plain_data.NotPlainData as e:
                    report.errors[index] = f"NotPlainData: {e}"
    if report.failure is None and not report.loaded:
        report.failure_status = "timed out" if outcome["status"] == "timed out" else "failed"
        report.failure = outcome["error"] or "EarlyExit: the program did not finish loading"
    return report


def _candidate_text(payload: str) -> str:
    """An error message written by the candidate: shown, never trusted."""
    try:
        text = json.loads(payload)
    except ValueError:
        text = payload
    return str(text)[:500] if isinstance(text, str) else "malformed error report"


class InProcessPlan:
    """Test code the judge cannot split: candidate and tests share one sandboxed process (the old way)."""

    def __init__(self, test: str, reason: str):
        self.test = test
        self.reason = reason

    def job(self, program: str) -> dict:
        return {"program": program, "test": self.test}

    def verdict(self, outcome: dict) -> dict:
        return {**outcome, "verdict": "in-process"}


def plan_for_test(test_source: str):
    """The judge's plan for an assert-style test program: split when possible, else in-process."""
    plan, reason = split_asserts(test_source)
    return plan if plan is not None else InProcessPlan(test_source, reason)


def _judged(outcome: dict, status: str, error) -> dict:
    judged = {key: value for key, value in outcome.items() if key not in ("results", "stdout")}
    judged.update(status=status, passed=status == "passed", error=error, verdict="judge")
    return judged

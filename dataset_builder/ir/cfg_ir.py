"""The `cfg` IR: funcskeleton's `serialize_function_separators_numbered`, on the stdlib `ast`.

    [P][SEP1][C_0]...[C_n-1][SEP2][R_0]...[R_n-1][SEP3][K_0]...[K_n-1]

    >>> serialize_cfg("def f(x):\\n    if x:\\n        g()\\n    return h(x)")
    '[1][SEP1][If][None][Return][SEP2][1,2][2][][SEP3][0][1][1]'

- the blocks are those of python-scalpel 1.0b0's CFG of the function (built by
  `cfg_graph`, which documents the rules), numbered 0..n-1 breadth-first from the entry;
- `P`: `len(args.args)` of the function;
- `C_i`: the class name of the block's last `If`/`For`/`While`/`Return`/`Try`
  statement, else `None`;
- `R_i`: the numbers of the block's exit targets, in exit order;
- `K_i`: the calls in the block's statements (a compound statement contains its
  whole body) whose callee is a name or an attribute, less those that also lie in
  a successor block (see `_count_calls`).

The function is the first `def`/`async def` of the source in `ast.walk` order.
Byte-identical to funcskeleton (commit 20a28ac on scalpel 1.0b0) on what it
accepts; everything else it rejects gets the same rules, extended as written in
docs/cfg_format.md (nested functions and classes, `*args`, `async`, `match`,
`try ... except*`, loop `else`, lambdas, comprehensions, `global`, decorators).
"""

import ast

from .cfg_graph import build_blocks
from .errors import TooDeepError
from .parsing import first_function, parse_source

_CONTROL_NAMES = {ast.If: "If", ast.For: "For", ast.While: "While", ast.Return: "Return", ast.Try: "Try"}
_COUNTED_CALLEES = (ast.Name, ast.Attribute)
_YIELD_OR_AWAIT = (ast.Yield, ast.Await)


def serialize_cfg(src: str) -> str:
    return serialize_cfg_tree(parse_source(src))


def serialize_cfg_tree(tree: ast.AST) -> str:
    """`cfg` of the first function in an already parsed source (so a caller parses once)."""
    function = first_function(tree)
    try:
        return _serialize_function(function)
    except RecursionError:
        raise TooDeepError("statements nest too deeply to build the control flow graph") from None


def _serialize_function(function) -> str:
    calls = _CallIndex(function)
    blocks = build_blocks(function, calls.has_yield_or_await)
    number = {id(block): i for i, block in enumerate(blocks)}
    successors = [[number[id(link.target)] for link in block.exits] for block in blocks]
    controls = [_control_name(block) for block in blocks]
    # funcskeleton reads calls with a special rule when the function is named `cfg`
    # (scalpel's name for the module it builds): nested `def`/`class` statements count nothing.
    skip = (ast.FunctionDef, ast.ClassDef) if function.name == "cfg" else ()
    counts = _count_calls(blocks, successors, calls, skip)
    return "".join(
        [f"[{len(function.args.args)}][SEP1]"]
        + [f"[{c}]" for c in controls]
        + ["[SEP2]"]
        + ["[" + ",".join(map(str, s)) + "]" for s in successors]
        + ["[SEP3]"]
        + [f"[{k}]" for k in counts]
    )


def _control_name(block) -> str:
    name = "None"
    for stmt in block.statements:
        name = _CONTROL_NAMES.get(type(stmt), name)
    return name


class _CallIndex:
    """Every call of the body numbered in pre-order, so a statement's calls are one range.

    `span[stmt] = (lo, hi)`: the statement's subtree holds calls lo..hi-1;
    `prefix[i]`: how many of calls 0..i-1 have a `Name`/`Attribute` callee.
    One explicit-stack walk over every node (expressions can nest thousands deep).
    """

    def __init__(self, function):
        span = {}
        prefix = [0]
        has_yield_or_await = False
        stack = list(reversed(function.body))
        n = 0
        counted = 0
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is tuple:  # end of a statement's subtree
                stmt, lo = node
                span[stmt] = (lo, n)
                continue
            if kind is ast.Call:
                n += 1
                if isinstance(node.func, _COUNTED_CALLEES):
                    counted += 1
                prefix.append(counted)
            elif kind in _YIELD_OR_AWAIT:
                has_yield_or_await = True
            elif isinstance(node, ast.stmt):
                stack.append((node, n))
            children = list(ast.iter_child_nodes(node))
            children.reverse()
            stack += children
        self.span = span
        self.prefix = prefix
        self.has_yield_or_await = has_yield_or_await

    def count(self, lo: int, hi: int) -> int:
        return self.prefix[hi] - self.prefix[lo]


def _count_calls(blocks, successors, calls: _CallIndex, skip) -> list[int]:
    """funcskeleton's pruned call counts, without its walk over every path.

    funcskeleton walks every path from the entry (never re-entering a block already
    on the path, except that a block may follow itself once) and removes from each
    block the calls its successor had when visited. Because a statement's calls are
    nested in those of the statements enclosing it, that comes down to:

    - a block that exits to itself keeps no call (the revisit takes them all);
    - otherwise it loses the calls of every successor that does not dominate it
      (a successor that dominates it, a loop guard reached by the back edge, is
      always already on the path, so funcskeleton never visits it from there).
    """
    idom = _immediate_dominators(successors)

    def dominates(a: int, b: int) -> bool:
        while b != a:
            if b == 0:
                return False
            b = idom[b]
        return True

    spans = [[calls.span[s] for s in block.statements if not isinstance(s, skip)] for block in blocks]
    counts = []
    for b, own in enumerate(spans):
        if b in successors[b]:
            counts.append(0)
            continue
        removed = _merge(sorted(span for s in successors[b] if not dominates(s, b) for span in spans[s]))
        counts.append(sum(calls.count(lo, hi) - _overlap(lo, hi, removed, calls) for lo, hi in own))
    return counts


def _merge(spans):
    merged = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return merged


def _overlap(lo: int, hi: int, merged, calls: _CallIndex) -> int:
    total = 0
    for a, b in merged:
        a, b = max(a, lo), min(b, hi)
        if a < b:
            total += calls.count(a, b)
    return total


def _immediate_dominators(successors) -> list[int]:
    """Cooper, Harvey & Kennedy's iterative algorithm; node 0 is the entry, all nodes reachable."""
    n = len(successors)
    order = _reverse_postorder(successors)
    rank = [0] * n
    for i, node in enumerate(order):
        rank[node] = i
    predecessors = [[] for _ in range(n)]
    for node, targets in enumerate(successors):
        for t in targets:
            predecessors[t].append(node)
    idom = [-1] * n
    idom[0] = 0
    changed = True
    while changed:
        changed = False
        for node in order[1:]:
            new = -1
            for p in predecessors[node]:
                if idom[p] == -1:
                    continue
                if new == -1:
                    new = p
                    continue
                a, b = p, new
                while a != b:
                    while rank[a] > rank[b]:
                        a = idom[a]
                    while rank[b] > rank[a]:
                        b = idom[b]
                new = a
            if idom[node] != new:
                idom[node] = new
                changed = True
    return idom


def _reverse_postorder(successors) -> list[int]:
    seen = [False] * len(successors)
    seen[0] = True
    postorder = []
    stack = [(0, iter(successors[0]))]
    while stack:
        node, it = stack[-1]
        for t in it:
            if not seen[t]:
                seen[t] = True
                stack.append((t, iter(successors[t])))
                break
        else:
            stack.pop()
            postorder.append(node)
    postorder.reverse()
    return postorder

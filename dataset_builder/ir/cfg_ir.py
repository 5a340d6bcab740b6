"""The `cfg` IR: funcskeleton's `serialize_function_separators_numbered`, on the stdlib `ast`.

    [P][SEP1][C_0]...[C_n-1][SEP2][R_0]...[R_n-1][SEP3][K_0]...[K_n-1]

    >>> serialize_cfg("def f(x):\\n    if x:\\n        g()\\n    return h(x)")
    '[1][SEP1][If][None][Return][SEP2][1,2][2][][SEP3][0][1][1]'

- the blocks are those of python-scalpel 1.0b0's CFG of the function (built by
  `cfg_graph`, which documents the rules), numbered 0..n-1 breadth-first from the entry;
- `P`: `len(args.args)` of the function;
- `C_i`: `If`/`For`/`While`/`Return`/`Try` when the block ends with that statement,
  else `None`;
- `R_i`: the numbers of the block's exit targets, in exit order;
- `K_i`: the calls in the block's statements (a compound statement contains its
  whole body) whose callee is a name or an attribute, less those that also lie in
  a successor block (see `_count_calls`).

The function is the first `def`/`async def` of the source in `ast.walk` order.
Byte-identical to funcskeleton (commit 20a28ac on scalpel 1.0b0) on what it
accepts; what it rejects (nested functions and classes, `*args`, `async`,
`match`, `try ... except*`, loop `else`, lambdas, comprehensions, `global`,
decorators) gets the same rules, and where funcskeleton or scalpel would crash or
hang, a defined result: docs/cfg_format.md lists every case.
"""

import ast

from .cfg_graph import build_blocks
from .cfg_walk import TreeIndex
from .errors import TooDeepError
from .parsing import first_function, parse_source

_CONTROL_TAGS = {
    ast.If: "[If]",
    ast.For: "[For]",
    ast.While: "[While]",
    ast.Return: "[Return]",
    ast.Try: "[Try]",
}
# Statements whose body lies in other blocks (scalpel's compound statements).
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith)
_DEF_OR_CLASS = (ast.FunctionDef, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def serialize_cfg(src: str) -> str:
    return serialize_cfg_tree(parse_source(src))


def serialize_cfg_tree(tree: ast.AST) -> str:
    """`cfg` of the first function in an already parsed source (so a caller parses once)."""
    return serialize_ast_and_cfg(tree)[1]


def serialize_ast_and_cfg(tree: ast.AST) -> tuple[str, str]:
    """Both IRs of a parsed source from one walk of its tree: (`ast`, `cfg`).

    The `ast` string is the one `ast_ir.serialize_ast_tree` writes.
    """
    function = _first_function(tree)
    index = TreeIndex(tree)
    try:
        cfg = _serialize_function(function, index)
    except RecursionError:
        raise TooDeepError("statements nest too deeply to build the control flow graph") from None
    return "_".join(index.names), cfg


def _first_function(tree: ast.AST):
    # `first_function`'s breadth-first walk meets the module's own statements first,
    # so a top-level def, the usual case, is found without walking anything.
    if isinstance(tree, ast.Module):
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
    return first_function(tree)


def _serialize_function(function, calls: TreeIndex) -> str:
    blocks = build_blocks(function, calls.has_yield_or_await)
    number = {id(block): i for i, block in enumerate(blocks)}
    successors = [[number[id(link.target)] for link in block.exits] for block in blocks]
    counts = _count_calls(blocks, successors, calls, function.name == "cfg")
    parts = [f"[{len(function.args.args)}][SEP1]"]
    # A block's control statement, if any, is its last statement: `return` and
    # every compound statement end the block that holds them.
    parts += [
        _CONTROL_TAGS.get(type(block.statements[-1]), "[None]") if block.statements else "[None]"
        for block in blocks
    ]
    parts.append("[SEP2]")
    parts += [str(s).replace(" ", "") for s in successors]
    parts.append("[SEP3]")
    parts += [f"[{k}]" for k in counts]
    return "".join(parts)


def _count_calls(blocks, successors, calls: TreeIndex, named_cfg: bool) -> list[int]:
    """funcskeleton's pruned call counts, without its walk over every path.

    funcskeleton walks every path from the entry (never re-entering a block already
    on the path, except that a block may follow itself once) and removes from each
    block the calls its successor had when visited. Because a statement's calls are
    nested in those of the statements enclosing it, that comes down to:

    - a block that exits to itself keeps no call (the revisit takes them all);
    - otherwise it loses the calls of every successor that does not dominate it
      (a successor that dominates it, a loop guard reached by the back edge, is
      always already on the path, so funcskeleton never visits it from there).

    Only a block ending in a compound statement can share calls with a successor
    that it does not enter through a back edge (its body's blocks), so only those
    blocks need the set arithmetic.
    """
    span = calls.span
    prefix = calls.prefix
    # funcskeleton reads calls with a special rule when the function is named `cfg`
    # (scalpel's name for the module it builds): nested `def`/`class` statements count nothing.
    if named_cfg:
        spans = [[span[s] for s in block.statements if not isinstance(s, _DEF_OR_CLASS)] for block in blocks]
    else:
        spans = [[span[s] for s in block.statements] for block in blocks]
    dominates = None
    counts = []
    for b, block in enumerate(blocks):
        targets = successors[b]
        if b in targets:
            counts.append(0)
            continue
        total = 0
        for lo, hi in spans[b]:
            total += prefix[hi] - prefix[lo]
        if total and targets and type(block.statements[-1]) in _COMPOUND:
            if dominates is None:
                dominates = _dominance_test(blocks, successors)
            removed = _merge(sorted(sp for t in targets if not dominates(t, b) for sp in spans[t]))
            for lo, hi in spans[b]:
                total -= _overlap(lo, hi, removed, calls)
        counts.append(total)
    return counts


def _dominance_test(blocks, successors):
    """`dominates(a, b)`: does every path from the entry to block b pass through block a?"""
    # Only a loop makes a cycle, hence an edge back to a dominator: without one,
    # a successor never dominates its predecessor.
    if not any(block.statements and type(block.statements[-1]) in _LOOPS for block in blocks):
        return lambda a, b: a == b
    idom = _immediate_dominators(successors)
    # Number the dominator tree depth first: a dominates b iff b's interval lies in a's.
    children = [[] for _ in idom]
    for node in range(1, len(idom)):
        children[idom[node]].append(node)
    enter = [0] * len(idom)
    leave = [0] * len(idom)
    clock = 0
    stack = [(0, False)]
    while stack:
        node, done = stack.pop()
        clock += 1
        if done:
            leave[node] = clock
            continue
        enter[node] = clock
        stack.append((node, True))
        stack.extend((child, False) for child in children[node])
    return lambda a, b: enter[a] <= enter[b] and leave[b] <= leave[a]


def _merge(spans):
    merged = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return merged


def _overlap(lo: int, hi: int, merged, calls: TreeIndex) -> int:
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

"""Basic blocks of one function, built with python-scalpel 1.0b0's rules on the stdlib `ast`.

funcskeleton's `cfg` format is defined by the graph that scalpel's `CFGBuilder`
builds, quirks included, so this module reproduces that graph's *shape* (which
statements land in which block, the exits of every block and their order)
without depending on scalpel. Take

    def f(x):
        if x:
            g()
        return 1

The entry block holds the `If` statement and exits to a new block for the body
(`g()`) and to the block after the `if` (`return 1`); the body block falls
through to that same after-block. The rules, statement by statement:

- simple statements (`Expr`, `Assign`, `AugAssign`, `AnnAssign`, `Delete`,
  `Pass`, `Global`, `Nonlocal`, `Import`, `ImportFrom`, nested `def`/`class`)
  are appended to the current block. In the first six, a `yield` or an `await`
  that is not inside a call's arguments ends the block (see `_scan_expression`).
- `Return` and `Raise` end the block with no exit; what follows them in the same
  suite goes to a fresh, unreachable block.
- `If`: the block holding the `If` exits to the body, then to the `else` body
  (or, without one, to the block after the `if`).
- `For`/`While` (and `AsyncFor`): a loop-guard block holds the statement and
  exits to the body and to the block after the loop (`while True:` has no exit
  to after-the-loop); the body loops back to the guard. `else:` of a loop is
  not part of the graph.
- `Try`: the block holding the `Try` exits to the body, then to one block per
  handler; the body (then the `else` body) exits to the block after the `try`
  even when it ended with `break`/`continue`. `finally:` is not part of the graph.
- `With`/`AsyncWith`: the block holding the statement exits to the body.
- `Break`/`Continue` add an exit to after-the-loop / the loop guard, and are not
  statements of any block (what follows them stays in the same block).
- `Assert` exits to a "failed" block and a "passed" block, where the flow goes on.
- statements scalpel has no rule for (`Match`, `TryStar`, `TypeAlias`) fall back
  to its generic visit: they are not block statements; their nested statements
  (case bodies, `try` body, handlers, `else`, `finally`) are visited one after
  another in the current flow, and their expressions are scanned for
  `yield`/`await`. funcskeleton accepts such functions (the reference data has
  `match` statements), so this is kept for byte compatibility, crude as it is: a
  `return` ending one case makes what follows unreachable.

Finally empty blocks are removed, each predecessor's exit to an empty block being
replaced by that block's exits, appended at the end (scalpel's `clean_cfg`,
run as an explicit-stack depth-first walk so that long functions cannot hit the
recursion limit), and the reachable blocks are listed breadth-first from the
entry (scalpel's `get_all_blocks`).

Every walk here is iterative (explicit stacks), so no function that parses can
make it hit the recursion limit, however long its `elif` chains.
"""

import ast
from collections import deque

# Statements scalpel appends to the current block and then scans for yield/await.
_SCANNED_SIMPLE = (
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Delete,
    ast.Pass,
    ast.Global,
    ast.Nonlocal,
)
# Statements appended to the current block and not looked into.
_OPAQUE_SIMPLE = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor)
_WITHS = (ast.With, ast.AsyncWith)


class Block:
    __slots__ = ("statements", "exits", "predecessors")

    def __init__(self):
        self.statements = []
        self.exits = []  # Links, in the order they were added
        self.predecessors = []  # Links whose target is this block


class Link:
    """An edge. Compared by identity, as scalpel's links are (they define no `__eq__`)."""

    __slots__ = ("source", "target")

    def __init__(self, source, target):
        self.source = source
        self.target = target


def _add_exit(source: Block, target: Block) -> None:
    link = Link(source, target)
    source.exits.append(link)
    target.predecessors.append(link)


def _is_while_true(test: ast.expr) -> bool:
    # scalpel drops the loop's exit when the inverted test is the constant False;
    # its `invert` only folds constants equal to True/False (so `1` and `1.0` count).
    if type(test) is not ast.Constant:
        return False
    value = test.value
    try:
        return value in (True, False) and bool(value)
    except Exception:  # a constant whose comparison raises is not True/False
        return False


class _Builder:
    """Builds the blocks of a statement list without recursion.

    A compound statement's handler is a generator: it does the work before a
    nested body, yields that body (a list of statements), and resumes after it
    has been built. `run` keeps the pending handlers and statement iterators on
    one explicit stack, so an `elif` chain thousands long (each `elif` is an `If`
    nested in the previous one's `orelse`) is built without Python recursion.
    """

    def __init__(self, has_yield_or_await: bool = True):
        # Without any yield/await in the function, scanning expressions cannot
        # change the graph: skip it (most of the builder's cost otherwise).
        self.scan = has_yield_or_await
        self.current = Block()
        self.entry = self.current
        self.after_loop = []  # block after each enclosing loop (target of `break`)
        self.loop_guard = []  # guard of each enclosing loop (target of `continue`)

    def new_block(self) -> Block:
        return Block()

    def run(self, body) -> None:
        # Stack items: iterators over statements (they yield AST nodes) and
        # handler generators (they yield lists of statements to build first).
        stack = [iter(body)]
        while stack:
            item = next(stack[-1], None)
            if item is None:
                stack.pop()
            elif type(item) is list:
                stack.append(iter(item))
            else:
                handler = self.statement(item)
                if handler is not None:
                    stack.append(handler)

    def statement(self, node):
        """Build one statement; for one with nested statements, return the generator that does."""
        current = self.current
        if isinstance(node, _SCANNED_SIMPLE):
            current.statements.append(node)
            return _scan_expression(self, node) if self.scan else None
        if isinstance(node, ast.If):
            return self._if(node)
        if isinstance(node, (ast.Return, ast.Raise)):
            current.statements.append(node)
            self.current = self.new_block()
        elif isinstance(node, _OPAQUE_SIMPLE):
            current.statements.append(node)
        elif isinstance(node, _LOOPS):
            return self._for(node)
        elif isinstance(node, ast.While):
            return self._while(node)
        elif isinstance(node, ast.Try):
            return self._try(node)
        elif isinstance(node, _WITHS):
            return self._with(node)
        elif isinstance(node, ast.Break):
            _add_exit(current, self.after_loop[-1])
        elif isinstance(node, ast.Continue):
            _add_exit(current, self.loop_guard[-1])
        elif isinstance(node, ast.Assert):
            current.statements.append(node)
            _add_exit(current, self.new_block())  # the assertion fails: flow ends there
            passed = self.new_block()
            _add_exit(current, passed)
            self.current = passed
            return _scan_expression(self, node) if self.scan else None
        else:  # Match, TryStar, TypeAlias: scalpel's fallback (see the module docstring)
            return _scan_expression(self, node)
        return None

    def _if(self, node: ast.If):
        test_block = self.current
        test_block.statements.append(node)
        body_block = self.new_block()
        _add_exit(test_block, body_block)
        after = self.new_block()
        if node.orelse:
            else_block = self.new_block()
            _add_exit(test_block, else_block)
            self.current = else_block
            yield node.orelse
            if not self.current.exits:
                _add_exit(self.current, after)
        else:
            _add_exit(test_block, after)
        self.current = body_block
        yield node.body
        if not self.current.exits:
            _add_exit(self.current, after)
        self.current = after

    def _loop_guard(self) -> Block:
        current = self.current
        if not current.statements and not current.exits:
            return current
        guard = self.new_block()
        _add_exit(current, guard)
        return guard

    def _for(self, node):
        guard = self._loop_guard()
        guard.statements.append(node)
        body_block = self.new_block()
        _add_exit(guard, body_block)
        after = self.new_block()
        _add_exit(guard, after)
        return self._loop_body(node.body, guard, body_block, after)

    def _while(self, node: ast.While):
        guard = self._loop_guard()
        guard.statements.append(node)
        body_block = self.new_block()
        _add_exit(guard, body_block)
        after = self.new_block()
        if not _is_while_true(node.test):
            _add_exit(guard, after)
        return self._loop_body(node.body, guard, body_block, after)

    def _loop_body(self, body, guard: Block, body_block: Block, after: Block):
        self.loop_guard.append(guard)
        self.after_loop.append(after)
        self.current = body_block
        yield body
        if not self.current.exits:
            _add_exit(self.current, guard)
        self.current = after
        self.after_loop.pop()
        self.loop_guard.pop()

    def _try(self, node: ast.Try):
        try_stmt_block = self.current
        try_stmt_block.statements.append(node)
        body_block = self.new_block()
        _add_exit(try_stmt_block, body_block)
        handler_blocks = [self.new_block() for _ in node.handlers]
        after = self.new_block()
        self.current = body_block
        yield node.body
        if node.orelse:
            else_block = self.new_block()
            _add_exit(self.current, else_block)
            self.current = else_block
            yield node.orelse
        _add_exit(self.current, after)
        for handler, handler_block in zip(node.handlers, handler_blocks, strict=True):
            _add_exit(try_stmt_block, handler_block)
            self.current = handler_block
            if self.scan:
                yield from _scan_expression(self, handler)  # the exception type, then the handler body
            else:
                yield handler.body
            if not self.current.exits:
                _add_exit(self.current, after)
        self.current = after

    def _with(self, node):
        with_stmt_block = self.current
        with_stmt_block.statements.append(node)
        body_block = self.new_block()
        _add_exit(with_stmt_block, body_block)
        after = self.new_block()
        self.current = body_block
        yield node.body
        if not self.current.exits:
            _add_exit(self.current, after)
        self.current = after


# Marker pushed on the scan stack: "the await whose after-block this is has been scanned".
class _AwaitDone:
    __slots__ = ("after",)

    def __init__(self, after):
        self.after = after


def _scan_expression(builder: _Builder, node: ast.AST):
    """scalpel's generic visit of a statement's children, which only matters for control flow at

    - `yield x` (not `yield from`): the block ends, flow goes on in a new block;
    - `await x`: the current block gets an exit to a new after-block, `x` is
      scanned (still in the current block), then the flow goes on in the after-block;
    - a call: its arguments are not looked into (scalpel's `visit_Call` stops there);
    - a statement (inside `match`, `try ... except*`): yielded as `[stmt]` for the
      builder to build before the scan goes on.
    Pre-order, children in field order, with an explicit stack (expressions can nest deeply).
    """
    stack = [node]
    first = True
    while stack:
        item = stack.pop()
        if type(item) is _AwaitDone:
            builder.current = item.after
            continue
        if first:
            first = False
        elif isinstance(item, ast.stmt):
            yield [item]
            continue
        elif isinstance(item, ast.Call):
            continue
        elif isinstance(item, ast.Yield):
            after = builder.new_block()
            _add_exit(builder.current, after)
            builder.current = after
            continue
        elif isinstance(item, ast.Await):
            after = builder.new_block()
            _add_exit(builder.current, after)
            stack.append(_AwaitDone(after))
        children = list(ast.iter_child_nodes(item))
        children.reverse()
        stack.extend(children)


def _remove_empty_blocks(entry: Block) -> None:
    """scalpel's `clean_cfg`: depth-first from the entry, splice out every empty block.

    Kept step for step (a recursive walk turned into an explicit stack), because the
    order in which exits are re-appended decides the block numbering.
    """
    # Links from blocks the entry cannot reach (the code after a `return`) only ever
    # hand exits to other unreachable blocks, so dropping them first changes no
    # reachable block's exits; it keeps a long `elif` chain of returns linear
    # (scalpel's splicing multiplies those links quadratically).
    blocks = reachable_blocks(entry)
    reachable = {id(block) for block in blocks}
    for block in blocks:
        block.predecessors = [link for link in block.predecessors if id(link.source) in reachable]
    visited = set()
    # frames: [block, exits to visit (a snapshot), next index, block was empty]
    stack = []

    def enter(block):
        if id(block) in visited:
            return
        visited.add(id(block))
        empty = not block.statements
        if empty:
            _splice_out(block)
        stack.append([block, block.exits[:], 0, empty])

    enter(entry)
    while stack:
        frame = stack[-1]
        block, exits, i, empty = frame
        if i < len(exits):
            frame[2] = i + 1
            enter(exits[i].target)
        else:
            stack.pop()
            if empty:
                block.exits = []


def _splice_out(block: Block) -> None:
    # Snapshots: scalpel iterates the live lists, which never grow here for a
    # reachable empty block (every cycle passes through a non-empty loop guard).
    exits = block.exits[:]
    for pred in block.predecessors[:]:
        source = pred.source
        for link in exits:
            _add_exit(source, link.target)
            if link in link.target.predecessors:
                link.target.predecessors.remove(link)
        if pred in source.exits:
            source.exits.remove(pred)
    block.predecessors = []


def reachable_blocks(entry: Block) -> list[Block]:
    """Blocks breadth-first from the entry, exits in order (scalpel's `get_all_blocks`)."""
    order = [entry]
    seen = {id(entry)}
    queue = deque(order)
    while queue:
        for link in queue.popleft().exits:
            target = link.target
            if id(target) not in seen:
                seen.add(id(target))
                order.append(target)
                queue.append(target)
    return order


def build_blocks(
    function: ast.FunctionDef | ast.AsyncFunctionDef, has_yield_or_await: bool = True
) -> list[Block]:
    """The function body's basic blocks, in funcskeleton's numbering order (entry first)."""
    builder = _Builder(has_yield_or_await)
    builder.run(function.body)
    _remove_empty_blocks(builder.entry)
    return reachable_blocks(builder.entry)

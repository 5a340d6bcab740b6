"""One pre-order walk of a parsed source that serves both IRs.

The `ast` IR is the pre-order list of node class names; the `cfg` IR needs every
call numbered in pre-order, so that the calls under any statement are one range
of numbers. Doing both in a single walk, with each node's children read by one
`operator.attrgetter` call instead of `ast.iter_child_nodes`' two nested
generators, is what keeps AST+CFG within a small multiple of `ast.parse`
(benchmarks/ir_throughput.py).

The walk uses an explicit stack, so any tree `ast.parse` returns is walked,
however deep. Children come in `ast.iter_child_nodes` order (fields in `_fields`
order, list items in order), which is the seed's order for the `ast` IR.
"""

import ast
from operator import attrgetter

_COUNTED_CALLEES = (ast.Name, ast.Attribute)

# Per node class: (NAME for the ast IR, getter of its field values or None, kind).
_PLAIN, _CALL, _STMT, _YIELD_OR_AWAIT = 0, 1, 2, 3
_CLASS_INFO = {}

# Fields that the grammar (Parser/Python.asdl) types as identifier, string, int or
# constant: they never hold a node, so the walk does not read them.
_SCALAR_FIELDS = {
    "Name": ("id",),
    "Attribute": ("attr",),
    "Constant": ("value", "kind"),
    "arg": ("arg", "type_comment"),
    "keyword": ("arg",),
    "alias": ("name", "asname"),
    "FunctionDef": ("name", "type_comment"),
    "AsyncFunctionDef": ("name", "type_comment"),
    "ClassDef": ("name",),
    "ImportFrom": ("module", "level"),
    "Global": ("names",),
    "Nonlocal": ("names",),
    "ExceptHandler": ("name",),
    "Assign": ("type_comment",),
    "For": ("type_comment",),
    "AsyncFor": ("type_comment",),
    "With": ("type_comment",),
    "AsyncWith": ("type_comment",),
    "AnnAssign": ("simple",),
    "comprehension": ("is_async",),
    "FormattedValue": ("conversion",),
    "MatchSingleton": ("value",),
    "MatchStar": ("name",),
    "MatchAs": ("name",),
    "MatchMapping": ("rest",),
    "MatchClass": ("kwd_attrs",),
}
_CONTEXTS = {ast.Load: "LOAD", ast.Store: "STORE", ast.Del: "DEL"}


_SKIP = ("", None, _PLAIN)  # not a node: None of an optional field, a scalar of an unlisted field


def _class_info(cls):
    if not issubclass(cls, ast.AST):
        _CLASS_INFO[cls] = _SKIP
        return _SKIP
    fields = tuple(f for f in cls._fields if f not in _SCALAR_FIELDS.get(cls.__name__, ()))
    # The getter returns the field values as a tuple, lists of children included
    # as lists: the walk pushes them whole and expands them when popped.
    if not fields:
        getter = None
    elif len(fields) == 1:
        single = attrgetter(fields[0])
        getter = lambda node: (single(node),)  # noqa: E731  (attrgetter of one field returns the bare value)
    else:
        getter = attrgetter(*fields)
    if cls is ast.Call:
        kind = _CALL
    elif issubclass(cls, ast.stmt):
        kind = _STMT
    elif cls in (ast.Yield, ast.Await):
        kind = _YIELD_OR_AWAIT
    else:
        kind = _PLAIN
    info = (cls.__name__.upper(), getter, kind)
    _CLASS_INFO[cls] = info
    return info


class TreeIndex:
    """`names`: node class names in pre-order (the `ast` IR before joining).

    `span[stmt] = (lo, hi)`: the statement's subtree holds calls lo..hi-1 (pre-order numbers);
    `prefix[i]`: how many of calls 0..i-1 have a `Name`/`Attribute` callee;
    `has_yield_or_await`: whether any `yield` or `await` occurs (else the CFG builder
    can skip scanning expressions).
    """

    __slots__ = ("names", "span", "prefix", "has_yield_or_await")

    def __init__(self, tree: ast.AST):
        names = []
        span = {}
        prefix = [0]
        has_yield_or_await = False
        add_name = names.append
        stack = [tree]
        pop = stack.pop
        push = stack.append
        n_calls = 0
        counted = 0
        info_of = _CLASS_INFO.get
        while stack:
            node = pop()
            cls = type(node)
            if cls is list:  # a field's children, pushed whole: expand them in order
                stack += node[::-1]
                continue
            if cls is tuple:  # end of a statement's subtree: (stmt, first call number)
                span[node[0]] = (node[1], n_calls)
                continue
            if cls is ast.Name:  # the commonest node, and its only child is its context
                add_name("NAME")
                ctx = getattr(node, "ctx", None)  # a hand-built tree may lack it
                if ctx is not None:
                    add_name(_CONTEXTS.get(type(ctx)) or type(ctx).__name__.upper())
                continue
            info = info_of(cls) or _class_info(cls)
            if info is _SKIP:
                continue
            name, getter, kind = info
            add_name(name)
            if kind:
                if kind == _CALL:
                    n_calls += 1
                    if isinstance(node.func, _COUNTED_CALLEES):
                        counted += 1
                    prefix.append(counted)
                elif kind == _STMT:
                    push((node, n_calls))
                else:
                    has_yield_or_await = True
            if getter is not None:
                try:
                    stack += getter(node)[::-1]
                except AttributeError:  # a hand-built tree may lack optional fields
                    stack += list(ast.iter_child_nodes(node))[::-1]
        self.names = names
        self.span = span
        self.prefix = prefix
        self.has_yield_or_await = has_yield_or_await

    def count(self, lo: int, hi: int) -> int:
        return self.prefix[hi] - self.prefix[lo]

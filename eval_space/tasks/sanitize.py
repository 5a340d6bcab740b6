"""`--sanitize`: keep the entry function and what it needs; drop test code and an unfinished tail.

Modelled on EvalPlus's sanitizer (evalplus.sanitize): the program is cut back to its longest prefix that
parses (a completion stopped mid-statement), then, when the entry point is known, only the imports and the
top-level definitions the entry function reaches by name (helpers, classes, constants) are kept, in their
original order and text; asserts, prints, `if __name__ == "__main__":` blocks and other top-level calls go.
Off by default, so bigcode-compatible numbers stay the default; results record `sanitize: true|false`.
"""

import ast


def longest_parsing_prefix(code: str) -> str:
    lines = code.replace("\r\n", "\n").split("\n")
    for end in range(len(lines), 0, -1):
        prefix = "\n".join(lines[:end])
        try:
            ast.parse(prefix)
        except (SyntaxError, ValueError):
            continue
        return prefix
    return code


def sanitize(code: str, entry_point: str | None = None) -> str:
    code = _first_fenced_block(code, entry_point)
    code = longest_parsing_prefix(code)
    if not entry_point:
        return code
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    definitions = {}
    for node in tree.body:
        for name in _defined_by(node):
            definitions[name] = node
    if entry_point not in definitions:
        return code
    kept, stack = set(), [entry_point]
    while stack:
        name = stack.pop()
        if name in kept or name not in definitions:
            continue
        kept.add(name)
        stack.extend(n.id for n in ast.walk(definitions[name]) if isinstance(n, ast.Name))
    keep_nodes = {id(definitions[name]) for name in kept}
    parts = [
        ast.get_source_segment(code, node, padded=True) or ast.unparse(node)
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in keep_nodes
    ]
    return "\n".join(parts) + "\n"


def _defined_by(node) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _first_fenced_block(code: str, entry_point: str | None) -> str:
    """A chat-style answer in ``` fences: the first block that defines the entry point (or the first)."""
    if "```" not in code:
        return code
    blocks = code.split("```")[1::2]
    blocks = [
        b.split("\n", 1)[1] if "\n" in b and b.split("\n", 1)[0].strip().isalpha() else b for b in blocks
    ]
    for block in blocks:
        if entry_point and f"def {entry_point}" in block:
            return block
    return blocks[0] if blocks else code

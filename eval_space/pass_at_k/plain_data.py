"""Values that may cross from a candidate's process to the judge: plain data only, tagged JSON on the wire.

The candidate's process encodes each result with `encode`; the judge decodes it with `decode`, which
accepts exactly these types and nothing else:

    None, bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset (of these)

What the candidate sends is bytes it fully controls (it may replace `encode` itself): the safety is in
`decode`, which builds fresh built-in objects of exact types, so no code of the candidate's can run in the
judge (no `__eq__`, `__hash__`, `__repr__` of its classes: they never leave its process), and bounds the
nesting depth, the element count and the size. Wire format (one JSON value per result):

    null true false 3 2.5 NaN "text"       as JSON (floats always carry '.', 'e', NaN or Infinity)
    {"int": "ff"}                          an int too long for a JSON number (hex: no digit limit)
    {"tuple": [...]} {"set": [...]} {"frozenset": [...]}
    {"dict": [[key, value], ...]}          any plain keys, insertion order kept
    {"bytes": "hex"} {"complex": [re, im]}

This file imports only the standard library: the fork server loads it next to sandbox.py.
"""

import json

MAX_DEPTH = 100  # deeper results are rejected (legitimate answers are rarely deeper than ~10)
MAX_ITEMS = 2_000_000  # values in one result, containers included
MAX_BYTES = 64 << 20  # the encoded size of one result
SMALL_INT_DIGITS = 4000  # below Python's 4300-digit str<->int limit; longer ints travel as hex

_TAGS = ("int", "tuple", "set", "frozenset", "dict", "bytes", "complex")


class NotPlainData(ValueError):
    """A value that is not plain data (wrong type, a subclass, a cycle, too deep or too large)."""


def encode(value, normalize=None) -> str:
    """One line of JSON for `value`. normalize(value) -> plain value | None: a hook for the few
    standard-library containers that compare equal to plain data (OrderedDict, defaultdict, Counter,
    namedtuple); it runs in the candidate's process, so it is a convenience, never a safety measure."""
    budget = [MAX_ITEMS]
    on_path = set()

    def walk(v, depth):
        if depth > MAX_DEPTH:
            raise NotPlainData(f"nested deeper than {MAX_DEPTH}")
        budget[0] -= 1
        if budget[0] < 0:
            raise NotPlainData(f"more than {MAX_ITEMS} values")
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v if v.bit_length() < SMALL_INT_DIGITS * 3 else {"int": format(v, "x")}
        if t is float:
            return v
        if t is complex:
            return {"complex": [v.real, v.imag]}
        if t is bytes:
            return {"bytes": v.hex()}
        if t in (list, tuple, set, frozenset, dict):
            if id(v) in on_path:
                raise NotPlainData("a container that contains itself")
            on_path.add(id(v))
            try:
                if t is dict:
                    return {"dict": [[walk(k, depth + 1), walk(x, depth + 1)] for k, x in dict.items(v)]}
                items = [walk(x, depth + 1) for x in (list.__iter__(v) if t is list else iter(v))]
                return items if t is list else {t.__name__: items}
            finally:
                on_path.discard(id(v))
        if normalize is not None:
            plain = normalize(v)
            if plain is not None:
                return walk(plain, depth)
        raise NotPlainData(f"a {_type_name(v)} is not plain data")

    text = json.dumps(walk(value, 0), allow_nan=True, separators=(",", ":"))
    if len(text) > MAX_BYTES:
        raise NotPlainData(f"encoded result larger than {MAX_BYTES} bytes")
    return text


def decode(text):
    """The plain value `text` encodes; NotPlainData for anything else. Runs in the judge."""
    if not isinstance(text, str):
        raise NotPlainData("an encoded result must be text")
    if len(text) > MAX_BYTES:
        raise NotPlainData(f"encoded result larger than {MAX_BYTES} bytes")
    try:
        raw = json.loads(text)  # its C scanner raises RecursionError on deep nesting
    except (ValueError, RecursionError) as e:
        raise NotPlainData(f"not valid JSON ({str(e)[:80]})") from None
    budget = [MAX_ITEMS]

    def build(r, depth):
        if depth > MAX_DEPTH:
            raise NotPlainData(f"nested deeper than {MAX_DEPTH}")
        budget[0] -= 1
        if budget[0] < 0:
            raise NotPlainData(f"more than {MAX_ITEMS} values")
        t = type(r)
        if r is None or t in (bool, int, float, str):
            return r
        if t is list:
            return [build(x, depth + 1) for x in r]
        if t is not dict or len(r) != 1:
            raise NotPlainData("malformed tagged value")
        ((tag, body),) = r.items()
        if tag == "int" and type(body) is str and body and len(body) <= MAX_BYTES:
            try:
                return int(body, 16)
            except ValueError:
                raise NotPlainData("malformed int") from None
        if tag == "bytes" and type(body) is str:
            try:
                return bytes.fromhex(body)
            except ValueError:
                raise NotPlainData("malformed bytes") from None
        if tag == "complex" and type(body) is list and len(body) == 2:
            re_, im = body
            if type(re_) in (int, float) and type(im) in (int, float):
                return complex(float(re_), float(im))
            raise NotPlainData("malformed complex")
        if type(body) is not list:
            raise NotPlainData(f"malformed tagged value {str(tag)[:20]!r}")
        if tag == "tuple":
            return tuple(build(x, depth + 1) for x in body)
        if tag in ("set", "frozenset"):
            items = [build(x, depth + 1) for x in body]
            try:
                return set(items) if tag == "set" else frozenset(items)
            except TypeError:
                raise NotPlainData(f"unhashable member of a {tag}") from None
        if tag == "dict":
            out = {}
            for pair in body:
                if type(pair) is not list or len(pair) != 2:
                    raise NotPlainData("malformed dict item")
                key = build(pair[0], depth + 1)
                try:
                    out[key] = build(pair[1], depth + 1)
                except TypeError:
                    raise NotPlainData("unhashable dict key") from None
            return out
        raise NotPlainData(f"unknown tag {str(tag)[:20]!r}")

    return build(raw, 0)


def _type_name(v) -> str:
    t = type(v)
    try:
        return f"{t.__module__}.{t.__qualname__}"[:80]
    except Exception:  # a hostile metaclass
        return "object"

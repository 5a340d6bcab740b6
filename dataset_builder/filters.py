"""Row filters, chosen with `--filter`.

`seed` reproduces the selection of the codereps seed exactly. Its dataprep
scripts (CodeSearchNet and MBPP) kept a function when funcskeleton's
`SkeletonEncoder.function_sanity_check` accepted it and it had no `*`:

    function.count('def ') == 1 and function.count('class ') == 0 and '*' not in function

These are plain text tests (a `def ` inside a docstring counts), kept as text so
the selection matches the seed's row for row. A row is charged to the first
rule it fails, in the order below. `none` keeps every function that parses.
"""

from dataclasses import dataclass


def _def_count_is_not_one(src: str) -> bool:
    return src.count("def ") != 1


def _has_class(src: str) -> bool:
    return "class " in src


def _has_star(src: str) -> bool:
    return "*" in src


@dataclass(frozen=True)
class FilterRule:
    name: str
    description: str
    rejects: object  # Callable[[str], bool], module-level so workers can pickle it


SEED_RULES = (
    FilterRule(
        "def_count_not_one", "the text contains `def ` other than exactly once", _def_count_is_not_one
    ),
    FilterRule("has_class", "the text contains `class `", _has_class),
    FilterRule("has_star", "the text contains `*` (`*args`, `**kwargs`, but also `a * b`)", _has_star),
)

FILTERS = {"none": (), "seed": SEED_RULES}

FILTER_REASON_PREFIX = "filter:"


def first_failed_rule(filter_name: str, src: str) -> FilterRule | None:
    for rule in FILTERS[filter_name]:
        if rule.rejects(src):
            return rule
    return None


def filter_rule_descriptions(filter_name: str) -> dict:
    return {rule.name: rule.description for rule in FILTERS[filter_name]}

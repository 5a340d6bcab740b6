"""Pre-tokenization schemes taken from the IR grammars (DESIGN.md, "IR formats").

A pre-tokenizer cuts a string into pieces that BPE never merges across. The IRs
are flat strings over a tiny alphabet, so the cut points are the grammar's own
separators:

- `ast` = `MODULE_FUNCTIONDEF_ARGUMENTS_...` (node names joined by `_`):
  - `whole`: no cut; merges may span several nodes (the seed's choice);
  - `node`: cut after every `_`, so a token is at most one node name.
- `cfg` = `[P][SEP1][C_0]...[SEP2][R_0]...[SEP3][K_0]...`:
  - `whole`: no cut;
  - `sections`: `[SEP1]`/`[SEP2]`/`[SEP3]` isolated (the seed's choice), so a
    token stays within the parameter count, the controls, the successors or the calls;
  - `brackets`: every `[...]` group is its own piece.

Every scheme ends with a byte-level step (no regex, no prefix space), so the
alphabet is all 256 bytes and no input can produce an unknown token. Which
scheme compresses best is measured by `benchmarks/tokenizer_pretokenization.py`;
`DEFAULT_SCHEME` records the winner with its figures.
"""

from tokenizers import Regex, pre_tokenizers

from .errors import TokenizerBuildError

IR_FIELDS = ("ast", "cfg")

SCHEMES = {
    "ast": ("whole", "node"),
    "cfg": ("whole", "sections", "brackets"),
}

# Chosen by benchmarks/tokenizer_pretokenization.py (stdlib golden functions, held-out rows, vocab 500-5000):
# see the module docstring there for the measured table.
DEFAULT_SCHEME = {"ast": "whole", "cfg": "whole"}

_CFG_SEPARATOR = Regex(r"\[SEP[123]\]")
_CFG_GROUP = Regex(r"\[[^\[\]]*\]")


class UnknownSchemeError(TokenizerBuildError):
    pass


def byte_level() -> pre_tokenizers.ByteLevel:
    # use_regex=False: the GPT-2 regex would split at every `_`/`[`; the scheme decides cuts instead.
    return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)


def make_pre_tokenizer(field: str, scheme: str):
    """The `tokenizers` pre-tokenizer for `field` cut with `scheme`."""
    if field not in SCHEMES:
        raise UnknownSchemeError(
            f"no pre-tokenization schemes for field {field!r} (known: {', '.join(SCHEMES)})"
        )
    if scheme not in SCHEMES[field]:
        raise UnknownSchemeError(
            f"unknown pre-tokenization {scheme!r} for field {field!r} (choose from {', '.join(SCHEMES[field])})"
        )
    if scheme == "whole":
        return byte_level()
    if scheme == "node":
        cut = pre_tokenizers.Split("_", behavior="merged_with_previous")
    elif scheme == "sections":
        cut = pre_tokenizers.Split(_CFG_SEPARATOR, behavior="isolated")
    else:  # brackets
        cut = pre_tokenizers.Split(_CFG_GROUP, behavior="isolated")
    return pre_tokenizers.Sequence([cut, byte_level()])

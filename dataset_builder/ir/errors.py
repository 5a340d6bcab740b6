"""Typed errors of the IR serializers.

Batch callers store `error.reason` (a short stable slug) per row, so a build can
count skipped rows by reason; `str(error)` is the human sentence.
"""


class IRError(ValueError):
    """Base class: the source could not be turned into an IR."""

    reason = "ir_error"


class SourceSyntaxError(IRError):
    """The source does not parse with the running Python's `ast.parse`."""

    reason = "syntax_error"


class NoFunctionError(IRError):
    """The source parses but defines no function."""

    reason = "no_function"


class TooDeepError(IRError):
    """The source nests deeper than the parser or the serializer can follow."""

    reason = "too_deep"


class TooLargeError(IRError):
    """The source is larger than the configured limit."""

    reason = "too_large"

"""Errors a user makes on the command line (a bad path, a missing folder, a repo id that is invalid or
unreachable), turned into one line that names it and says what to do.

Commands raise them from deep inside datasets, transformers or huggingface_hub (transformers wraps the Hub's
errors in a bare OSError), so the whole chain of causes is searched. Anything else is a real error and keeps
its traceback.
"""

import re

PATH_HINT = "check the path, or give a '<namespace>/<name>' Hub repo id"
HUB_HINT = (
    "check the repo id and your network (HF_ENDPOINT, HF_TOKEN for a private repo), "
    "or give a local folder; HF_HUB_OFFLINE=1 reads only what is cached"
)


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _quoted_name(message: str) -> str | None:
    """The value huggingface_hub's validators quote at the end of their message: `...: '/nonexistent'.`"""
    found = re.search(r"'([^']+)'\.?\s*$", message)
    return found.group(1) if found else None


def _hub_message(exc: BaseException) -> str | None:
    try:
        from huggingface_hub import errors
    except ImportError:
        return None
    if isinstance(exc, errors.HFValidationError):
        name = _quoted_name(str(exc))
        what = f"{name!r} is" if name else "the name given is"
        return f"{what} neither an existing local path nor a valid Hub repo id: {PATH_HINT}"
    if isinstance(exc, errors.GatedRepoError):
        return f"Hub repo is gated: {_first_line(exc)}; accept its terms on the Hub and set HF_TOKEN"
    # LocalEntryNotFoundError is an EntryNotFoundError too: the unreachable Hub is told apart first.
    if isinstance(exc, (errors.LocalEntryNotFoundError, errors.OfflineModeIsEnabled)):
        return f"cannot reach the Hub and nothing is cached ({_first_line(exc)}); {HUB_HINT}"
    if isinstance(
        exc, (errors.RepositoryNotFoundError, errors.RevisionNotFoundError, errors.EntryNotFoundError)
    ):
        return f"not found on the Hub ({_first_line(exc)}); {HUB_HINT}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


PATH_REASONS = (
    (IsADirectoryError, "a folder, expected a file"),
    (NotADirectoryError, "not a folder"),
    (FileNotFoundError, "no such file or folder"),
)


def _path_message(exc: BaseException) -> str | None:
    for kind, reason in PATH_REASONS:
        if isinstance(exc, kind):
            if exc.filename is not None:  # the OS's own error: "[Errno 2] No such file or directory: 'x'"
                return f"{exc.filename}: {reason}; check the path"
            return f"{_first_line(exc)}; {PATH_HINT}"  # a library's own message (datasets names the path)
    return None


def user_error_message(exc: BaseException) -> str | None:
    """One line for a bad path or repo id in `exc` (or the causes of a library's OSError); None otherwise."""
    for link in _chain(exc):
        message = _hub_message(link)
        if message:
            return message
    # A missing path counts when it is the error itself or what a bare OSError wraps, never when some
    # other error (a bug's RuntimeError, say) happened while handling it.
    links = list(_chain(exc)) if type(exc) is OSError else [exc]
    for link in links:
        message = _path_message(link)
        if message:
            return message
    return None

"""The errors a user can cause (bad names, files, options): the CLI prints them in one line, no traceback."""


def user_errors() -> tuple[type[Exception], ...]:
    from codereps.prompts import PromptError
    from tokenizer_builder.errors import TokenizerBuildError
    from trainers.base_model import BaseModelError
    from trainers.data import DatasetConfigError
    from trainers.run import ResumeError
    from trainers.variant_c import TokenizerMismatchError

    return (
        PromptError,
        BaseModelError,
        DatasetConfigError,
        ResumeError,
        TokenizerMismatchError,
        TokenizerBuildError,
    )

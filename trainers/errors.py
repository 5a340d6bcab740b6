"""The errors a user can cause or fix (bad names, files, options, a full disk): the CLI prints them in one line."""


def user_errors() -> tuple[type[Exception], ...]:
    from codereps.prompts import PromptError
    from tokenizer_builder.errors import TokenizerBuildError
    from trainers.base_model import BaseModelError
    from trainers.data import DatasetConfigError
    from trainers.run import CheckpointWriteError, ResumeError
    from trainers.variant_c import TokenizerMismatchError
    from trainers.warmup import WarmupError

    return (
        PromptError,
        BaseModelError,
        DatasetConfigError,
        ResumeError,
        CheckpointWriteError,
        TokenizerMismatchError,
        TokenizerBuildError,
        WarmupError,
    )

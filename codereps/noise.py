"""Library messages that tell a codereps user nothing they can act on, silenced by exact text.

Each filter drops one known message and nothing else, so the libraries' real warnings and errors still show.
"""

import logging
import warnings


class _DropMessages(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]):
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


# logger name -> message prefixes to drop
LOG_NOISE = {
    # bitsandbytes on a CPU with AVX512-BF16, at import: an optional Hub kernel package is not installed;
    # 4-bit matmuls fall back to its own CPU code.
    "bitsandbytes.backends.cpu.ops": ("Failed to load CPU gemm_4bit_forward from kernels-community",),
}
# (category, message regex) of Python warnings to ignore
WARNING_NOISE = (
    # transformers 5 deprecates a name that PEFT/TRL call internally, on every save: nothing to change here.
    (FutureWarning, r"`is_gradient_checkpointing` is deprecated"),
)


def silence_library_noise() -> None:
    """Install the filters (idempotent); call before the libraries are imported."""
    for name, prefixes in LOG_NOISE.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropMessages) for f in logger.filters):
            logger.addFilter(_DropMessages(prefixes))
    for category, message in WARNING_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category)

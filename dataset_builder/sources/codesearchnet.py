"""CodeSearchNet Python, in its native JSON-lines format.

Input: one `.jsonl` / `.jsonl.gz` file or a folder of them (the upstream
`python_{train,valid,test}_N.jsonl.gz` files, or
`../shared/data/codesearchnet/python_sample.jsonl.gz`). Every upstream field is
kept; `src` is `code`; the split comes from `partition` (`valid` -> `validation`).
"""

from .base import Skip, Source, SourceRow
from .jsonl import expand_jsonl_inputs, jsonl_shards, read_jsonl_shard

PARTITION_TO_SPLIT = {"train": "train", "valid": "validation", "validation": "validation", "test": "test"}
TEXT_FIELDS = ("repo", "path", "func_name", "original_string", "language", "code")
TEXT_FIELDS_AFTER = ("docstring",)
TOKEN_FIELDS = ("code_tokens", "docstring_tokens")


class CodeSearchNetSource(Source):
    name = "codesearchnet"
    config = "codesearchnet"
    splits = ("train", "validation", "test")
    license = "other"
    license_note = (
        "CodeSearchNet functions come from permissively licensed GitHub repositories and keep the "
        "licence of their repository (see each row's `repo` and `url`)."
    )
    description = (
        "Python functions of CodeSearchNet (Husain et al. 2019) in their native fields, with the upstream "
        "split (`partition`)."
    )
    homepage = "https://github.com/github/CodeSearchNet"
    citation = (
        "@article{husain2019codesearchnet, title={CodeSearchNet Challenge: Evaluating the State of Semantic "
        "Code Search}, author={Husain, Hamel and Wu, Ho-Hsiang and Gazit, Tiferet and Allamanis, Miltiadis "
        "and Brockschmidt, Marc}, journal={arXiv preprint arXiv:1909.09436}, year={2019}}"
    )

    def __init__(self, input_path):
        self.files = [str(p) for p in expand_jsonl_inputs(input_path)]

    def metadata_features(self):
        from datasets import Features, List, Value

        columns = {name: Value("string") for name in TEXT_FIELDS}
        columns["code_tokens"] = List(Value("string"))
        columns["docstring"] = Value("string")
        columns["docstring_tokens"] = List(Value("string"))
        columns.update({"sha": Value("string"), "url": Value("string"), "partition": Value("string")})
        return Features(columns)

    def shards(self, num_proc, part=(0, 1)):
        return jsonl_shards(self.files, num_proc, part)

    def read_shard(self, shard):
        for item in read_jsonl_shard(shard):
            if isinstance(item, Skip):
                yield item
                continue
            order, line_no, obj = item
            split = PARTITION_TO_SPLIT.get(obj.get("partition"))
            if split is None:
                where = f"{shard[0].rsplit('/', 1)[-1]}:{line_no}"
                yield Skip(order, "unknown_partition", f"{where}: partition {obj.get('partition')!r}")
                continue
            if "code" not in obj:
                yield Skip(
                    order, "missing_field", f"{shard[0].rsplit('/', 1)[-1]}:{line_no}: no field 'code'"
                )
                continue
            yield SourceRow(order, split, obj["code"], obj, func_name=obj.get("func_name"))

    def input_description(self):
        return ", ".join(self.files)

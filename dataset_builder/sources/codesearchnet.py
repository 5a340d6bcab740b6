"""CodeSearchNet Python, in its native JSON-lines format, from local files or the Hub.

Input: one `.jsonl` / `.jsonl.gz` file or a folder of them (the upstream
`python_{train,valid,test}_N.jsonl.gz` files, or
`../shared/data/codesearchnet/python_sample.jsonl.gz`), or `hf:<repo>[:<config>]`
(default `hf:code-search-net/code_search_net:python`). Every upstream field is
kept under its native name; `src` is `code`; the split comes from `partition`
(`valid` -> `validation`). The Hub copy names the same fields differently
(`repository_name`, `func_code_string`, `split_name`, ...; see `HUB_TO_NATIVE`):
they are renamed back, and `sha` is read off the row's URL.
"""

import re

from .base import Skip, Source, SourceRow
from .hub import HUB_PREFIX, hub_shards, parse_hub_input, read_hub_shard
from .jsonl import expand_jsonl_inputs, jsonl_shards, read_jsonl_shard

HUB_REPO = "code-search-net/code_search_net"
HUB_CONFIG = "python"
# The Hub dataset's field -> the native JSON-lines field (its builder renamed them one to one).
HUB_TO_NATIVE = {
    "repository_name": "repo",
    "func_path_in_repository": "path",
    "func_name": "func_name",
    "whole_func_string": "original_string",
    "language": "language",
    "func_code_string": "code",
    "func_code_tokens": "code_tokens",
    "func_documentation_string": "docstring",
    "func_documentation_tokens": "docstring_tokens",
    "split_name": "partition",
    "func_code_url": "url",
}
_SHA_IN_URL = re.compile(r"/blob/([0-9a-f]{40})/")

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

    def shards(self, n):
        return jsonl_shards(self.files, n)

    def read_shard(self, shard):
        for item in read_jsonl_shard(shard):
            if isinstance(item, Skip):
                yield item
                continue
            order, where, obj = item
            yield native_row(order, where, obj)

    def input_description(self):
        return ", ".join(self.files)


def native_row(order, where: str, obj: dict):
    """A `SourceRow` from a row in the native fields, or the `Skip` that says why not."""
    split = PARTITION_TO_SPLIT.get(obj.get("partition"))
    if split is None:
        return Skip(order, "unknown_partition", f"{where}: partition {obj.get('partition')!r}")
    if "code" not in obj:
        return Skip(order, "missing_field", f"{where}: no field 'code'")
    return SourceRow(order, split, obj["code"], obj, func_name=obj.get("func_name"))


def hub_row_to_native(row: dict) -> dict:
    """A row of the Hub copy in the native field names (rows already in native names pass through)."""
    if "code" in row or "func_code_string" not in row:
        return dict(row)
    native = {HUB_TO_NATIVE.get(name, name): value for name, value in row.items()}
    if "sha" not in native:
        match = _SHA_IN_URL.search(native.get("url") or "")
        native["sha"] = match.group(1) if match else None
    return native


class HubCodeSearchNetSource(CodeSearchNetSource):
    """CodeSearchNet from a Hub dataset repo (default `code-search-net/code_search_net`, config `python`)."""

    def __init__(self, input_spec: str = f"{HUB_PREFIX}{HUB_REPO}:{HUB_CONFIG}"):
        self.repo_id, self.hub_config = parse_hub_input(input_spec, HUB_CONFIG)

    def shards(self, n):
        from datasets import load_dataset_builder

        # The splits the repo's card declares (the sample copy has no train split). Read from its
        # `data_files` rather than `get_dataset_split_names`, which failed on a first call through olah.
        try:
            upstream = list(load_dataset_builder(self.repo_id, self.hub_config).config.data_files)
        except Exception:  # noqa: BLE001 - unreachable repo: each split's read reports the failure as a skip
            upstream = ["train", "validation", "test"]
        return hub_shards(self.repo_id, self.hub_config, list(upstream), n)

    def read_shard(self, shard):
        for item in read_hub_shard(shard):
            if isinstance(item, Skip):
                yield item
                continue
            order, where, row = item
            yield native_row(order, where, hub_row_to_native(row))

    def input_description(self):
        return f"{HUB_PREFIX}{self.repo_id}:{self.hub_config}"


def codesearchnet_source(input_path=None):
    """`hf:<repo>[:config]` or nothing (the Hub copy), else local `.jsonl[.gz]` files."""
    if input_path is None or str(input_path).startswith(HUB_PREFIX):
        return HubCodeSearchNetSource(
            str(input_path) if input_path else f"{HUB_PREFIX}{HUB_REPO}:{HUB_CONFIG}"
        )
    return CodeSearchNetSource(input_path)

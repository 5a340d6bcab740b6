"""MBPP (Austin et al. 2021): the full set (`mbpp.jsonl`) or the sanitized one (`sanitized-mbpp.json`).

All upstream fields are kept; `src` is the reference solution `code`. Splits are
upstream's, by task_id: prompt 1-10, test 11-510, validation 511-600, train
601-974 (the sanitized file uses the same ranges).
"""

import json
from pathlib import Path

from .base import Skip, Source, SourceRow, order_key, share
from .hub import HUB_PREFIX, hub_shards, parse_hub_input, read_hub_shard
from .jsonl import check_input_files, jsonl_shards, read_jsonl_shard

HUB_REPO = "google-research-datasets/mbpp"
SPLIT_RANGES = (("prompt", 1, 10), ("test", 11, 510), ("validation", 511, 600), ("train", 601, 974))

CITATION = (
    "@article{austin2021program, title={Program Synthesis with Large Language Models}, author={Austin, Jacob "
    "and Odena, Augustus and Nye, Maxwell and Bosma, Maarten and Michalewski, Henryk and Dohan, David and "
    "Jiang, Ellen and Cai, Carrie and Terry, Michael and Le, Quoc and Sutton, Charles}, journal={arXiv "
    "preprint arXiv:2108.07732}, year={2021}}"
)


def split_of_task(task_id) -> str | None:
    if not isinstance(task_id, int) or isinstance(task_id, bool):
        return None
    for split, low, high in SPLIT_RANGES:
        if low <= task_id <= high:
            return split
    return None


class MBPPSource(Source):
    """The full MBPP set from its JSON-lines file."""

    name = "mbpp"
    config = "mbpp"
    splits = ("train", "validation", "test", "prompt")
    license = "cc-by-4.0"
    license_note = "MBPP is released by Google Research under CC-BY-4.0."
    description = (
        "MBPP (Mostly Basic Python Problems, Austin et al. 2021): 974 crowd-sourced problems with a reference "
        "solution and three asserts each; every upstream field is kept and the reference solution's IRs added."
    )
    homepage = "https://github.com/google-research/google-research/tree/master/mbpp"
    citation = CITATION
    keep_ir_failures = True

    def __init__(self, input_path):
        self.path = str(check_input_files([input_path], "MBPP")[0])

    def metadata_features(self):
        from datasets import Features, List, Value

        return Features(
            {
                "task_id": Value("int32"),
                "text": Value("string"),
                "code": Value("string"),
                "test_list": List(Value("string")),
                "test_setup_code": Value("string"),
                "challenge_test_list": List(Value("string")),
            }
        )

    def shards(self, n):
        return jsonl_shards([self.path], n)

    def read_shard(self, shard):
        for item in read_jsonl_shard(shard):
            if isinstance(item, Skip):
                yield item
            else:
                order, where, obj = item
                yield self._row(order, where, obj)

    def _row(self, order, where, obj):
        split = split_of_task(obj.get("task_id"))
        if split is None:
            return Skip(order, "bad_task_id", f"{where}: task_id {obj.get('task_id')!r} is outside 1-974")
        if "code" not in obj:
            return Skip(order, "missing_field", f"{where}: no field 'code'")
        return SourceRow(order, split, obj["code"], obj)

    def input_description(self):
        return self.path


class SanitizedMBPPSource(MBPPSource):
    """The 427 hand-verified problems of `sanitized-mbpp.json` (one JSON array)."""

    config = "mbpp-sanitized"
    description = (
        "The sanitized MBPP subset (427 hand-verified problems, Austin et al. 2021), upstream fields kept, "
        "with the reference solution's IRs."
    )

    def metadata_features(self):
        from datasets import Features, List, Value

        return Features(
            {
                "source_file": Value("string"),
                "task_id": Value("int32"),
                "prompt": Value("string"),
                "code": Value("string"),
                "test_imports": List(Value("string")),
                "test_list": List(Value("string")),
            }
        )

    def shards(self, n):
        n = max(1, n)
        return [(k, n) for k in range(n)]

    def read_shard(self, shard):
        k, n = shard
        name = Path(self.path).name
        try:
            with open(self.path, "rb") as f:
                problems = json.loads(f.read())
        except (OSError, ValueError) as e:
            if k == 0:
                yield Skip(0, "invalid_json", f"{name}: {e}")
            return
        if not isinstance(problems, list):
            if k == 0:
                yield Skip(0, "not_an_object", f"{name}: expected a JSON array of problems")
            return
        for i in share(len(problems), k, n):
            obj = problems[i]
            order = order_key(0, i + 1)
            if not isinstance(obj, dict):
                yield Skip(order, "not_an_object", f"{name}[{i}]: a JSON {type(obj).__name__}")
            else:
                yield self._row(order, f"{name}[{i}]", obj)


class HubMBPPSource(MBPPSource):
    """MBPP streamed from the Hub (`google-research-datasets/mbpp`, config `full` or `sanitized`)."""

    UPSTREAM_SPLITS = ("train", "validation", "test", "prompt")

    def __init__(self, input_spec: str = HUB_PREFIX + HUB_REPO):
        self.repo_id, self.hub_config = parse_hub_input(input_spec, "full")
        if self.hub_config == "sanitized":
            self.config = SanitizedMBPPSource.config
            self.description = SanitizedMBPPSource.description
        elif self.hub_config != "full":
            raise ValueError(f"MBPP on the Hub has configs full and sanitized, not {self.hub_config!r}")

    def metadata_features(self):
        if self.hub_config == "sanitized":
            return SanitizedMBPPSource.metadata_features(self)
        return MBPPSource.metadata_features(self)

    def shards(self, n):
        return hub_shards(self.repo_id, self.hub_config, list(self.UPSTREAM_SPLITS), n)

    def read_shard(self, shard):
        for item in read_hub_shard(shard):
            yield item if isinstance(item, Skip) else self._row(*item)

    def input_description(self):
        return f"{HUB_PREFIX}{self.repo_id}:{self.hub_config}"


def mbpp_source(input_path=None):
    """`hf:<repo>[:config]` or nothing (the Hub), `sanitized-mbpp.json` (a JSON array), or `mbpp.jsonl`."""
    if input_path is None or str(input_path).startswith(HUB_PREFIX):
        return HubMBPPSource(str(input_path) if input_path else HUB_PREFIX + HUB_REPO)
    if str(input_path).endswith(".json"):
        return SanitizedMBPPSource(input_path)
    return MBPPSource(input_path)

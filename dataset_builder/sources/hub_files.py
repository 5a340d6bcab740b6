"""Source files of one language from a Hub dataset of code files in Parquet (The Stack, github-code-clean).

    --source hub-files --input hf:bigcode/the-stack-dedup:data/python
    --source hub-files --input hf:codeparrot/github-code-clean --language Python

`hf:<repo>[:<folder>]`: the repo's `.parquet` files (under `<folder>` when
given), in name order; task k of n reads the k-th contiguous share of them.
Each file is fetched with `hf_hub_download` (the Hub cache; not HTTP range
reads, which the olah mirror of the tests does not serve) and read one record
batch at a time, only the columns used. The columns are found by name:
content `content` or `code`, language `lang` or `language`, path `path` or
`max_stars_repo_path`, repository `repo_name` or `max_stars_repo_name`. A row
of another language is counted as `other_language`; a Python file is then read
like a file of a local folder (every function, NUL bytes and syntax errors
counted), split by a hash of `<repo>/<path>`. The config is named after the
repo (`github-code-clean`, `the-stack-dedup`).
"""

from .base import Skip, Source, share
from .hub import HUB_PREFIX
from .local import python_file_rows

CONTENT_COLUMNS = ("content", "code")
LANGUAGE_COLUMNS = ("lang", "language")
PATH_COLUMNS = ("path", "max_stars_repo_path")
REPO_COLUMNS = ("repo_name", "max_stars_repo_name")
BATCH_ROWS = 1_000
# order = ((file << ROW_BITS) | row) << 32 | function: row numbers within a Parquet file stay below 2**ROW_BITS.
ROW_BITS = 22


def parse_files_input(text: str) -> tuple:
    spec = text[len(HUB_PREFIX) :] if text.startswith(HUB_PREFIX) else text
    repo_id, _, folder = spec.partition(":")
    if repo_id.count("/") != 1:
        raise ValueError(f"--source hub-files needs --input hf:<org>/<name>[:<folder>], got {text!r}")
    return repo_id, folder.strip("/")


class HubFilesSource(Source):
    name = "hub-files"
    splits = ("train", "validation", "test")
    license = "other"
    license_note = (
        "Each file keeps the licence of its repository (see the upstream dataset's licence columns)."
    )

    def __init__(self, input_spec: str, language: str = "Python"):
        self.repo_id, self.folder = parse_files_input(input_spec)
        self.language = language
        self.config = self.repo_id.split("/")[1].lower()
        self.description = (
            f"Every {language} function of the files of `{self.repo_id}`"
            + (f" (`{self.folder}/`)" if self.folder else "")
            + ", with repository, path and qualified name."
        )
        self.homepage = f"https://huggingface.co/datasets/{self.repo_id}"

    def metadata_features(self):
        from datasets import Features, Value

        return Features(
            {
                "repo_name": Value("string"),
                "path": Value("string"),
                "language": Value("string"),
                "qualname": Value("string"),
                "lineno": Value("int32"),
            }
        )

    def parquet_files(self) -> list:
        from huggingface_hub import HfApi

        prefix = f"{self.folder}/" if self.folder else ""
        files = HfApi().list_repo_files(self.repo_id, repo_type="dataset")
        return sorted(f for f in files if f.endswith(".parquet") and f.startswith(prefix))

    def shards(self, n):
        n = max(1, n)
        return [(k, n) for k in range(n)]

    def read_shard(self, shard):
        k, n = shard
        try:
            files = self.parquet_files()
        except Exception as e:  # noqa: BLE001 - an unreachable repo is one counted skip, reported by task 0
            if k == 0:
                yield Skip(
                    0, "hub_read_error", f"{self.repo_id}: cannot list its files: {type(e).__name__}: {e}"
                )
            return
        for file_index in share(len(files), k, n):
            yield from self._read_file(file_index, files[file_index])

    def _read_file(self, file_index: int, filename: str):
        import pyarrow.parquet as pq
        from huggingface_hub import hf_hub_download

        row = -1
        try:
            parquet = pq.ParquetFile(hf_hub_download(self.repo_id, filename, repo_type="dataset"))
            names = parquet.schema_arrow.names
            columns = {
                role: next((c for c in candidates if c in names), None)
                for role, candidates in (
                    ("content", CONTENT_COLUMNS),
                    ("language", LANGUAGE_COLUMNS),
                    ("path", PATH_COLUMNS),
                    ("repo", REPO_COLUMNS),
                )
            }
            if columns["content"] is None:
                yield Skip(
                    file_index << 32, "missing_field", f"{filename}: no column {' or '.join(CONTENT_COLUMNS)}"
                )
                return
            wanted = [c for c in columns.values() if c is not None]
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=wanted):
                values = {role: batch.column(c).to_pylist() if c else None for role, c in columns.items()}
                for i in range(batch.num_rows):
                    row += 1
                    yield from self._file_rows(
                        file_index, filename, row, {r: v and v[i] for r, v in values.items()}
                    )
        except Exception as e:  # noqa: BLE001 - a file that cannot be fetched or read: counted, the rest goes on
            yield Skip(
                ((file_index << ROW_BITS) | (row + 1)) << 32,
                "hub_read_error",
                f"{self.repo_id}/{filename} after row {row + 1}: {type(e).__name__}: {e}",
            )

    def _file_rows(self, file_index: int, filename: str, row: int, values: dict):
        index = (file_index << ROW_BITS) | row
        path, repo = values["path"] or f"{filename}[{row}]", values["repo"] or ""
        where = f"{repo}/{path}" if repo else path
        language = values["language"]
        if language is not None and str(language).lower() != self.language.lower():
            yield Skip(index << 32, "other_language", f"{where}: {language}")
            return
        text = values["content"]
        if not isinstance(text, str):
            yield Skip(index << 32, "bad_source_type", f"{where}: content is a {type(text).__name__}")
            return
        if "\x00" in text:
            yield Skip(index << 32, "nul_bytes", f"{where}: file contains a NUL byte")
            return
        meta = {"repo_name": repo or None, "path": path, "language": language}
        yield from python_file_rows(index, where, text, meta, split_key=where)

    def input_description(self):
        return (
            f"{HUB_PREFIX}{self.repo_id}" + (f":{self.folder}" if self.folder else "") + f" ({self.language})"
        )

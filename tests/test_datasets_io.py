"""The file-keyed cache: same-named or rebuilt dataset folders load their own rows."""

import pyarrow as pa
import pyarrow.parquet as pq

from codereps.datasets_io import load_dataset_config

README = """---
configs:
- config_name: mbpp
  data_files:
  - split: train
    path: data/mbpp/train-00000-of-00001.parquet
---
"""


def write_folder(folder, values):
    (folder / "data" / "mbpp").mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(README)
    pq.write_table(pa.table({"src": values}), folder / "data" / "mbpp" / "train-00000-of-00001.parquet")
    return folder


def test_two_folders_with_the_same_name_load_their_own_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEREPS_CACHE", str(tmp_path / "cache"))
    first = write_folder(tmp_path / "run1" / "dataset", ["a", "b"])
    second = write_folder(tmp_path / "run2" / "dataset", ["c", "d"])
    assert load_dataset_config(first, "mbpp", split="train")["src"] == ["a", "b"]
    assert load_dataset_config(second, "mbpp", split="train")["src"] == ["c", "d"]


def test_a_folder_rebuilt_in_place_loads_the_new_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEREPS_CACHE", str(tmp_path / "cache"))
    folder = write_folder(tmp_path / "dataset", ["old1", "old2"])
    assert load_dataset_config(folder, "mbpp", split="train")["src"] == ["old1", "old2"]
    write_folder(folder, ["new1", "new2"])
    assert load_dataset_config(folder, "mbpp", split="train")["src"] == ["new1", "new2"]

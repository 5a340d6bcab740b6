"""The built folder, published into a local hub and served by olah, loads by repo id like the real Hub."""

import json

import pytest
from dataset_fixtures import build_mbpp_folder
from olah_fixtures import run_against_hub, serve_local_hub

from codereps.hub import publish_to_local_hub
from codereps.paths import DEFAULT_NAMESPACE


@pytest.mark.hub
@pytest.mark.slow
def test_mbpp_config_loads_by_name_through_olah(tmp_path, shared_data):
    folder = build_mbpp_folder(tmp_path / "build", shared_data)
    hub = tmp_path / "hub"
    repo_id = f"{DEFAULT_NAMESPACE}/codereps"
    assert publish_to_local_hub(folder, hub, "dataset", repo_id)
    (tmp_path / "client").mkdir()
    with serve_local_hub(hub) as endpoint:
        out = run_against_hub(
            endpoint,
            f"""
            import json
            from datasets import load_dataset

            ds = load_dataset("{repo_id}", "mbpp")
            print(json.dumps({{
                "splits": {{name: split.num_rows for name, split in ds.items()}},
                "all_irs": all(all(split["ast"]) and all(split["cfg"]) for split in ds.values()),
                "first_test_task": ds["test"][0]["task_id"],
            }}))
            """,
            tmp_path / "client",
        )
    assert json.loads(out.strip().splitlines()[-1]) == {
        "splits": {"train": 374, "validation": 90, "test": 500, "prompt": 10},
        "all_irs": True,
        "first_test_task": 11,
    }

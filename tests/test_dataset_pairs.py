"""Pair configs (the seed's construction) on the CodeSearchNet sample: balance, no self/identical swaps, determinism."""

import random
from collections import Counter

import pytest
from dataset_fixtures import build, build_codesearchnet_pairs_folder, load_report, read_config

from dataset_builder.pairs import PAIR_MEMBERS, choose_swaps


@pytest.fixture(scope="module")
def codesearchnet_pairs_folder(tmp_path_factory, shared_data):
    return build_codesearchnet_pairs_folder(tmp_path_factory.mktemp("csn"), shared_data)


PAIR_CONFIGS = list(PAIR_MEMBERS)


@pytest.mark.parametrize("pair_config", PAIR_CONFIGS)
def test_pairs_are_balanced_and_never_related_when_swapped(codesearchnet_pairs_folder, pair_config):
    a, b = PAIR_MEMBERS[pair_config]
    source = read_config(codesearchnet_pairs_folder, "codesearchnet")
    pairs = read_config(codesearchnet_pairs_folder, pair_config)
    assert set(pairs) == set(source) == {"validation", "test"}  # the sample has no train rows
    for split, table in pairs.items():
        rows = table.to_pylist()
        source_rows = source[split].to_pylist()
        assert len(rows) == len(source_rows)
        related = {(r[a], r[b]) for r in source_rows}
        share = sum(r["label"] for r in rows) / len(rows)
        assert 0.45 <= share <= 0.55, (split, share)
        swapped = []
        for row, original in zip(rows, source_rows, strict=True):
            assert row[a] == original[a] and row[f"{b}_correct"] == original[b]
            assert row["func_name"] == original["func_name"]
            if row["label"] == 0:
                assert row[b] == original[b]
            else:
                assert row[b] != original[b], "paired with itself or an identical value"
                assert (row[a], row[b]) not in related, "a 'swapped' pair that is some row's related pair"
                swapped.append(row)
        # swaps are exchanges: the swapped rows' values are exactly the values they gave away, once each
        assert Counter(r[b] for r in swapped) == Counter(r[f"{b}_correct"] for r in swapped)


def test_same_seed_same_pairs_other_seed_other_pairs(codesearchnet_pairs_folder, tmp_path):
    again = tmp_path / "again"
    assert build(
        "build", "--source", "codesearchnet", "--input", load_report(codesearchnet_pairs_folder, "codesearchnet")["input"],
        "--output", again, "--workers", 1, "--tasks", 2, "--seed", 0, "--configs", "codesearchnet", "pairs-src-cfg",
    ) == 0  # fmt: skip
    first = read_config(codesearchnet_pairs_folder, "pairs-src-cfg")
    second = read_config(again, "pairs-src-cfg")
    assert all(first[s].equals(second[s]) for s in first), (
        "same seed (and 1 vs 2 processes) must give identical pairs"
    )
    assert read_config(again, "codesearchnet")["test"].equals(
        read_config(codesearchnet_pairs_folder, "codesearchnet")["test"]
    )

    assert (
        build(
            "pairs", "--output", again, "--from", "codesearchnet", "--configs", "pairs-src-cfg", "--seed", 1
        )
        == 1
    )
    assert (
        build(
            "pairs",
            "--output",
            again,
            "--from",
            "codesearchnet",
            "--configs",
            "pairs-src-cfg",
            "--seed",
            1,
            "--overwrite",
        )
        == 0
    )
    reseeded = read_config(again, "pairs-src-cfg")
    assert any(first[s].column("label") != reseeded[s].column("label") for s in first)
    assert load_report(again, "pairs-src-cfg")["seed"] == 1


def test_card_lists_pair_configs_with_their_balance(codesearchnet_pairs_folder):
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(codesearchnet_pairs_folder / "README.md")
    assert [c["config_name"] for c in card.data.configs] == ["codesearchnet", *sorted(PAIR_CONFIGS)]
    assert "text-classification" in card.data.task_categories
    pair_info = next(i for i in card.data.dataset_info if i["config_name"] == "pairs-src-ast")
    assert pair_info["features"][2] == {
        "name": "label",
        "dtype": {"class_label": {"names": {"0": "related", "1": "swapped"}}},
    }
    assert "Built from config `codesearchnet` with seed 0" in card.text


def test_choose_swaps_avoids_duplicates_even_when_most_values_repeat():
    rng = random.Random(0)
    n = 400
    # 60% of rows share one `b` value (like tiny functions sharing a CFG), the rest are unique
    b_values = ["[0][SEP1][Return][SEP2][][SEP3][0]" if i % 5 < 3 else f"cfg{i}" for i in range(n)]
    a_values = [f"src{i}" for i in range(n)]
    partner = choose_swaps(a_values, b_values, rng)
    swapped = [i for i, p in enumerate(partner) if p >= 0]
    assert all(partner[partner[i]] == i and partner[i] != i for i in swapped)
    assert all(b_values[i] != b_values[partner[i]] for i in swapped)
    # only 160 unique values can be given away, so at most 2 * 160 rows can swap; it still reaches half
    assert len(swapped) == n // 2
    assert partner == choose_swaps(a_values, b_values, random.Random(0))


def test_choose_swaps_with_no_possible_partner_swaps_nothing():
    partner = choose_swaps(["x", "y", "z", "w"], ["same"] * 4, random.Random(0))
    assert partner == [-1] * 4

"""Every command ends a bad path, a missing folder or an unreachable repo id with one line and exit status 2.

The commands run in-process through `codereps.cli.main` (the entry point of the `codereps` script), so the
heavy imports are paid once; the Hub is made unreachable with huggingface_hub's own offline switch.
"""

import logging
import warnings
from pathlib import Path

import pytest

from codereps.cli import USER_ERROR_STATUS, main
from codereps.noise import silence_library_noise
from codereps.user_errors import user_error_message

REPO_ROOT = Path(__file__).resolve().parent.parent
MISSING = "/nonexistent"
UNREACHABLE = "codereps-nobody/no-such-repo"

CASES = {
    "evaluate-bad-path": (
        ["evaluate", "--model", MISSING, "--task", "mbpp", "--allow-code-execution"],
        "'/nonexistent' is neither an existing local path nor a valid Hub repo id",
    ),
    "evaluate-unreachable-repo": (
        ["evaluate", "--model", UNREACHABLE, "--task", "mbpp", "--allow-code-execution"],
        "cannot reach the Hub",
    ),
    "train-missing-config": (
        ["train", "--config", f"{MISSING}.yaml", "--variant", "A"],
        "/nonexistent.yaml: no such file or folder",
    ),
    "train-no-model": (
        ["train", "--config", "configs/smoke.yaml", "--variant", "A", "--output_dir", f"{MISSING}/out"],
        "no base model given: pass --model_name_or_path",
    ),
    "tokenizer-missing-dataset": (
        ["tokenizer", "train", "--dataset", MISSING, "--config", "mbpp", "--field", "ast", "--output", "{tmp}"],
        "/nonexistent",
    ),
    "dataset-missing-input": (
        ["dataset", "build", "--source", "mbpp", "--input", f"{MISSING}.jsonl", "--output", "{tmp}"],
        "/nonexistent.jsonl",
    ),
    "classify-missing-dataset": (
        ["classify", "train", "--arch", "dual-encoder", "--pair", "src-ast", "--dataset", MISSING, "--output", "{tmp}"],
        "Couldn't find any data file at /nonexistent",
    ),
    "publish-missing-run": (["publish", "--from", MISSING, "--dry-run"], "run folder /nonexistent does not exist"),
    "leaderboard-missing-folder": (["leaderboard", "--results", MISSING], "'/nonexistent' is not a folder"),
    "leaderboard-unreachable-repo": (["leaderboard", "--results", UNREACHABLE], "cannot reach the Hub"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_bad_path_or_repo_is_one_line_and_status_2(case, tmp_path, monkeypatch, capsys):
    import huggingface_hub.constants

    argv, expected = CASES[case]
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # what HF_HUB_OFFLINE=1 sets
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "0")  # restored afterwards, whatever the command sets
    monkeypatch.chdir(REPO_ROOT)  # configs/ is relative to the repository root
    status = main([a.replace("{tmp}", str(tmp_path / "out")) for a in argv])
    out, err = capsys.readouterr()
    assert status == USER_ERROR_STATUS, (out, err)
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert expected in lines[-1], err
    assert [line for line in lines if expected in line] == lines[-1:], err  # said once, not a list


def test_other_errors_keep_their_traceback():
    try:
        try:
            open(f"{MISSING}/internal.json")
        except FileNotFoundError as e:
            raise RuntimeError("a bug while handling it") from e
    except RuntimeError as e:
        assert user_error_message(e) is None  # a bug, not the user's path: the traceback stays
    assert user_error_message(ValueError("bad value")) is None
    assert user_error_message(PermissionError(13, "Permission denied", "/root/x")) is None
    try:
        open(f"{MISSING}/x.json")
    except FileNotFoundError as e:
        assert user_error_message(e) == "/nonexistent/x.json: no such file or folder; check the path"


def test_the_kernels_line_is_silenced_and_other_warnings_are_not(caplog):
    silence_library_noise()
    logger = logging.getLogger("bitsandbytes.backends.cpu.ops")  # the logger bitsandbytes writes it to
    with caplog.at_level(logging.WARNING):
        logger.warning(
            "Failed to load CPU gemm_4bit_forward from kernels-community: %s. Please make sure you already "
            "`pip install kernels` and the kernels >= 0.11.1",
            ModuleNotFoundError("No module named 'kernels'"),
        )
        logger.warning("a real bitsandbytes warning")
    assert [r.getMessage() for r in caplog.records] == ["a real bitsandbytes warning"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        silence_library_noise()
        warnings.warn(
            "`is_gradient_checkpointing` is deprecated and will be removed in v6.",
            FutureWarning,
            stacklevel=1,
        )
        warnings.warn("`something_else` is deprecated", FutureWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["`something_else` is deprecated"]

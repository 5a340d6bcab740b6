"""The hostile suite: every attack is contained, scored as a failure, and leaves the host unchanged.

Limits are small (2 s, 256 MiB, 1 MiB files, 16 processes, 64 KiB output) so the whole suite takes seconds.
The fork bomb runs only under an isolation that bounds it for real (uid + RLIMIT_NPROC, or a user
namespace), never under bare rlimits as root, where RLIMIT_NPROC does not bind.
"""

import os
import socket
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from eval_space.pass_at_k.sandbox import Limits, SandboxExecutor

SMALL_LIMITS = Limits(
    timeout=2.0, memory_bytes=256 << 20, file_size_bytes=1 << 20, max_processes=16, output_bytes=64 << 10
)
SECRET = "hf_this_must_never_leak"
FAILING_TEST = "assert f() == 1"  # f() returns 2: only an early exit could make this program "pass"


def candidate(body: str) -> str:
    return textwrap.dedent(body) + "\ndef f():\n    return 2\n"


def _sandbox_processes(uids) -> list[int]:
    """Processes running as one of these sandbox uids (another test run's sandboxes are not ours to count)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) in uids:
                found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture(scope="module")
def host_canary():
    with tempfile.TemporaryDirectory(prefix="codereps-canary-") as folder:
        canary = Path(folder) / "keep-me.txt"
        canary.write_text("host file")
        yield Path(folder), canary


@pytest.fixture(scope="module")
def hostile_outcomes(listener, host_canary):
    folder, canary = host_canary
    port = listener.getsockname()[1]
    cases = {
        "infinite loop": candidate("while True:\n    pass"),
        "fork bomb": candidate(
            """
            import os
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
            """
        ),
        "memory bomb": candidate("hog = []\nwhile True:\n    hog.append(bytearray(16 << 20))"),
        "10 GB write": candidate(
            """
            with open("big.bin", "wb") as f:
                for _ in range(10 * 1024):
                    f.write(bytes(1 << 20))
            """
        ),
        "deep recursion": candidate(
            "import sys\nsys.setrecursionlimit(10**9)\ndef down(n):\n    return down(n + 1)\ndown(0)"
        ),
        "plain recursion": candidate("def down(n):\n    return down(n + 1)\ndown(0)"),
        "print 1 GB": candidate(
            "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)"
        ),
        "os.system outside": candidate(
            f"""
            import os
            os.system("rm -rf {folder}/keep-me.txt; touch {folder}/planted.txt; touch /planted-by-candidate")
            def f():
                return 1 if not os.path.exists("{canary}") else 2
            """
        ),
        "socket to localhost": candidate(
            f"""
            import socket
            socket.create_connection(("127.0.0.1", {port}), timeout=1).sendall(b"leak")
            def f():
                return 1
            """
        ),
        "read HF_TOKEN": candidate(
            f"""
            import os
            seen = os.environ.get("HF_TOKEN", "")
            for pid in ("1", str(os.getppid())):
                try:
                    seen += open(f"/proc/{{pid}}/environ").read()
                except OSError:
                    pass
            def f():
                return 1 if "{SECRET}" in seen else 2
            """
        ),
        "ignore SIGTERM": candidate(
            "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)"
        ),
        "sys.exit(0)": candidate("import sys\nsys.exit(0)"),
        "os._exit(0)": candidate("import os\nos._exit(0)"),
        "raise SystemExit": candidate("raise SystemExit"),
        "kill self": candidate("import os\nos.kill(os.getpid(), 9)"),
        "SIGTERM self": candidate("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)"),
        "exit in an atexit hook": candidate(
            "import atexit, os\natexit.register(lambda: os._exit(0))\nraise SystemExit(0)"
        ),
        "monkeypatch builtins": (
            "import builtins\nbuiltins.sorted = lambda *a, **k: 0\nbuiltins.len = lambda *a: 0\n"
            "builtins.isinstance = lambda *a: True\ndef f(xs):\n    return xs\n"
        ),
        "read stdin": candidate("data = input()"),
    }
    tests = dict.fromkeys(cases, FAILING_TEST)
    tests["monkeypatch builtins"] = "assert sorted(f([3, 1])) == sorted([1, 2])\nassert len(f([1])) == 0"
    old_token = os.environ.get("HF_TOKEN")
    os.environ["HF_TOKEN"] = SECRET
    tmp_before = set(os.listdir(tempfile.gettempdir()))
    start = time.monotonic()
    try:
        with SandboxExecutor(workers=2, limits=SMALL_LIMITS) as executor:
            layers = set(executor.isolation.split("+"))
            if not layers & {"uid", "user"} or "pid" not in layers:
                # Never launch a fork bomb that only luck would stop (root ignores RLIMIT_NPROC).
                pytest.fail(
                    f"this machine gives only {executor.isolation!r}: the hostile suite needs pid + uid/user"
                )
            # The fork bomb runs alone: its 16 spinning processes would starve the other cases' CPU.
            others = [name for name in cases if name != "fork bomb"]
            outcomes = dict(zip(others, executor.run([(cases[n], tests[n]) for n in others]), strict=True))
            outcomes["fork bomb"] = executor.run([(cases["fork bomb"], tests["fork bomb"])])[0]
            # Still responsive afterwards: a good candidate passes quickly.
            after = executor.run([("def f():\n    return 1\n", FAILING_TEST)])[0]
            uids = set(executor.uids)
    finally:
        if old_token is None:
            del os.environ["HF_TOKEN"]
        else:
            os.environ["HF_TOKEN"] = old_token
    return {
        "outcomes": outcomes,
        "after": after,
        "seconds": time.monotonic() - start,
        "tmp_new": set(os.listdir(tempfile.gettempdir())) - tmp_before,
        "uids": uids,
    }


CASES = [
    "infinite loop",
    "fork bomb",
    "memory bomb",
    "10 GB write",
    "deep recursion",
    "plain recursion",
    "print 1 GB",
    "os.system outside",
    "socket to localhost",
    "read HF_TOKEN",
    "ignore SIGTERM",
    "sys.exit(0)",
    "os._exit(0)",
    "raise SystemExit",
    "kill self",
    "SIGTERM self",
    "exit in an atexit hook",
    "monkeypatch builtins",
    "read stdin",
]


@pytest.mark.parametrize("case", CASES)
def test_hostile_candidate_is_contained_and_fails(hostile_outcomes, case):
    outcome = hostile_outcomes["outcomes"][case]
    assert outcome["status"] in ("failed", "timed out"), outcome
    assert not outcome["passed"]
    assert "uid" in outcome["isolation"] or "user" in outcome["isolation"], outcome["isolation"]


def test_each_attack_fails_for_its_own_reason(hostile_outcomes):
    outcomes = hostile_outcomes["outcomes"]
    assert outcomes["infinite loop"]["status"] == "timed out"
    assert outcomes["ignore SIGTERM"]["status"] == "timed out"
    assert outcomes["fork bomb"]["status"] == "timed out"
    assert outcomes["memory bomb"]["error"].startswith("MemoryError")
    assert outcomes["10 GB write"]["error"].startswith(
        ("OSError: [Errno 27] File too large", "FileSizeLimit")
    )
    # With the recursion limit lifted, CPython exhausts the C stack: a segfault, or (seen about one run in
    # three) "SystemError: error return without exception set" when an allocation fails first.
    assert outcomes["deep recursion"]["error"].startswith(
        ("SegmentationFault", "TimeoutError", "MemoryError", "SystemError")
    )
    assert outcomes["plain recursion"]["error"].startswith("RecursionError")
    assert outcomes["print 1 GB"]["error"].startswith("OutputLimitExceeded")
    assert len(outcomes["print 1 GB"]["output"]) <= 2000
    assert outcomes["socket to localhost"]["error"].startswith("OSError: [Errno 101] Network is unreachable")
    assert outcomes["sys.exit(0)"]["error"] == "SystemExit: 0"
    assert outcomes["raise SystemExit"]["error"].startswith("SystemExit")
    assert outcomes["os._exit(0)"]["error"].startswith("EarlyExit: exited with status 0")
    assert outcomes["kill self"]["error"] == "Killed: killed by SIGKILL"
    assert outcomes["SIGTERM self"]["error"] == "Killed: killed by SIGTERM"
    assert outcomes["exit in an atexit hook"]["error"].startswith("SystemExit")
    assert outcomes["monkeypatch builtins"]["error"].startswith("AssertionError")
    assert outcomes["read stdin"]["error"].startswith("RuntimeError: input(): lost sys.stdin")
    for case in ("os.system outside", "read HF_TOKEN"):
        assert outcomes[case]["error"].startswith("AssertionError"), outcomes[case]


def test_host_is_unchanged(hostile_outcomes, host_canary, listener):
    folder, canary = host_canary
    assert canary.read_text() == "host file"
    assert not (folder / "planted.txt").exists()
    assert not Path("/planted-by-candidate").exists()
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected
    assert hostile_outcomes["uids"] and _sandbox_processes(hostile_outcomes["uids"]) == []
    leftovers = {
        name for name in hostile_outcomes["tmp_new"] if name.startswith(("codereps-sandbox-", "candidate-"))
    }
    assert leftovers == set()


def test_still_responsive_after_the_suite(hostile_outcomes):
    assert hostile_outcomes["after"]["status"] == "passed"
    # Nine cases wait for the 2 s limit, on 2 workers: far less than a minute in all.
    assert hostile_outcomes["seconds"] < 60


def test_userns_fallback_contains_the_same_attacks():
    """Where we are not root: a user namespace provides net, mount and pid; tested as the nobody user.

    The fork server needs an interpreter that an unprivileged user can read, here Debian's python3.
    """
    python = "/usr/bin/python3"
    if not os.access(python, os.X_OK):
        pytest.skip("no system python3 readable by an unprivileged user")
    jobs = [
        (candidate("import os\nos._exit(0)"), FAILING_TEST),
        (candidate("import os\nos.system('touch /planted-by-userns')"), FAILING_TEST),
        (candidate("import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)"), FAILING_TEST),
        (
            candidate(
                "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
            ),
            FAILING_TEST,
        ),
        ("def f():\n    return 1\n", FAILING_TEST),
    ]
    with SandboxExecutor(workers=1, limits=SMALL_LIMITS, isolation="userns", python=python) as executor:
        assert executor.isolation == "user+net+mount+pid+rlimits"  # checked before the fork bomb runs
        outcomes = executor.run(jobs)
    assert [o["passed"] for o in outcomes] == [False, False, False, False, True]
    assert outcomes[2]["error"].startswith("OSError: [Errno 101]")
    assert not Path("/planted-by-userns").exists()


def test_rlimits_only_mode_reports_itself_and_still_judges_correctly():
    """The weakest mode (a machine with no namespaces and no root) must still time out and reject early exits."""
    jobs = [
        ("def f():\n    return 1\n", FAILING_TEST),
        (candidate("import os\nos._exit(0)"), FAILING_TEST),
        (candidate("while True:\n    pass"), FAILING_TEST),
    ]
    with SandboxExecutor(workers=1, limits=SMALL_LIMITS, isolation="rlimits") as executor:
        outcomes = executor.run(jobs)
    assert {o["isolation"] for o in outcomes} == {"rlimits"}
    assert [o["status"] for o in outcomes] == ["passed", "failed", "timed out"]


def test_a_detached_daemon_dies_with_its_candidate():
    """A candidate passes but leaves a setsid'd child behind: it is killed before the next candidate runs."""
    daemon = candidate(
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\n    os._exit(0)\n"
    ).replace("return 2", "return 1")
    with SandboxExecutor(workers=1, limits=SMALL_LIMITS) as executor:
        outcome = executor.run([(daemon, FAILING_TEST)])[0]
        assert outcome["passed"], outcome
        if "uid" in executor.isolation:
            assert _sandbox_processes(executor.uids) == []

"""Run untrusted candidate programs, each in its own sandboxed process.

Model-written code is hostile until proven otherwise: it may loop forever, fork
without end, eat memory or disk, talk to the network, read secrets, or try to
fake a pass by exiting early with status 0. The executor contains all of that:

    with SandboxExecutor(workers=2) as executor:
        outcomes = executor.run([(candidate_code, test_code), ...])
    outcomes[0]["status"]   # "passed", "failed" or "timed out"

How it is fast: each worker is a warm *fork server*, a Python process started
once with the common standard-library modules already imported. A candidate
costs one `fork()` instead of an interpreter start-up.

How it is safe (the strongest layers the machine allows, detected at start-up
and reported in every outcome as e.g. `net+mount+pid+uid+rlimits`):

- `net`: the fork server enters a new, empty network namespace (no loopback,
  no interfaces), so sockets cannot reach anything, 127.0.0.1 included.
- `mount`: it also enters a private mount namespace where every mount is
  re-mounted read-only and a small private tmpfs is mounted on /tmp; each
  candidate gets a fresh directory there, removed afterwards. Nothing on the
  host can be created, changed or deleted.
- `pid`: each worker's fork server is init of its own PID namespace (with its own
  /proc); after each candidate it kills every other process in it, however the
  candidate tried to detach, before the next candidate starts.
- `uid` (when run as root): the candidate runs as a random unprivileged uid,
  so `RLIMIT_NPROC` binds (a fork bomb stops at `max_processes`) and it cannot
  signal or read other users' processes.
- `user` (when not root): an unprivileged user namespace provides the net,
  mount and pid layers; the candidate's capabilities are dropped.
- `rlimits` (always): CPU time, address space, file size, process count, no
  core dumps; `no_new_privs`; stdin is /dev/null; the environment is replaced by
  a minimal one (no tokens); captured output is capped; a wall-clock timeout
  kills the whole process group / namespace.

A candidate passes only if the test code ran to its end: the runner writes a
per-candidate random nonce after the tests, and the supervisor also requires a
clean exit. `sys.exit(0)`, `raise SystemExit`, `os._exit(0)` and killing itself
all leave no nonce and fail. The tests run with a private copy of the builtins
taken before any candidate ran, so monkeypatching `builtins` cannot make an
`assert` pass. (Residual risk, stated plainly: candidate and tests share one
interpreter, so code that deliberately searches the runner's memory for the
nonce could forge a pass; the sandbox contains such code, it cannot judge it.)

This file imports only the standard library and is also the fork server's
script (`python sandbox.py --serve CONFIG`), so it works from wherever
`evaluate.load` copies it.
"""

import builtins
import collections
import contextlib
import ctypes
import errno
import gc
import json
import os
import random
import re
import secrets
import select
import shutil
import signal
import sys
import time

try:  # imported as eval_space.pass_at_k.sandbox (or as evaluate's copy of the metric)
    from . import plain_data
except ImportError:  # run as the fork server's script: plain_data.py sits next to it
    sys.dont_write_bytecode = True  # `-I` ignores PYTHONDONTWRITEBYTECODE; never write into the checkout
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import plain_data

ISOLATION_MODES = ("auto", "namespaces", "userns", "rlimits")

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
PR_SET_NO_NEW_PRIVS = 38
PR_SET_DUMPABLE = 4  # /proc/self/uid_map is writable only by a dumpable process
PR_CAPBSET_DROP = 24

# Imported once in the fork server so candidates do not pay for them.
# Only what MBPP/HumanEval solutions import most: each module here makes every fork a little dearer.
PREIMPORTED_MODULES = (
    "bisect collections functools heapq itertools math operator random re resource string sys".split()
)

# What a candidate sees of the environment: nothing secret, nothing inherited.
MINIMAL_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}

OUTPUT_TAIL_CHARS = 2000  # kept per outcome, so results files stay small


class Limits(
    collections.namedtuple(
        "Limits",
        "timeout memory_bytes file_size_bytes max_processes output_bytes scratch_bytes result_bytes",
        defaults=(20.0, 2 << 30, 16 << 20, 64, 1 << 20, 256 << 20, 64 << 20),
    )
):
    """Per-candidate limits (a namedtuple, not a dataclass: `dataclasses` would pull `inspect` into the
    fork server's heap, which every fork copies).

    timeout: wall-clock seconds (20: MBPP task 123 alone takes ~5 s, and machines are busy);
    memory_bytes: RLIMIT_AS (2 GiB); file_size_bytes: RLIMIT_FSIZE, any single file (16 MiB);
    max_processes: RLIMIT_NPROC, binding under the `uid` or `user` layer (64); output_bytes: stdout+stderr
    captured, writing more fails the candidate (1 MiB); scratch_bytes: the private tmpfs (256 MiB);
    result_bytes: the encoded results of one candidate's probes (or its stdout in stdin mode), 64 MiB.
    """

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        limits = super().__new__(cls, *args, **kwargs)
        if limits.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {limits.timeout}")
        return limits


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the candidate)."""


# ---------------------------------------------------------------- parent side


def _sandbox_script() -> str:
    return os.path.abspath(__file__)


# The parent side imports subprocess, threading and concurrent.futures inside its functions: this file is
# also the fork server's script, and every module the server holds is memory each fork has to copy.


class ForkServer:
    """One warm worker process; runs one candidate at a time."""

    def __init__(self, limits: Limits, isolation: str = "auto", python: str | None = None):
        import subprocess

        if isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}, got {isolation!r}")
        config = json.dumps({"limits": limits._asdict(), "isolation": isolation})
        # -I: ignore PYTHON* variables and the user site; the server never sees the caller's env.
        self._proc = subprocess.Popen(
            [python or sys.executable, "-I", _sandbox_script(), "--serve", config],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(MINIMAL_ENV),
            start_new_session=True,
        )
        hello = self._read_line()
        self.isolation = hello["isolation"]
        self.uid = hello["uid"]  # the candidates' uid under the `uid` layer, else None

    def _read_line(self) -> dict:
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait(timeout=5)
            err = self._proc.stderr.read().decode(errors="replace")[-2000:]
            raise SandboxError(f"fork server exited with status {self._proc.returncode}: {err}")
        return json.loads(line)

    def run(self, job) -> dict:
        """job: a dict (see `_Server.run_job`), or a (program, test) pair: an in-process job."""
        if not isinstance(job, dict):
            program, test = job
            job = {"program": program, "test": test}
        self._proc.stdin.write(json.dumps(job).encode() + b"\n")
        self._proc.stdin.flush()
        return self._read_line()

    def close(self):
        import subprocess

        if self._proc.poll() is None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            stream.close()


class SandboxExecutor:
    """A pool of fork servers; `run` executes (program, test) pairs in parallel, results in order."""

    def __init__(
        self,
        workers: int | None = None,
        limits: Limits | None = None,
        isolation: str = "auto",
        python: str | None = None,
    ):
        """python: the interpreter of the fork servers (default: this one); candidates run under it."""
        self.limits = limits or Limits()
        self.workers = max(1, workers or os.cpu_count() or 1)
        if isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}, got {isolation!r}")
        self._isolation_mode = isolation
        self._python = python
        import queue
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self._idle = queue.Queue()
        self._servers: list[ForkServer] = []
        with ThreadPoolExecutor(self.workers) as pool:
            for server in pool.map(lambda _: ForkServer(self.limits, isolation, python), range(self.workers)):
                self._servers.append(server)
                self._idle.put(server)
        self.isolation = self._servers[0].isolation
        self.uids = {server.uid for server in self._servers} - {None}  # grows if a server is replaced
        self._lock = threading.Lock()

    def _run_one(self, job) -> dict:
        server = self._idle.get()
        try:
            return server.run(job)
        except (SandboxError, OSError, ValueError):
            # The server died (it never should); replace it and report this candidate as a sandbox failure.
            server.close()
            with self._lock:
                self._servers.remove(server)
                server = ForkServer(self.limits, self._isolation_mode, self._python)
                self._servers.append(server)
                if server.uid is not None:
                    self.uids.add(server.uid)
            return _outcome("failed", "SandboxError: the fork server died", "", 0.0, self.isolation)
        finally:
            self._idle.put(server)

    def run(self, jobs, progress=None) -> list[dict]:
        """jobs: iterable of (program, test) pairs or job dicts (`_Server.run_job`). progress: optional
        callable invoked once per finished job."""
        from concurrent.futures import ThreadPoolExecutor, as_completed

        jobs = list(jobs)
        outcomes = [None] * len(jobs)
        with ThreadPoolExecutor(self.workers) as pool:
            futures = {pool.submit(self._run_one, job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                outcomes[futures[future]] = future.result()
                if progress:
                    progress()
        return outcomes

    def close(self):
        for server in self._servers:
            server.close()
        self._servers.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _outcome(status: str, error: str | None, output: str, seconds: float, isolation: str) -> dict:
    return {
        "status": status,
        "passed": status == "passed",
        "error": error,
        "output": output[-OUTPUT_TAIL_CHARS:],
        "seconds": round(seconds, 4),
        "isolation": isolation,
    }


# ---------------------------------------------------------------- fork server side

_libc = None


def _libc_call(name: str, *args) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    result = getattr(_libc, name)(*args)
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{name}: {os.strerror(code)}")
    return result


def _unshare(flags: int):
    _libc_call("unshare", ctypes.c_int(flags))


def _mount(source, target: str, fstype, flags: int, data=None):
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    _libc_call("mount", encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data))


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        # field 5 is the mount point, with space, tab, newline and backslash escaped in octal (\\040)
        return [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4]) for line in f]


def _make_host_read_only(work_root: str, scratch_bytes: int, keep: tuple = ()):
    """In our private mount namespace: every mount read-only, a private tmpfs at work_root.

    `keep`: folders the server still needs that the tmpfs would hide (a virtualenv or checkout under
    /tmp): they are held open before the tmpfs is mounted, then bound back read-only at the same path.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # first, so nothing below propagates to the host
    flag_map = (
        (os.ST_NOSUID, MS_NOSUID),
        (os.ST_NODEV, MS_NODEV),
        (os.ST_NOEXEC, MS_NOEXEC),
        (os.ST_NOATIME, MS_NOATIME),
        (os.ST_NODIRATIME, MS_NODIRATIME),
        (os.ST_RELATIME, MS_RELATIME),
    )
    for mount_point in reversed(_mount_points()):
        try:
            present = os.statvfs(mount_point).f_flag
        except OSError:
            continue
        kept = 0  # a user namespace may not clear these "locked" flags, so keep them as they are
        for st_flag, ms_flag in flag_map:
            if present & st_flag:
                kept |= ms_flag
        # MS_BIND|MS_REMOUNT changes only this namespace's view of the mount, never the host's.
        with contextlib.suppress(OSError):
            _mount(None, mount_point, None, MS_BIND | MS_REMOUNT | MS_RDONLY | kept)
    if not os.statvfs("/").f_flag & os.ST_RDONLY:
        raise OSError(errno.EPERM, "could not make / read-only")
    held = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in _hidden_by(work_root, keep)]
    _mount("tmpfs", work_root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_bytes},mode=0755")
    for path, fd in held:
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)


def _hidden_by(work_root: str, paths) -> list[str]:
    """The existing folders among `paths` that lie under `work_root`, outermost only."""
    root = os.path.realpath(work_root)
    inside = sorted(
        {
            real
            for real in map(os.path.realpath, paths)
            if real.startswith(root + os.sep) and os.path.isdir(real)
        }
    )
    return [p for i, p in enumerate(inside) if not any(p.startswith(q + os.sep) for q in inside[:i])]


def _enter_user_namespace():
    uid, gid = os.geteuid(), os.getegid()
    _unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS)
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


def _moved(entry: str, prefix: str, target: str) -> str:
    return target + entry[len(prefix) :] if entry.startswith(prefix + os.sep) else entry


def _traversable_by_others(path: str) -> bool:
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _pid_namespace_works() -> bool:
    probe = os.fork()
    if probe == 0:
        try:
            _unshare(CLONE_NEWPID)
            inner = os.fork()
            if inner == 0:
                os._exit(0 if os.getpid() == 1 else 1)
            os._exit(os.waitstatus_to_exitcode(os.waitpid(inner, 0)[1]))
        except BaseException:
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(probe, 0)[1]) == 0


class _Server:
    def __init__(self, limits: Limits, mode: str):
        self.limits = limits
        self.layers: list[str] = []
        self.uid = None
        self.drop_capabilities = False
        self.work_root = "/tmp"
        real_root = os.geteuid() == 0
        if mode == "userns" and real_root:
            # Test path for machines where we are not root: become an unprivileged user first.
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            _libc_call(
                "prctl",
                PR_SET_DUMPABLE,
                ctypes.c_ulong(1),
                ctypes.c_ulong(0),
                ctypes.c_ulong(0),
                ctypes.c_ulong(0),
            )
            real_root = False
        namespaced = False
        if mode in ("auto", "namespaces") and real_root:
            try:
                _unshare(CLONE_NEWNET | CLONE_NEWNS)
                namespaced = True
            except OSError:
                if mode == "namespaces":
                    raise
        elif mode in ("auto", "userns") and not real_root:
            try:
                _enter_user_namespace()
                namespaced = True
                self.layers.append("user")
                self.drop_capabilities = True
            except OSError:
                if mode == "userns":
                    raise
        if namespaced:
            self.layers.append("net")
            try:
                _make_host_read_only(self.work_root, limits.scratch_bytes, keep=(sys.prefix, sys.base_prefix))
                self.layers.append("mount")
            except OSError:
                if mode in ("namespaces", "userns"):
                    raise
        if "mount" not in self.layers:
            import tempfile  # only here: the server otherwise never needs it

            self.work_root = tempfile.mkdtemp(prefix="codereps-sandbox-")
        if mode != "rlimits" and _pid_namespace_works():
            self.layers.append("pid")
        if mode != "rlimits" and real_root and self._python_reachable_by_others():
            # A random high uid nobody else uses: RLIMIT_NPROC then counts only our candidates.
            self.uid = random.SystemRandom().randrange(200_000, 2_000_000_000)
            self.layers.append("uid")
        self.layers.append("rlimits")
        self.isolation = "+".join(self.layers)
        self.pristine_builtins = dict(builtins.__dict__)
        for name in PREIMPORTED_MODULES:
            __import__(name)
        gc.freeze()  # keep the collector off the warm heap: otherwise each fork copies it page by page

    def _python_reachable_by_others(self) -> bool:
        """An unprivileged uid must still import the standard library (pyenv puts it under /root, mode 700)."""
        hidden = sorted({p for p in (sys.base_prefix, sys.prefix) if not _traversable_by_others(p)})
        if not hidden:
            return True
        if "mount" not in self.layers:
            return False  # no private mounts to re-expose it: run as root, bounded by the other layers
        for index, prefix in enumerate(hidden):
            # Bind the installation (read-only) to a reachable path and point sys.path there.
            target = os.path.join(self.work_root, ".python", str(index))
            os.makedirs(target)
            _mount(prefix, target, None, MS_BIND | MS_REC)
            _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
            sys.path[:] = [_moved(entry, prefix, target) for entry in sys.path]
            for module in list(sys.modules.values()):  # already-imported packages look up submodules here
                search_path = getattr(module, "__path__", None)
                if isinstance(search_path, list):
                    search_path[:] = [_moved(entry, prefix, target) for entry in search_path]
        sys.path_importer_cache.clear()
        return True

    def serve(self):
        if "pid" in self.layers:
            # One PID namespace per worker with this loop as its init: after each candidate, kill(-1)
            # from init reaches every process the candidate left behind, however it detached.
            _unshare(CLONE_NEWPID)
            init = os.fork()
            if init != 0:
                _hold_namespace(init)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # init must not die of a candidate's signal
            if "mount" in self.layers:
                # A /proc of this namespace only: candidates cannot even list the host's processes.
                with contextlib.suppress(OSError):
                    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _write_line(1, {"isolation": self.isolation, "uid": self.uid})
        stdin = os.fdopen(0, "rb", buffering=0)
        buffer = b""
        while True:
            chunk = stdin.read(1 << 16)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                _write_line(1, self.run_job(json.loads(line)))
        if "mount" not in self.layers:
            shutil.rmtree(self.work_root, ignore_errors=True)

    def run_job(self, job: dict) -> dict:
        """Three kinds of job, all {"program": source, ...}:

        - {"test": source}: in-process (the old way): the test code runs after the program in the same
          interpreter; passing means the tests ran to their end (a nonce the candidate could forge).
        - {"probes": [{"expr": source} | {"call": name, "args": encoded list, "method_of": class?}],
           "setup": source, "probe_timeouts": [seconds]}: the program runs, then each probe; each result
          comes back as encoded plain data for the judge (nothing is judged here).
        - {"stdin": text}: the program runs as a script with `text` on its standard input; its standard
          output comes back for the judge.
        Optional in all: "prelude" (source run before the program, e.g. APPS's imports), "timeout"
        (wall-clock seconds for this job, instead of the limits' own), "result_bytes" (its results' cap).
        """
        sandbox_dir = None
        try:
            sandbox_dir = os.path.join(self.work_root, f"candidate-{secrets.token_hex(8)}")
            os.mkdir(sandbox_dir, 0o700)
            if self.uid is not None:
                os.chown(sandbox_dir, self.uid, self.uid)
            return self._supervise(sandbox_dir, job)
        except Exception as e:  # the server must always answer
            return _outcome("failed", f"SandboxError: {type(e).__name__}: {e}", "", 0.0, self.isolation)
        finally:
            if sandbox_dir is not None:
                shutil.rmtree(sandbox_dir, ignore_errors=True)

    def _supervise(self, sandbox_dir: str, job: dict) -> dict:
        kind = "probes" if "probes" in job else "stdin" if "stdin" in job else "test"
        nonce = secrets.token_hex(16)
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe()
        stdout_r, stdout_w = os.pipe() if kind == "stdin" else (None, None)
        if kind == "stdin":
            with open(os.path.join(sandbox_dir, ".stdin"), "w", encoding="utf-8") as f:
                f.write(job["stdin"])
        gc.freeze()
        start = time.monotonic()
        child = os.fork()
        if child == 0:
            self._run_candidate(sandbox_dir, job, kind, nonce, result_w, output_w, stdout_w)
        for fd in (result_w, output_w, stdout_w):
            if fd is not None:
                os.close(fd)
        timeout = float(job.get("timeout") or self.limits.timeout)
        result_cap = int(job.get("result_bytes") or self.limits.result_bytes)
        watched = self._watch(
            child, result_r, output_r, stdout_r, timeout, job.get("probe_timeouts"), result_cap
        )
        seconds = time.monotonic() - start
        self._kill_stragglers(child)
        if kind == "test":
            return _classify(*watched[:5], nonce, seconds, self.isolation)
        outcome = _report(kind, *watched[:-1], seconds, self.isolation)
        if job.get("time_probes"):
            outcome["line_seconds"] = watched[-1]
        return outcome

    def _watch(self, child, result_r, output_r, stdout_r, timeout, probe_timeouts, result_cap):
        """Collects the child's channels until it exits or a deadline passes.

        probe_timeouts: per probe, seconds from the previous result line (the first from the "ready" line):
        the judge's own clock, so a slow probe is cut off however the candidate treats its signals."""
        started = time.monotonic()
        deadline = started + timeout
        pidfd = os.pidfd_open(child)
        buffers = {result_r: bytearray(), output_r: bytearray()}
        caps = {result_r: result_cap, output_r: self.limits.output_bytes}
        if stdout_r is not None:
            buffers[stdout_r] = bytearray()
            caps[stdout_r] = result_cap
        capped = set()
        timed_out = False
        lines_seen, line_deadline = 0, None  # lines on the result channel; the current probe's deadline
        line_times = []  # when each result line arrived (seconds from the start): trusted probe timings
        open_fds = set(buffers)
        status = None
        while status is None:
            now = time.monotonic()
            remaining = min(deadline, line_deadline or deadline) - now
            if remaining <= 0:
                timed_out = True
                status = self._kill(child).get(child)
                break
            ready, _, _ = select.select([pidfd, *open_fds], [], [], remaining)
            for fd in ready:
                if fd == pidfd:
                    status = os.waitpid(child, 0)[1]
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    open_fds.discard(fd)
                    os.close(fd)
                    continue
                buffers[fd] += chunk
                if len(buffers[fd]) > caps[fd]:
                    # Stop reading: further writes by the candidate fail, and so does the candidate.
                    capped.add(fd)
                    open_fds.discard(fd)
                    os.close(fd)
                if fd == result_r:
                    new_lines = chunk.count(b"\n")
                    line_times.extend([round(time.monotonic() - started, 6)] * new_lines)
                    if new_lines and probe_timeouts:
                        lines_seen += new_lines
                        probe = lines_seen - 1  # line 0 is "ready"; line j+1 is probe j's result
                        line_deadline = (
                            time.monotonic() + probe_timeouts[probe] if probe < len(probe_timeouts) else None
                        )
        if status is None:
            status = os.waitpid(child, 0)[1]
        os.close(pidfd)
        for fd in open_fds:  # all that is already buffered (up to the cap); never block on a straggler
            os.set_blocking(fd, False)
            with contextlib.suppress(BlockingIOError):
                while len(buffers[fd]) <= caps[fd]:
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        break
                    buffers[fd].extend(chunk)
                    if fd == result_r:
                        line_times.extend([round(time.monotonic() - started, 6)] * chunk.count(b"\n"))
            if len(buffers[fd]) > caps[fd]:
                capped.add(fd)
            os.close(fd)
        stdout = bytes(buffers[stdout_r]) if stdout_r is not None else None
        return (
            bytes(buffers[result_r]),
            status,
            timed_out,
            output_r in capped,
            bytes(buffers[output_r]),
            stdout,
            result_r in capped or stdout_r in capped,
            line_times,
        )

    def _kill(self, child: int) -> dict:
        """Returns the statuses of the processes it reaped (the child's among them, in a PID namespace)."""
        if "pid" in self.layers:
            return _kill_namespace()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child, signal.SIGKILL)
        return {}

    def _kill_stragglers(self, child: int):
        """Whatever the candidate started and left running (a daemon, a fork bomb) dies before the next one."""
        if "pid" in self.layers:
            _kill_namespace()
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child, signal.SIGKILL)
        if self.uid is not None:
            _kill_all_of_uid(self.uid)

    # -- the candidate process (untrusted from the first line of its program)

    def _run_candidate(self, sandbox_dir, job, kind, nonce, result_w, output_w, stdout_w):
        try:
            os.setsid()
            os.chdir(sandbox_dir)
            stdin = os.open(".stdin" if kind == "stdin" else os.devnull, os.O_RDONLY)
            os.dup2(stdin, 0)
            os.dup2(stdout_w if kind == "stdin" else output_w, 1)
            os.dup2(output_w, 2)
            result_fd = os.dup2(result_w, 3)
            os.closerange(4, 65536)
            self._apply_limits(float(job.get("timeout") or self.limits.timeout))
            os.environ.clear()
            os.environ.update(MINIMAL_ENV, HOME=sandbox_dir, TMPDIR=sandbox_dir)
            sys.stdin = (
                open(0, encoding="utf-8", errors="replace", closefd=False) if kind == "stdin" else None
            )
            random.seed()
            sys.argv = ["candidate"]
            signal.signal(
                signal.SIGINT, signal.default_int_handler
            )  # init ignores it; the candidate need not
        except BaseException as e:
            _write_all(result_w, json.dumps({"error": f"SandboxError: {type(e).__name__}: {e}"}).encode())
            os._exit(3)
        if kind == "test":
            _execute(
                job.get("prelude", "") + job["program"], job["test"], nonce, result_fd, self.pristine_builtins
            )
        else:
            _execute_for_judge(job, kind, result_fd)

    def _apply_limits(self, timeout: float):
        import resource

        limits = self.limits
        cpu = int(timeout) + 1
        for limit, value in (
            (resource.RLIMIT_CPU, cpu),
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_FSIZE, limits.file_size_bytes),
            (resource.RLIMIT_NPROC, limits.max_processes),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(limit, (value, value))
        _libc_call(
            "prctl",
            PR_SET_NO_NEW_PRIVS,
            ctypes.c_ulong(1),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
        )
        if self.uid is not None:
            os.setgroups([])
            os.setgid(self.uid)
            os.setuid(self.uid)  # from root to an unprivileged uid: every capability is dropped
        elif self.drop_capabilities:
            _drop_all_capabilities()


def _execute(program: str, test: str, nonce: str, result_fd: int, pristine_builtins: dict):
    """Candidate first, then the tests with untouched builtins; the nonce only after the last test line."""
    try:
        namespace = {"__name__": "__main__", "__builtins__": builtins}
        exec(compile(program, "<candidate>", "exec"), namespace)
        test_namespace = dict(namespace)
        test_namespace["__builtins__"] = dict(pristine_builtins)
        exec(compile(test, "<tests>", "exec"), test_namespace)
    except BaseException as e:  # SystemExit too: exiting before the end of the tests is a failure
        _restore_builtins(pristine_builtins)  # our reporting code must not run on patched builtins
        try:
            message = f"{type(e).__name__}: {e}"[:500]
        except BaseException:  # a hostile __str__
            message = type(e).__name__
        _flush_std_streams()
        _write_all(result_fd, json.dumps({"error": message}).encode() + b"\n")
        os._exit(1)
    _restore_builtins(pristine_builtins)
    _flush_std_streams()
    _write_all(result_fd, json.dumps({"finished": nonce}).encode() + b"\n")
    os._exit(0)


def _execute_for_judge(job: dict, kind: str, result_fd: int):
    """The candidate's side of a judged job: run it, report what it computes, decide nothing.

    Result lines on fd 3: `C <json message>` (does not compile), `E <json message>` (raised while loading),
    `R` (loaded), then per probe `<i> <encoded value>` or `<i> !<json message>`, and `D` (done). All of it
    is the candidate's to forge; the judge trusts none of it beyond "these are plain values"."""

    def send(line: str):
        _write_all(result_fd, line.encode("utf-8", errors="replace") + b"\n")

    source = job.get("prelude", "") + job["program"]
    try:
        code = compile(source, "<candidate>", "exec")
    except BaseException as e:
        send("C " + json.dumps(_message(e)))
        os._exit(1)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        if not job.get("run_per_probe"):  # stdin programs run once per probe, each in a fresh process
            exec(code, namespace)
        if kind == "probes" and job.get("setup"):
            exec(compile(job["setup"], "<setup>", "exec"), namespace)
    except SystemExit as e:
        if kind == "stdin" and e.code in (None, 0):  # a script that ends with exit() has finished
            _flush_std_streams()
            send("R")
            send("D")
            os._exit(0)
        _flush_std_streams()
        send("E " + json.dumps(_message(e)))
        os._exit(1)
    except BaseException as e:
        _flush_std_streams()
        send("E " + json.dumps(_message(e)))
        os._exit(1)
    _flush_std_streams()
    send("R")
    for index, probe in enumerate(job.get("probes", ())):
        try:
            if "expr" in probe:
                value = eval(compile(probe["expr"], f"<probe {index}>", "eval"), namespace)
            elif "stdin" in probe:
                value = _run_with_stdin(code, probe["stdin"], index)
            else:
                owner = probe.get("method_of")
                function = getattr(namespace[owner](), probe["call"]) if owner else namespace[probe["call"]]
                value = function(*plain_data.decode(probe["args"]))
                if probe.get("transform") == "is_not_none":  # EvalPlus: tasks whose output is only checked
                    value = value is not None  # for being there
                elif probe.get("transform") == "bool_or_not_none":
                    value = value if type(value) is bool else value is not None
            line = f"{index} {plain_data.encode(value, _normalize)}"
        except BaseException as e:  # SystemExit in a probe fails that probe
            line = f"{index} !{json.dumps(_message(e))}"
        _flush_std_streams()
        send(line)
    send("D")
    os._exit(0)


def _run_with_stdin(code, text: str, index: int) -> str:
    """Run the compiled program as a script in a fresh child with `text` on stdin; return its stdout.
    A crash (an exception, a non-zero exit, a signal) raises: the judge records it as a runtime error."""
    path = f".stdin-{index}"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            os.dup2(os.open(path, os.O_RDONLY), 0)
            os.dup2(write_end, 1)
            sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)
            exec(code, {"__name__": "__main__", "__builtins__": builtins})
        except SystemExit as e:
            _flush_std_streams()
            os._exit(0 if e.code in (None, 0) else 1)
        except BaseException as e:
            with contextlib.suppress(BaseException):
                sys.stderr.write(_message(e) + "\n")
            _flush_std_streams()
            os._exit(1)
        _flush_std_streams()
        os._exit(0)
    os.close(write_end)
    chunks, size = [], 0
    while chunk := os.read(read_end, 1 << 16):
        chunks.append(chunk)
        size += len(chunk)
        if size > plain_data.MAX_BYTES:
            os.kill(pid, signal.SIGKILL)
            break
    os.close(read_end)
    status = os.waitpid(pid, 0)[1]
    if size > plain_data.MAX_BYTES:
        raise RuntimeError("OutputLimitExceeded: standard output larger than the cap")
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise RuntimeError("RuntimeError: the program exited abnormally")
    return b"".join(chunks).decode("utf-8", errors="replace")


def _message(e: BaseException) -> str:
    try:
        return f"{type(e).__name__}: {e}"[:500]
    except BaseException:  # a hostile __str__
        return type(e).__name__


def _normalize(value):
    """Standard-library containers that compare equal to plain data cross as that plain data."""
    t = type(value)
    if t in (collections.OrderedDict, collections.defaultdict, collections.Counter):
        return dict(dict.items(value))
    if isinstance(value, tuple) and isinstance(getattr(t, "_fields", None), tuple):  # a namedtuple
        return tuple(tuple.__iter__(value))
    return None


def _restore_builtins(pristine_builtins: dict):
    builtins.__dict__.clear()
    builtins.__dict__.update(pristine_builtins)


def _flush_std_streams():
    for stream in (sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(BaseException):
            stream.flush()


def _hold_namespace(init: int):
    """The process outside the PID namespace: lets go of the protocol pipes and waits for init."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    status = os.waitpid(init, 0)[1]
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _kill_namespace(patience: float = 10.0) -> dict:
    """As init of the PID namespace: SIGKILL every other process in it and reap them all."""
    statuses = {}
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            os.kill(-1, signal.SIGKILL)  # from init, -1 means every process of the namespace but init
        except ProcessLookupError:
            break
        reaped = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            statuses[pid] = status
            reaped = True
        if not reaped:
            time.sleep(0.0005)
    return statuses


def _kill_all_of_uid(uid: int):
    """kill(-1) as the candidate's uid reaches exactly the processes of that uid (bounded by NPROC)."""
    for _ in range(50):
        killer = os.fork()
        if killer == 0:
            try:
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                os._exit(0)
            except BaseException:
                os._exit(2)
            os._exit(1)
        if os.waitstatus_to_exitcode(os.waitpid(killer, 0)[1]) != 1:
            return


def _drop_all_capabilities():
    for capability in range(64):
        try:
            _libc_call(
                "prctl",
                PR_CAPBSET_DROP,
                ctypes.c_ulong(capability),
                ctypes.c_ulong(0),
                ctypes.c_ulong(0),
                ctypes.c_ulong(0),
            )
        except OSError:
            break

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    _libc_call("capset", ctypes.byref(Header(0x20080522, 0)), ctypes.byref((Data * 2)()))


def _report(
    kind, results, status, timed_out, output_capped, output, stdout, results_capped, seconds, isolation
):
    """A judged job's outcome: what the candidate reported, for the judge to decide on (never "passed")."""
    text = output.decode(errors="replace")
    exit_code, signal_number = _decode_status(status)
    if timed_out:
        state, error = "timed out", "TimeoutError: wall-clock limit reached"
    elif output_capped:
        state, error = "failed", "OutputLimitExceeded: captured output cap reached"
    elif results_capped:
        state, error = "failed", "ResultLimitExceeded: results larger than the cap"
    elif signal_number is not None:
        if signal_number == signal.SIGXCPU:
            state, error = "timed out", "TimeoutError: CPU-time limit reached"
        else:
            reason = {signal.SIGXFSZ: "FileSizeLimitExceeded", signal.SIGSEGV: "SegmentationFault"}.get(
                signal_number, "Killed"
            )
            state, error = "failed", f"{reason}: killed by {signal.Signals(signal_number).name}"
    elif exit_code == 0:
        state, error = "finished", None
    else:
        state, error = "failed", f"EarlyExit: exited with status {exit_code}"
    outcome = _outcome(state, error, text, seconds, isolation)
    outcome["results"] = results.decode("utf-8", errors="replace")
    if stdout is not None:
        outcome["stdout"] = stdout.decode("utf-8", errors="replace")
    return outcome


def _classify(results, status, timed_out, output_capped, output, nonce, seconds, isolation) -> dict:
    text = output.decode(errors="replace")
    if timed_out:
        return _outcome("timed out", "TimeoutError: wall-clock limit reached", text, seconds, isolation)
    records = []
    for line in results.decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    exit_code, signal_number = _decode_status(status)
    finished = any(r.get("finished") == nonce for r in records)
    if finished and exit_code == 0 and signal_number is None and not output_capped:
        return _outcome("passed", None, text, seconds, isolation)
    if output_capped:
        return _outcome(
            "failed", "OutputLimitExceeded: captured output cap reached", text, seconds, isolation
        )
    if signal_number is not None:
        if signal_number == signal.SIGXCPU:
            return _outcome("timed out", "TimeoutError: CPU-time limit reached", text, seconds, isolation)
        reason = {signal.SIGXFSZ: "FileSizeLimitExceeded", signal.SIGSEGV: "SegmentationFault"}.get(
            signal_number, "Killed"
        )
        return _outcome(
            "failed", f"{reason}: killed by {signal.Signals(signal_number).name}", text, seconds, isolation
        )
    errors = [r["error"] for r in records if isinstance(r.get("error"), str)]
    if errors:
        return _outcome("failed", errors[-1], text, seconds, isolation)
    return _outcome(
        "failed",
        f"EarlyExit: exited with status {exit_code} before the tests finished",
        text,
        seconds,
        isolation,
    )


def _decode_status(status: int):
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status), None


def _write_all(fd: int, data: bytes):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_line(fd: int, record: dict):
    _write_all(fd, json.dumps(record).encode() + b"\n")


def _serve_main(argv: list[str]):
    config = json.loads(argv[argv.index("--serve") + 1])
    server = _Server(Limits(**config["limits"]), config["isolation"])
    server.serve()


if __name__ == "__main__":
    if "--serve" in sys.argv:
        _serve_main(sys.argv)
    else:
        print(__doc__)

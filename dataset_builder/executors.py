"""Run the extraction pipeline with a datatrove executor (local, Slurm, Ray) and publish the config.

    report = build_with_datatrove(source, "build/ds", executor="local", tasks=8, workers=2)

Every build stages under `<output>/.staging/<config>/`: datatrove's logging
folder (`logs/`: completion markers, per-task stats and logs, the Slurm script),
the tasks' Parquet parts and their skip examples, and `build.json`, what the
build is (source, input files' sizes and times, filter, tasks). A re-run of the
same command finds that folder and datatrove skips the tasks whose completion
marker exists, so only unfinished tasks run again; a different build (other
input, filter or task count) starts from an empty staging folder. The output
folder itself changes only when every task has finished (`publish.py`).

Slurm runs the tasks as a job array and publishes from one more job that waits
for it (`afterok`); `build_with_datatrove` returns after submitting.
"""

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.executor.ray import RayPipelineExecutor
from datatrove.executor.slurm import SlurmPipelineExecutor
from datatrove.pipeline.base import PipelineStep

from . import writer
from .pipeline import extraction_pipeline
from .publish import LOGS_DIR, IncompleteBuildError, _ranks, publish_config

EXECUTORS = ("local", "slurm", "ray")
# datatrove logs a task at INFO on stderr only for local rank 0; any other rank logs errors only there
# (everything still goes to the task's log file). Tasks are run under this rank so a build stays quiet.
QUIET_LOCAL_RANK = 1
# Memory Ray reserves per task (one CPU each): serializing one huge function stays well under it.
RAY_MEM_PER_CPU_GB = 1


@dataclass
class SlurmOptions:
    partition: str
    time: str = "4:00:00"
    logs: str | None = (
        None  # folder of the raw `%A_%a.out` files (default: <output>/.staging/<config>-jobs/slurm_logs)
    )
    cpus_per_task: int = 1
    mem_per_cpu_gb: int = 2
    job_name: str | None = None


@dataclass
class BuildPlan:
    """Everything a build needs to run its tasks and to publish, picklable for Slurm and Ray."""

    source: object
    output: str
    filter_name: str
    tasks: int
    repo_id: str
    command: str
    pair_configs: tuple = ()
    seed: int = 0
    overwrite: bool = False
    default_config: str | None = None

    @property
    def staged(self) -> Path:
        return Path(self.output) / writer.STAGING_DIR / self.source.config

    @property
    def logs(self) -> Path:
        return self.staged / LOGS_DIR


def quiet_datatrove_logs(level: str = "ERROR") -> None:
    """Only datatrove's errors on this process's stderr; the summary line says the rest."""
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level=level, format="{message}")


class _QuietTasks:
    """Tasks log to their log file only: a failed task's traceback is there, the command prints one line."""

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        # datatrove's task logger writes errors to the `sys.stderr` it finds when the task starts.
        try:
            with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
                return super()._run_for_rank(rank, QUIET_LOCAL_RANK, node_rank)
        finally:
            quiet_datatrove_logs()  # datatrove puts its default (DEBUG) stderr logger back after a task


class QuietLocalExecutor(_QuietTasks, LocalPipelineExecutor):
    pass


class QuietRayExecutor(_QuietTasks, RayPipelineExecutor):
    pass


class SlurmJobExecutor(SlurmPipelineExecutor):
    """datatrove's Slurm executor without its extra stats-merging job: the publish job merges every task's
    stats itself (and removes the staging folder that job would write into)."""

    def launch_merge_stats(self):
        pass


class PublishStep(PipelineStep):
    """The Slurm job that publishes the config (and draws its pair configs) once the task array is done."""

    type = "💽 - WRITER"
    name = "codereps publish"

    def __init__(self, plan: BuildPlan, execution: dict):
        super().__init__()
        self.plan = plan
        self.execution = execution

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        finish(self.plan, self.execution, seconds=_elapsed_since_staged(self.plan), log=print)
        yield from ()


def build_identity(plan: BuildPlan) -> dict:
    return {
        "config": plan.source.config,
        "source": plan.source.name,
        "input": plan.source.input_description(),
        "input_files": input_fingerprint(plan.source),
        "filter": plan.filter_name,
        "tasks": plan.tasks,
    }


def input_fingerprint(source) -> str:
    """A hash of the input files' paths, sizes and modification times (a Hub input is named in `input`)."""
    root = Path(getattr(source, "root", ""))
    paths = list(getattr(source, "files", [])) or [getattr(source, "path", "")]
    digest = hashlib.sha256()
    for name in paths:
        path = root / name if name else None
        if path is not None and path.is_file():
            st = path.stat()
            digest.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def prepare_staging(plan: BuildPlan, log=print) -> int:
    """Make `plan.staged` hold this build; returns how many tasks an earlier attempt already finished."""
    staged, identity = plan.staged, build_identity(plan)
    record = staged / "build.json"
    if record.is_file():
        try:
            same = json.loads(record.read_text()) == identity
        except ValueError:
            same = False
        if same:
            done = (
                len(list((plan.logs / "completions").glob("*")))
                if (plan.logs / "completions").is_dir()
                else 0
            )
            return done
        log(f"codereps dataset: {staged} holds another build of {plan.source.config}; starting over")
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    record.write_text(json.dumps(identity, indent=2) + "\n")
    return 0


def build_with_datatrove(
    plan: BuildPlan,
    *,
    executor: str = "local",
    workers: int | None = None,
    slurm: SlurmOptions | None = None,
    ray_address: str | None = None,
    log=print,
) -> dict | None:
    """Run the plan's tasks and publish (`None` for Slurm: the publish job does it when the array ends)."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    source = plan.source
    writer.check_can_write(plan.output, [source.config, *plan.pair_configs], plan.overwrite)
    workers = max(1, min(workers or os.cpu_count() or 1, plan.tasks)) if executor != "slurm" else workers
    done = prepare_staging(plan, log)
    pipeline = extraction_pipeline(source, plan.filter_name, plan.staged)
    execution = {"executor": executor, "tasks": plan.tasks, "workers": workers if workers else "all"}
    resumed = f", {done} of {plan.tasks} task(s) already finished" if done else ""
    log(
        f"codereps dataset: building {source.config} from {source.input_description()} with datatrove "
        f"({executor} executor, {plan.tasks} task(s), {execution['workers']} worker(s){resumed})"
    )
    quiet_datatrove_logs()
    if executor == "slurm":
        submit_to_slurm(plan, pipeline, slurm, workers, execution, log)
        return None
    started = time.perf_counter()
    if executor == "local":
        runner = QuietLocalExecutor(pipeline, tasks=plan.tasks, workers=workers, logging_dir=str(plan.logs))
        _run_tasks(runner, plan)
    else:
        with local_ray(ray_address, workers):
            runner = QuietRayExecutor(
                pipeline,
                tasks=plan.tasks,
                workers=workers,
                logging_dir=str(plan.logs),
                cpus_per_task=1,
                mem_per_cpu_gb=RAY_MEM_PER_CPU_GB,
            )
            _run_tasks(runner, plan)
    return finish(plan, execution, seconds=time.perf_counter() - started, log=log)


def _run_tasks(runner, plan: BuildPlan) -> None:
    failure = None
    try:
        runner.run()
    except Exception as e:  # noqa: BLE001 - a failed task: say which tasks are unfinished and where their logs are
        failure = f"{type(e).__name__}: {e}"
    unfinished = runner.get_incomplete_ranks(range(plan.tasks))
    if unfinished:
        raise IncompleteBuildError(
            f"codereps dataset: {plan.source.config}: task(s) {_ranks(unfinished)} of {plan.tasks} did not finish"
            + (f" ({failure})" if failure else "")
            + f"; logs in {plan.logs / 'logs'}; run the same command again to redo only those tasks"
        )


def finish(plan: BuildPlan, execution: dict, *, seconds: float, log=print) -> dict:
    """Publish the config from the finished tasks, then draw its pair configs over whole splits."""
    from .pairs import build_pair_config
    from .report import summary_line

    report = publish_config(
        plan.source,
        plan.output,
        plan.staged,
        tasks=plan.tasks,
        filter_name=plan.filter_name,
        command=plan.command,
        repo_id=plan.repo_id,
        execution=execution,
        seconds=seconds,
        default_config=plan.default_config,
    )
    log(summary_line(report))
    for pair_config in plan.pair_configs:
        build_pair_config(
            plan.output,
            plan.source.config,
            pair_config,
            seed=plan.seed,
            overwrite=plan.overwrite,
            repo_id=plan.repo_id,
            command=plan.command,
            log=log,
        )
    return report


def _elapsed_since_staged(plan: BuildPlan) -> float:
    return max(0.0, time.time() - (plan.staged / "build.json").stat().st_mtime)


class local_ray:
    """Connect to the Ray cluster at `address` (or `RAY_ADDRESS`), to one already up in this process, or
    start a local instance with `workers` CPUs for the build and stop it afterwards."""

    def __init__(self, address: str | None, workers: int):
        self.address = address or os.environ.get("RAY_ADDRESS")
        self.workers = workers
        self.started = False

    def __enter__(self):
        import ray

        if ray.is_initialized():
            return self
        # Ray's workers import the pipeline's classes: give them this checkout on their path.
        project = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (project, os.environ.get("PYTHONPATH")) if p)
        runtime_env = {"env_vars": {"PYTHONPATH": path}}
        if self.address:
            ray.init(address=self.address, runtime_env=runtime_env, log_to_driver=False)
        else:
            ray.init(
                num_cpus=self.workers,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env=runtime_env,
                configure_logging=False,
            )
        self.started = True
        return self

    def __exit__(self, *exc):
        if self.started:
            import ray

            ray.shutdown()


def submit_to_slurm(plan: BuildPlan, pipeline, options: SlurmOptions | None, workers, execution, log) -> None:
    """Submit the task array and the publish job (`sbatch`); datatrove writes `logs/launch_script.slurm`."""
    if options is None or not options.partition:
        raise ValueError("--executor slurm needs --slurm-partition")
    job_name = options.job_name or f"codereps-{plan.source.config}"
    venv = Path(sys.prefix) / "bin" / "activate"
    common = {
        "time": options.time,
        "partition": options.partition,
        "cpus_per_task": options.cpus_per_task,
        "mem_per_cpu_gb": options.mem_per_cpu_gb,
        "venv_path": str(venv) if venv.is_file() else None,
        "qos": None,
        "mail_type": "NONE",
    }
    jobs = (
        Path(plan.output) / writer.STAGING_DIR / f"{plan.source.config}-jobs"
    )  # outlives the staging folder
    publish_logs = jobs / "publish"
    if publish_logs.exists():
        shutil.rmtree(publish_logs)  # a new submission publishes again (its completion marker would skip it)
    slurm_logs = options.logs or str(jobs / "slurm_logs")
    tasks_job = SlurmJobExecutor(
        pipeline,
        tasks=plan.tasks,
        workers=workers or -1,
        job_name=job_name,
        logging_dir=str(plan.logs),
        slurm_logs_folder=slurm_logs,
        **common,
    )
    publish_job = SlurmJobExecutor(
        [PublishStep(plan, execution)],
        tasks=1,
        job_name=f"{job_name}-publish",
        logging_dir=str(publish_logs),
        slurm_logs_folder=slurm_logs,
        depends=tasks_job,
        **common,
    )
    publish_job.run()
    tasks_id = tasks_job.job_id if tasks_job.job_id != -1 else "none (all tasks already finished)"
    log(
        f"codereps dataset: submitted Slurm job array {tasks_id} ({plan.tasks} task(s)) and publish job "
        f"{publish_job.job_id}; {plan.source.config} appears in {plan.output} when they finish; script: "
        f"{plan.logs / 'launch_script.slurm'}; re-run the same command to resubmit unfinished tasks"
    )

"""The job controller: takes a stored Training or Processing job from InProgress to the end.

One thread a job (``JobRun``) walks it through the stages SageMaker reports (reference §4.2):

    Starting ──► (Pending: waiting for capacity) ──► Downloading ──► Training ──► Uploading ──► Completed
        any stage: Stop → Stopping → Stopped;  MaxRuntimeInSeconds → Stopping → Stopped/MaxRuntimeExceeded;
        an image that cannot be resolved, input that cannot be fetched, an instance that fails → Failed

Starting covers resolving the image: an image that cannot be resolved fails the job before any
instance starts, so it leaves no log stream (as on SageMaker, where no logs means the container
never started). Each instance is started by a runner (jobs/runners) wrapped in the agent
(``python -m sagewatch.agent``), which ships its output and resource metrics to the server and
writes ``exit.json`` only once every line is delivered; so when every instance has exited, the
job's logs are complete before its status turns terminal (the SDKs stop reading then, §11.2).

Everything a run needs to resume lives in the job's stored ``runtime``: its instances' runner
handles, the stage it reached, why it is being stopped. A restarted server re-adopts every
unfinished job (``start``): launched instances are watched again (their agents kept running and
spooling) and take back their capacity before any waiting job is queued, jobs that had not launched
start over, a job whose launch was cut short is failed rather than launched twice, and a job whose
agent died without reporting is failed with a clear reason.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import Clock
from ..services.sagemaker import jobs as lifecycle
from ..store.jobs import JobRecord, JobStore
from . import contract, data, images
from .capacity import Capacity
from .runners.base import InstanceExit, InstanceSpec, Runner
from .runners.process import read_json

log = logging.getLogger(__name__)

# How often a run looks at its instances, its stop flag and its deadline. The agent delivers a
# line within 200 ms and writes exit.json after; a tenth of a second here keeps the end of a job
# prompt without measurable cost (one stat per instance).
POLL_SECONDS = 0.1
# reference §3.3: ExitMessage is the first 1 KB of /opt/ml/output/message.
EXIT_MESSAGE_BYTES = 1024
# reference §3.1 (aws/graph-notebook #145, 2022): a non-zero exit without a failure file.
NO_FAILURE_FILE_REASON = "AlgorithmError: See job logs for more information"
# No AWS text exists for these (a sagewatch agent is ours); they say what happened and what to check.
# A server that stopped while it was launching a job's instances cannot know which of them started
# (a handle is stored only once its launch returned), so the job is not launched again: an
# instance must never run twice. The instances it knows of are killed.
LAUNCH_INTERRUPTED_REASON = (
    "InternalServerError: The sagewatch server stopped while it was launching this job's instances, "
    "so whether each one started is unknown; the job was not started again, so that no instance "
    "runs twice. Create it again under a new name."
)
AGENT_LOST_REASON = (
    "InternalServerError: The sagewatch agent of instance {host} stopped without reporting how the "
    "instance ended (was it killed, or the machine restarted?). See {state_dir}/agent.log."
)
KIND_PREFIX = {"TrainingJob": "Training", "ProcessingJob": "Processing"}


class Stopped(Exception):
    """The run was asked to stop before its instances were launched."""


class ShuttingDown(Exception):
    """The server is stopping before the run launched anything: the job is left as it is
    stored, and the next start takes it up from the beginning."""


@dataclass
class JobRun:
    kind: str
    name: str
    thread: threading.Thread | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event)


class JobController:
    """The SageMaker service's ``JobRunner``: ``submit`` after a job is stored, ``stop`` after it
    is marked Stopping. server.py makes it a lifecycle part: ``start`` re-adopts unfinished jobs,
    ``shutdown`` lets go of them (their agents go on; the next start re-adopts them)."""

    def __init__(
        self, store: JobStore, runner: Runner, capacity: Capacity, *, work_dir: Path,
        endpoint: str, region: str, stop_grace_seconds: float,
        listeners: lifecycle.JobStateListeners, clock: Clock, storage: data.Storage,
        resolve_settings=None,
    ) -> None:
        self.store = store
        self.runner = runner
        self.capacity = capacity
        self.work_dir = Path(work_dir)
        self.endpoint = endpoint
        self.region = region
        self.stop_grace_seconds = stop_grace_seconds
        self.listeners = listeners
        self.clock = clock
        self.storage = storage  # channels in, model and outputs out (file:// and s3://)
        self.resolve_settings = resolve_settings
        self._runs: dict[tuple[str, str], JobRun] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()

    # -- the JobRunner interface the SageMaker service calls ------------------------------------

    def submit(self, job: JobRecord) -> None:
        self._start_run(job, adopt=False)

    def stop(self, job: JobRecord) -> None:
        with self._lock:
            run = self._runs.get((job.kind, job.name))
        if run is not None:
            run.stop_requested.set()
            self.capacity.wake()

    # -- the lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        # Oldest first, so jobs that were waiting for capacity keep their place in the queue.
        for job in sorted(self.store.unfinished(), key=lambda j: j.creation_time):
            self._start_run(job, adopt=True)

    def shutdown(self) -> None:
        self._closing.set()
        self.capacity.wake()
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            if run.thread is not None:
                run.thread.join(timeout=5)

    def _start_run(self, job: JobRecord, *, adopt: bool) -> None:
        run = JobRun(job.kind, job.name)
        if job.status == "Stopping":
            run.stop_requested.set()
        with self._lock:
            if (job.kind, job.name) in self._runs:
                return
            self._runs[job.kind, job.name] = run
            if adopt and job.runtime.get("launching"):
                pass  # interrupted while launching: it is ended, never given capacity again
            elif adopt and job.runtime.get("instances"):
                # Take back what the running instances use here, before start() queues the
                # next job: done in the job's thread, a waiting job's thread could be granted
                # the same CPUs and GPUs first.
                instance_type = (job.runtime.get("instance_type")
                                 or contract.instance_shape(job.kind, job.request)[0])
                self.capacity.adopt((job.kind, job.name), instance_type,
                                    [i.get("gpus", []) for i in job.runtime["instances"]])
            else:
                # Queue for capacity here, in the order jobs are submitted (or, on a restart, were
                # created), not in the order their threads happen to get going.
                self.capacity.enqueue((job.kind, job.name), *contract.instance_shape(job.kind, job.request))
        run.thread = threading.Thread(
            target=self._run, args=(run, adopt), name=f"job {job.kind} {job.name}", daemon=True)
        run.thread.start()

    # -- one job, start to end ------------------------------------------------------------------

    def _run(self, run: JobRun, adopt: bool) -> None:
        try:
            job = self.store.get(run.kind, run.name)
            if job is None or job.status not in ("InProgress", "Stopping"):
                return
            launched = job.runtime.get("instances")
            if adopt and job.runtime.get("launching"):
                self._kill_instances(job)
                self._end(run, "Failed", failure_reason=LAUNCH_INTERRUPTED_REASON)
            elif adopt and launched:
                self._watch(run, job)
            else:
                self._from_the_start(run, job)
        except ShuttingDown:
            pass
        except Exception as error:  # a bug of ours must still end the job, with a reason
            log.exception("job %s %s failed in the controller", run.kind, run.name)
            # Its instances, if any were launched, would run on unwatched and beyond the capacity
            # that is released below.
            self._kill_instances(self.store.get(run.kind, run.name))
            self._end(run, "Failed", failure_reason=f"InternalServerError: {error}")
        finally:
            self.capacity.release((run.kind, run.name))
            with self._lock:
                self._runs.pop((run.kind, run.name), None)

    def _from_the_start(self, run: JobRun, job: JobRecord) -> None:
        request = job.request
        try:
            resolved = images.resolve(job.kind, request, self.resolve_settings)
        except images.ImageError as error:
            self._end(run, "Failed", failure_reason=str(error))
            return
        instance_type, count = contract.instance_shape(job.kind, request)
        allocation = self._wait_for_capacity(run, instance_type, count)
        if allocation is None:
            self._end(run, "Stopped")
            return
        self._advance(run, "Downloading")
        epoch = int(self.clock.now())
        job_dir = self.work_dir / run.kind / run.name
        if job_dir.exists():  # a run that a crash interrupted before launch starts over
            shutil.rmtree(job_dir, ignore_errors=True)
        hosts = contract.hosts_of(count)
        specs = []
        try:
            for index, host in enumerate(hosts):
                if run.stop_requested.is_set():  # before each instance's download, not after
                    raise Stopped
                if self._closing.is_set():
                    raise ShuttingDown
                ml_root = job_dir / host / "ml"
                state_dir = job_dir / host / "agent"
                state_dir.mkdir(parents=True, exist_ok=True)
                layout = contract.build(job.kind, job, host, hosts, ml_root,
                                        gpus=allocation.gpus_of(index), cpus=allocation.cpus_of(index),
                                        resolved=resolved)
                data.fetch_inputs(job.kind, request, layout, instance_index=index,
                                  instance_count=count, storage=self.storage)
                command = resolved.command_for(layout)
                specs.append(self._spec(job, host, epoch, layout, command, state_dir,
                                        allocation.gpus_of(index), resolved))
            if run.stop_requested.is_set():
                raise Stopped
        except Stopped:
            self._end(run, "Stopped")
            return
        except data.DataError as error:
            self._end(run, "Failed", failure_reason=str(error))
            return
        if self._closing.is_set():
            raise ShuttingDown
        # Marked before the first launch and each handle stored as soon as it exists: a server
        # that stops in between leaves the mark, and the next one neither launches the job again
        # (it would run twice) nor watches only the instances it heard of (LAUNCH_INTERRUPTED_REASON).
        self._save_runtime(run, {"launching": [spec.host for spec in specs], "instances": [],
                                 "epoch": epoch, "instance_type": instance_type})
        instances = []
        for spec in specs:
            handle = self.runner.launch(spec)
            instances.append({"host": spec.host, "handle": handle, "ml_root": str(spec.ml_root),
                              "state_dir": str(spec.state_dir), "gpus": spec.gpus})
            self._save_runtime(run, {"instances": list(instances)})
        self._update(run, lambda job: job.runtime.pop("launching", None))
        self._advance(run, "Training")
        self._watch(run, self.store.get(run.kind, run.name))

    def _wait_for_capacity(self, run: JobRun, instance_type: str, count: int):
        """Blocks until the job fits, in submission order; None when it is stopped meanwhile."""
        pending = False
        ticket = self.capacity.enqueue((run.kind, run.name), instance_type, count)
        while True:
            allocation = self.capacity.try_allocate(ticket)
            if allocation is not None:
                return allocation
            if self._closing.is_set():
                raise ShuttingDown
            if run.stop_requested.is_set():
                self.capacity.release((run.kind, run.name))
                return None
            if not pending:
                pending = True
                self._advance(run, "Pending")  # with AWS's capacity message (jobs.PENDING_MESSAGE)
            self.capacity.wait(POLL_SECONDS * 5)

    def _spec(self, job, host, epoch, layout, command, state_dir, gpus, resolved) -> InstanceSpec:
        group = f"/aws/sagemaker/{job.kind}s"
        return InstanceSpec(
            job_kind=job.kind, job_name=job.name, host=host, command=command, env=layout.env,
            workdir=layout.workdir, ml_root=layout.ml_root, state_dir=state_dir,
            # reference §1: <job>/algo-<n>-<epoch seconds>, one epoch for all hosts of a job.
            log_group=group, log_stream=f"{job.name}/{host}-{epoch}",
            # reference §2.1: Host = <job>/algo-<n> in the job kind's namespace.
            metric_namespace=group, metric_host=f"{job.name}/{host}",
            gpus=list(gpus), stop_grace_seconds=self.stop_grace_seconds, image=resolved.image,
            endpoint=self.endpoint, region=self.region,
        )

    # -- watching launched instances ------------------------------------------------------------

    def _watch(self, run: JobRun, job: JobRecord) -> None:
        instances = job.runtime["instances"]
        exits: dict[str, InstanceExit] = {}
        signalled = False
        deadline = self._deadline(job)
        while len(exits) < len(instances):
            for instance in instances:
                if instance["host"] not in exits:
                    ended = self.runner.poll(instance["handle"])
                    if ended is not None:
                        exits[instance["host"]] = ended
            if len(exits) == len(instances):
                break
            failed = any(not self._succeeded(e) for e in exits.values())
            if not signalled and self.clock.now() >= deadline:
                self._request_stop(run, "MaxRuntimeExceeded")
            if not signalled and (run.stop_requested.is_set() or failed):
                # One failed instance fails the job; the others are stopped (SIGTERM, then
                # SIGKILL after the grace period: the agent escalates).
                signalled = True
                for instance in instances:
                    if instance["host"] not in exits:
                        self.runner.stop(instance["handle"])
            if self._closing.is_set():
                return  # the server is stopping: the agents go on, a restart re-adopts the job
            time.sleep(POLL_SECONDS)
        self._conclude(run, self.store.get(run.kind, run.name), instances, exits)

    def _deadline(self, job: JobRecord) -> float:
        # Without a StoppingCondition the limit is AWS's default of one day, the one Describe
        # reports (lifecycle.max_runtime_seconds; botocore StoppingCondition "The default value
        # is 1 day").
        start = job.start_time or job.creation_time
        return start + lifecycle.max_runtime_seconds(job)

    def _request_stop(self, run: JobRun, reason: str) -> None:
        """MaxRuntimeInSeconds passed: Stopping now, Stopped/MaxRuntimeExceeded at the end."""
        def change(job: JobRecord) -> None:
            if job.status == "InProgress":
                job.runtime["stop_reason"] = reason
                lifecycle.begin_stopping(job, self._now())
        self._update(run, change)
        run.stop_requested.set()

    def _kill_instances(self, job: JobRecord | None) -> None:
        if job is None:
            return
        handles = {i["host"]: i["handle"] for i in job.runtime.get("instances") or []}
        # An instance whose launch was cut short before its handle was stored may still have
        # started: its agent wrote agent.json in the state directory the controller gave it.
        for host in job.runtime.get("launching") or []:
            if host not in handles:
                state_dir = self.work_dir / job.kind / job.name / host / "agent"
                started = read_json(state_dir / "agent.json")
                if started and started.get("agent_pid"):
                    handles[host] = {"runner": self.runner.name, "agent_pid": started["agent_pid"],
                                     "state_dir": str(state_dir)}
        for host, handle in handles.items():
            try:
                self.runner.kill(handle)
            except Exception:
                log.exception("job %s %s: killing instance %s failed", job.kind, job.name, host)

    @staticmethod
    def _succeeded(ended: InstanceExit) -> bool:
        return not ended.agent_lost and ended.exit_code == 0

    def _conclude(self, run: JobRun, job: JobRecord, instances: list[dict],
                  exits: dict[str, InstanceExit]) -> None:
        stopping = job.status == "Stopping" or run.stop_requested.is_set()
        lost = [i for i in instances if exits[i["host"]].agent_lost]
        failed = [i for i in instances if not self._succeeded(exits[i["host"]])]
        failure_reason = None
        if lost:
            first = lost[0]
            failure_reason = AGENT_LOST_REASON.format(host=first["host"], state_dir=first["state_dir"])
        elif failed and not stopping:
            # A runner that saw the instance fail to start (docker: no such entrypoint) says why.
            failure_reason = next(
                (reason for i in failed if (reason := exits[i["host"]].failure_reason)),
                None) or self._failure_reason(failed)
        exit_message = self._exit_message(instances) if run.kind == "ProcessingJob" else None
        outcome = "Failed" if failure_reason else ("Stopped" if stopping else "Completed")
        # reference §3.1: a training job's model is uploaded when it completes and when it is
        # stopped ("For successful jobs and stopped jobs, this is the time after model artifacts
        # are uploaded"); a processing job's outputs when it completes (S3UploadMode EndOfJob).
        if outcome == "Completed" or (outcome == "Stopped" and run.kind == "TrainingJob"):
            self._advance(run, "Uploading")
            try:
                artifacts = data.upload_outputs(run.kind, job.request, [Path(i["ml_root"]) for i in instances],
                                               storage=self.storage)
            except data.DataError as error:
                outcome, failure_reason, artifacts = "Failed", str(error), None
        else:
            artifacts = None
        self._end(run, outcome, failure_reason=failure_reason, exit_message=exit_message,
                  model_artifacts=artifacts)

    @staticmethod
    def _failure_reason(failed: list[dict]) -> str:
        # reference §3.1: FailureReason is the first 1024 characters of /opt/ml/output/failure;
        # lifecycle.finish cuts every FailureReason to that length.
        for instance in failed:
            raw = _read_in_tree(Path(instance["ml_root"]), "output/failure")
            if raw is None:
                continue
            text = raw.decode("utf-8", errors="replace")
            if text.strip():
                return "AlgorithmError: " + text
        return NO_FAILURE_FILE_REASON

    @staticmethod
    def _exit_message(instances: list[dict]) -> str | None:
        # reference §3.3: the containers' messages are concatenated, then cut to 1 KB.
        message = b""
        for instance in instances:
            message += _read_in_tree(Path(instance["ml_root"]), "output/message") or b""
        if not message:
            return None
        return message[:EXIT_MESSAGE_BYTES].decode("utf-8", errors="ignore")

    # -- status changes, all through the store --------------------------------------------------

    def _now(self) -> float:
        """The time, to the millisecond, as AWS keeps job times (reference §4.2) and as the
        service stamps CreationTime (clock.now_ms truncates, as the service's floor does)."""
        return self.clock.now_ms() / 1000

    def _update(self, run: JobRun, change) -> JobRecord:
        # The status before is read inside the update's transaction: read before it, a change
        # another writer made in between (StopTrainingJob, which emits its own) was emitted twice.
        before: list[tuple[str, str | None]] = []

        def change_seen(job: JobRecord) -> None:
            before[:] = [(job.status, job.secondary_status)]
            change(job)

        after = self.store.update(run.kind, run.name, change_seen)
        if before and before[0] != (after.status, after.secondary_status):
            self.listeners.emit(before[0][0], after)
        return after

    def _save_runtime(self, run: JobRun, runtime: dict) -> None:
        def change(job: JobRecord) -> None:
            job.runtime.update(runtime)
        self._update(run, change)

    def _advance(self, run: JobRun, stage: str) -> None:
        """InProgress → ``stage``, with AWS's message for it (services/sagemaker/jobs.MESSAGES)."""
        def change(job: JobRecord) -> None:
            if job.status != "InProgress":
                return  # Stopping (or already ended): the stop's own transitions win
            lifecycle.advance(job, stage, None, self._now())
        self._update(run, change)

    def _end(self, run: JobRun, outcome: str, *, failure_reason: str | None = None,
             exit_message: str | None = None, model_artifacts: str | None = None) -> None:
        def change(job: JobRecord) -> None:
            if job.status not in ("InProgress", "Stopping"):
                return
            secondary = outcome
            if outcome == "Stopped" and job.runtime.get("stop_reason") == "MaxRuntimeExceeded":
                secondary = "MaxRuntimeExceeded"
            if model_artifacts is not None:
                job.model_artifacts = model_artifacts
            lifecycle.finish(job, outcome, secondary, None, self._now(),
                             failure_reason=failure_reason, exit_message=exit_message)
        self._update(run, change)


def _read_in_tree(ml_root: Path, relative: str) -> bytes | None:
    """A file the instance wrote in its /opt/ml, or None when there is none. The instance owns
    that tree (with the docker runner, a container's root does): a symbolic link it leaves there
    (output/failure -> /etc/shadow, or output -> /) resolves on this machine, so a file that does
    not resolve inside the tree is not read, and never into a FailureReason or an ExitMessage."""
    try:
        root = ml_root.resolve(strict=True)
        path = (ml_root / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None

"""Review of Step 4: the job controller's paths to an end, with its real parts.

Each test builds a JobController as server.py does — the SQLite job store, the real capacity
queue, the process runner, real agents shipping to the session's real server — but drives it
directly, so a test can own its clock (FakeClock: a day passes in no time) and play a server
restart at a chosen point (a second controller over the same store)."""

from __future__ import annotations

import sys
import time
import uuid

import pytest

from sagewatch.clock import FakeClock
from sagewatch.jobs.capacity import Capacity, Machine, instance_types
from sagewatch.jobs.controller import LAUNCH_INTERRUPTED_REASON, JobController
from sagewatch.jobs.data import Storage
from sagewatch.jobs.runners.base import InstanceSpec
from sagewatch.jobs.runners.process import ProcessRunner, start_time
from sagewatch.services.sagemaker import jobs as lifecycle
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.jobs import SQLiteJobStore

DEADLINE_SECONDS = 60
# A processing image the built-in mappings run on the host (jobs/images.py DEFAULT_IMAGES).
HOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
SLEEPER = "import time\nprint('up', flush=True)\ntime.sleep(120)\n"


@pytest.fixture
def store(tmp_path):
    database = Database(tmp_path / "jobs.db")
    yield SQLiteJobStore(database)
    database.close()


class Controllers:
    """Controllers over one store, as successive servers; every one is shut down at the end and
    every agent any of them launched is killed, so no test leaves a process behind."""

    def __init__(self, store, server, tmp_path):
        self.store, self.server, self.tmp_path = store, server, tmp_path
        self.made: list[JobController] = []
        self.runner = ProcessRunner()

    def new(self, clock=None, cpus: int = 2) -> JobController:
        controller = JobController(
            self.store, self.runner, Capacity(Machine(cpus=cpus, memory_gib=64.0, gpus=()), instance_types()),
            work_dir=self.tmp_path / "jobs", endpoint=self.server.endpoint, region="us-east-1",
            stop_grace_seconds=2, listeners=lifecycle.JobStateListeners(),
            clock=clock or FakeClock(time.time()), storage=Storage())
        self.made.append(controller)
        return controller

    def close(self):
        for controller in self.made:
            controller.shutdown()
        for job in self.store.list("ProcessingJob") + self.store.list("TrainingJob"):
            for instance in job.runtime.get("instances") or []:
                self.runner.kill(instance["handle"])


@pytest.fixture
def controllers(store, server, tmp_path):
    made = Controllers(store, server, tmp_path)
    yield made
    made.close()


def processing_job(store, clock, code: str, *, stopping_condition: dict | None = None, name: str | None = None):
    name = name or f"review-{uuid.uuid4().hex[:8]}"
    request = {
        "ProcessingJobName": name, "RoleArn": "arn:aws:iam::000000000000:role/R",
        "AppSpecification": {"ImageUri": HOST_IMAGE, "ContainerEntrypoint": [sys.executable, "-u", "-c", code]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 1}},
    }
    if stopping_condition is not None:
        request["StoppingCondition"] = stopping_condition
    job = lifecycle.new_job("ProcessingJob", name, f"arn:aws:sagemaker:us-east-1:000000000000:processing-job/{name}",
                            request, clock.now())
    store.create(job, {})
    return job


def wait_until(predicate, what: str):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def launched(store, job):
    def check():
        stored = store.get(job.kind, job.name)
        return bool(stored.runtime.get("instances")) and not stored.runtime.get("launching")
    wait_until(check, f"{job.name} to launch")
    return store.get(job.kind, job.name)


def alive(handle) -> bool:
    return start_time(handle["agent_pid"]) is not None


# -- MaxRuntimeInSeconds when the request has none ----------------------------------------------


def test_a_job_without_a_stopping_condition_is_stopped_after_the_one_day_default(store, controllers):
    """Describe reports StoppingCondition.MaxRuntimeInSeconds = 86400 for such a job
    (botocore StoppingCondition: "The default value is 1 day"); the controller must enforce the
    limit it reports, not let the job run for ever."""
    clock = FakeClock(time.time())
    controller = controllers.new(clock)
    job = processing_job(store, clock, SLEEPER)
    controller.submit(job)
    running = launched(store, job)
    clock.set(running.start_time + lifecycle.DEFAULT_MAX_RUNTIME_SECONDS + 1)
    wait_until(lambda: store.get(job.kind, job.name).status == "Stopped", "the job to be stopped")
    assert store.get(job.kind, job.name).runtime["stop_reason"] == "MaxRuntimeExceeded"


def test_a_job_within_its_default_runtime_is_not_stopped(store, controllers):
    clock = FakeClock(time.time())
    controller = controllers.new(clock)
    job = processing_job(store, clock, "import time\nprint('up', flush=True)\ntime.sleep(1.5)\n")
    controller.submit(job)
    running = launched(store, job)
    clock.set(running.start_time + lifecycle.DEFAULT_MAX_RUNTIME_SECONDS - 1)
    wait_until(lambda: store.get(job.kind, job.name).status in lifecycle.TERMINAL_STATUSES, "the job to end")
    assert store.get(job.kind, job.name).status == "Completed"


# -- a restart re-adopts running jobs ahead of waiting ones ---------------------------------------


def test_after_a_restart_a_waiting_job_never_gets_the_capacity_a_running_job_holds(store, controllers):
    """The machine holds one ml.m5.large (2 vCPUs). A runs, B waits. After a restart A's
    capacity must be taken back before B can be granted anything: both are re-adopted by one
    start(), and A's adoption used to happen later, in A's own thread."""
    clock = FakeClock(time.time())
    first = controllers.new(clock)
    a = processing_job(store, clock, SLEEPER)
    first.submit(a)
    launched(store, a)
    clock.advance(1)  # B is created after A: the restart queues by creation time
    b = processing_job(store, clock, SLEEPER)
    first.submit(b)
    wait_until(lambda: first.capacity.position((b.kind, b.name)) == 0, "B to wait for capacity")
    first.shutdown()  # A's agent goes on

    second = controllers.new(clock)
    second.start()
    # At once, A holds the machine: nothing is left for B.
    assert second.capacity._free_cpus == 0, "A's capacity was not taken back before B was queued"
    time.sleep(1.0)
    stored_b = store.get(b.kind, b.name)
    assert not stored_b.runtime.get("instances"), "B was launched beside the still running A"
    assert second.capacity.position((b.kind, b.name)) == 0


# -- a restart in the middle of launching -----------------------------------------------------------


def test_a_job_whose_launch_was_interrupted_is_not_launched_twice(store, controllers, server, tmp_path):
    """A server that stopped between starting an instance's agent and storing its handle. The
    next server must not start the job over (a second agent would run the same instance, in
    the same directory, beside the first): it fails the job with a clear reason and kills
    the instances it knows of."""
    clock = FakeClock(time.time())
    job = processing_job(store, clock, SLEEPER)
    # What the first server did before it stopped: one instance launched and recorded, the
    # second launched (its agent runs) but not recorded.
    runner = controllers.runner
    job_dir = tmp_path / "jobs" / job.kind / job.name
    epoch = int(clock.now())
    handles = []
    for host in ("algo-1", "algo-2"):
        ml_root = job_dir / host / "ml"
        ml_root.mkdir(parents=True)
        handles.append(runner.launch(InstanceSpec(
            job_kind=job.kind, job_name=job.name, host=host, command=[sys.executable, "-u", "-c", SLEEPER],
            env={}, workdir=None, ml_root=ml_root, state_dir=job_dir / host / "agent",
            log_group="/aws/sagemaker/ProcessingJobs", log_stream=f"{job.name}/{host}-{epoch}",
            metric_namespace="/aws/sagemaker/ProcessingJobs", metric_host=f"{job.name}/{host}",
            endpoint=server.endpoint, stop_grace_seconds=2)))
    recorded = {"host": "algo-1", "handle": handles[0], "ml_root": str(job_dir / "algo-1" / "ml"),
                "state_dir": str(job_dir / "algo-1" / "agent"), "gpus": []}

    def interrupted(stored):
        stored.runtime.update({"launching": ["algo-1", "algo-2"], "instances": [recorded],
                               "epoch": epoch, "instance_type": "ml.m5.large"})
    store.update(job.kind, job.name, interrupted)
    try:
        controller = controllers.new(clock)
        controller.start()
        wait_until(lambda: store.get(job.kind, job.name).status in lifecycle.TERMINAL_STATUSES, "the job to end")
        ended = store.get(job.kind, job.name)
        assert (ended.status, ended.failure_reason) == ("Failed", LAUNCH_INTERRUPTED_REASON)
        wait_until(lambda: not alive(handles[0]), "the recorded instance's agent to be killed")
        # The instance whose handle was never stored is found by its state directory and killed too.
        wait_until(lambda: not alive(handles[1]), "the unrecorded instance's agent to be killed")
        # Nothing launched again: the instances' directories are the first server's.
        assert (job_dir / "algo-2" / "agent" / "agent.json").exists()
        assert [i["handle"] for i in ended.runtime["instances"]] == [handles[0]]
    finally:
        for handle in handles:
            runner.kill(handle)

"""The jobs benchmark: how fast a SageMaker training job starts, how fast its lines can be read,
and how 20 of them at once compare with one alone.

    python benchmarks/run.py jobs [--quick] [--no-save]
    python benchmarks/jobs_bench.py [--quick] [--no-save]

A real sagewatch server (temporary data directory, the default ``process`` runner, private /opt/ml
where the machine allows it) runs real script-mode training jobs created with boto3, exactly as
the e2e tests create them (``tests/e2e/jobs.py`` ``training_request``): the controller resolves the
image, builds the /opt/ml tree, starts ``python -m sagewatch.agent`` and the script under it. Every
time is ``time.time()`` on this one machine, so client, server, agent and script share a clock.

- **CreateTrainingJob -> first instruction** (``--start-jobs`` jobs, one after another, each
  waited for until Completed): the script's first statement is ``FIRST = time.time()``, which it
  writes to a file; the latency is that minus ``time.time()`` just before ``create_training_job``.
  p50 / p99 (nearest rank). Baseline in the same run: the same statement as a bare
  ``python -c`` spawned by ``subprocess.Popen`` (same interpreter), as many times; the rows give
  both and their ratio. Where the time goes: each job's SecondaryStatusTransitions (the
  controller's stage times) and its agent's ``agent.json`` ``started`` (when the agent spawned the
  command), medians per stage. The same is measured on a second server with private /opt/ml
  off (``SAGEWATCH_JOBS_PRIVATE_OPT_ML=false``), to show what the mount namespace costs.
- **printed line -> readable via GetLogEvents, inside a job**: the job prints ``--latency-lines``
  lines at 50 a second, each carrying ``time.time()`` at its print; a reader finds the job's
  stream (DescribeLogStreams by prefix, as the SDKs do, reference §11.2) and follows it with
  GetLogEvents and ``nextForwardToken``, 10 ms between calls; a line's latency is the time of the
  response that first holds it minus its print time. p50 / p99 over every line (all must arrive).
- **20 concurrent jobs** (``--concurrent``): one job alone (median of 3) and then 20 identical jobs
  created back to back; each prints ``--chatty-lines`` numbered ~100-byte lines at 500 a second.
  Wall time from the first CreateTrainingJob to the last job read as Completed (Describe polled
  every 50 ms), and every job's stream read back whole: each must hold exactly its lines, in order
  (lines lost must be 0). The server is given capacity for them (``SAGEWATCH_JOBS_CPUS`` /
  ``SAGEWATCH_JOBS_MEMORY_GIB``: 2 vCPU and 8 GiB per ml.m5.large), so none waits in Pending,
  whatever the machine: on a 2-core machine, 20 jobs (40 processes with their agents) share 2 cores.

Targets (issue 9): CreateTrainingJob -> first instruction <= 0.5 s p99; printed line -> readable
<= 0.5 s p99. The agent alone (CPU at 10,000 lines/s, highest sustained rate, 1,000,000-line
burst, agent start overhead) is ``agent_bench.py``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, Row, Sagewatch, boto3_client, log, run_standalone, suite_arguments  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.e2e.jobs import messages_of, streams_of, training_request, wait_training  # noqa: E402

NAME = "jobs"
GROUP = "/aws/sagemaker/TrainingJobs"  # reference §1: a training job's log group
INSTANCE_TYPE = "ml.m5.large"          # 2 vCPU, 8 GiB (jobs/capacity.py's EC2 size rule)
INSTANCE_VCPUS, INSTANCE_MEMORY_GIB = 2, 8
LATENCY_RATE = 50                      # lines a second in the latency job (as agent_bench.py)
CHATTY_RATE = 500                      # lines a second in each of the concurrent jobs

# The first statement records the time; only then does anything else run.
FIRST_SCRIPT = textwrap.dedent("""\
    import time; FIRST = time.time()
    import os
    with open(os.environ["BENCH_FIRST_FILE"], "w") as out:
        out.write(repr(FIRST))
""")
BARE_PROBE = "import time; FIRST = time.time(); print(repr(FIRST))"

# Paced lines, each with its print time and number; padded to ~100 bytes like a training log line.
STEADY_SCRIPT = textwrap.dedent("""\
    import os, time
    lines, rate = int(os.environ["BENCH_LINES"]), float(os.environ["BENCH_RATE"])
    start = time.time()
    for n in range(lines):
        ahead = start + n / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
        print(f"t={time.time():.6f} n={n:06d} epoch=0 step={n} loss={2.8 / (1 + n / 500):.5f} lr=3.0e-04", flush=True)
""")


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def job_name(prefix: str) -> str:
    return f"bench-{prefix}-{uuid.uuid4().hex[:8]}"


def job_server(private_opt_ml: str = "auto", cpus: int | None = None, memory_gib: float | None = None) -> Sagewatch:
    server = Sagewatch()
    server.server.server_env["SAGEWATCH_JOBS_PRIVATE_OPT_ML"] = private_opt_ml
    if cpus is not None:
        server.server.server_env["SAGEWATCH_JOBS_CPUS"] = str(cpus)
        server.server.server_env["SAGEWATCH_JOBS_MEMORY_GIB"] = str(memory_gib)
    return server


def create(sagemaker, name: str, script: Path, output: Path, environment: dict) -> None:
    sagemaker.create_training_job(**training_request(
        name, script, output, environment=environment, instance_type=INSTANCE_TYPE))


def completed(sagemaker, name: str, timeout: float = 120) -> dict:
    job = wait_training(sagemaker, name, timeout=timeout)
    if job["TrainingJobStatus"] != "Completed":
        raise RuntimeError(f"job {name} ended {job['TrainingJobStatus']}: {job.get('FailureReason')}")
    return job


# -- 1. CreateTrainingJob -> first instruction ---------------------------------------------------


def agent_started(server: Sagewatch, name: str) -> float | None:
    """When the agent spawned the command (agent/state.py ``agent.json``), from the job's tree
    (controller: ``<work_dir>/<Kind>/<job>/<host>/agent``, work_dir defaulting to <data_dir>/jobs)."""
    path = server.server.data_dir / "jobs" / "TrainingJob" / name / "algo-1" / "agent" / "agent.json"
    try:
        return json.loads(path.read_text())["started"]
    except (OSError, ValueError, KeyError):
        return None


def start_latencies(server: Sagewatch, work: Path, jobs: int, label: str, prefix: str) -> dict:
    sagemaker = boto3_client("sagemaker", server.endpoint)
    script = work / "code-first" / "first.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(FIRST_SCRIPT)
    latencies, stages, per_job = [], {k: [] for k in STAGES}, []
    for i in range(jobs):
        name = job_name(prefix)
        first_file = work / f"{name}.first"
        before = time.time()
        create(sagemaker, name, script, work / "output", {"BENCH_FIRST_FILE": str(first_file)})
        returned = time.time()
        job = completed(sagemaker, name)
        first = float(first_file.read_text())
        latencies.append(first - before)
        at = {t["Status"]: t["StartTime"].timestamp() for t in job["SecondaryStatusTransitions"]}
        spawned = agent_started(server, name)
        marks = {"before": before, "returned": returned, "stored": at["Starting"],
                 "downloading": at["Downloading"], "training": at["Training"], "spawned": spawned,
                 "first": first}
        breakdown = {stage: marks[end] - marks[start] for stage, (start, end) in STAGES.items()
                     if marks[start] is not None and marks[end] is not None}
        for stage, seconds in breakdown.items():
            stages[stage].append(seconds)
        per_job.append({"latency_s": first - before, "stages_ms": {k: v * 1000 for k, v in breakdown.items()}})
    log(f"  {label}: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms over {jobs} jobs")
    return {"jobs": jobs, "latencies_s": latencies, "p50_s": statistics.median(latencies),
            "p99_s": percentile(latencies, 99), "max_s": max(latencies),
            "stages_p50_ms": {k: statistics.median(v) * 1000 for k, v in stages.items() if v},
            "stages_max_ms": {k: max(v) * 1000 for k, v in stages.items() if v},
            # Where the slowest starts spent their time (the p99 is one of these).
            "slowest": sorted(per_job, key=lambda j: -j["latency_s"])[:3]}


# Where the time between the client's call and the script's first statement goes. The controller's
# stage times are the SecondaryStatusTransitions' StartTimes (services/sagemaker/jobs.py advance):
# Starting when the job is stored, Downloading after the image is resolved and capacity granted,
# Training after the /opt/ml tree is built, inputs fetched and every agent launched (Popen).
STAGES = {
    "API call (client) -> job stored, Starting": ("before", "stored"),
    "Starting -> Downloading (image resolved, capacity granted)": ("stored", "downloading"),
    "Downloading -> Training (tree built, agent Popen'ed)": ("downloading", "training"),
    "Downloading -> agent spawned the command (agent interpreter start)": ("downloading", "spawned"),
    "command spawned -> first instruction (namespace, interpreter, wrapper)": ("spawned", "first"),
    "CreateTrainingJob returned (client)": ("before", "returned"),
}


def bare_latencies(runs: int) -> dict:
    latencies = []
    for _ in range(runs):
        before = time.time()
        out = subprocess.run([sys.executable, "-c", BARE_PROBE], capture_output=True, text=True, check=True)
        latencies.append(float(out.stdout) - before)
    log(f"  bare python -c: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms over {runs} starts")
    return {"runs": runs, "latencies_s": latencies, "p50_s": statistics.median(latencies),
            "p99_s": percentile(latencies, 99)}


# -- 2. printed line -> readable, inside a job ---------------------------------------------------


def steady_script(work: Path) -> Path:
    script = work / "code-steady" / "steady.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(STEADY_SCRIPT)
    return script


def line_latency(server: Sagewatch, work: Path, lines: int) -> dict:
    sagemaker = boto3_client("sagemaker", server.endpoint)
    logs = boto3_client("logs", server.endpoint)
    name = job_name("latency")
    create(sagemaker, name, steady_script(work), work / "output",
           {"BENCH_LINES": str(lines), "BENCH_RATE": str(LATENCY_RATE)})
    began = time.monotonic()
    deadline = began + lines / LATENCY_RATE + 60
    stream = None
    while stream is None and time.monotonic() < deadline:
        found = streams_of(logs, GROUP, name)  # the group exists once any job printed
        stream = found[0] if found else None
        if stream is None:
            time.sleep(0.01)
    seen: dict[int, float] = {}
    kwargs = {"logGroupName": GROUP, "logStreamName": stream, "startFromHead": True}
    while len(seen) < lines and time.monotonic() < deadline:
        page = logs.get_log_events(**kwargs)
        arrived = time.time()
        for event in page["events"]:
            fields = dict(field.split("=", 1) for field in event["message"].split()[:2])
            seen.setdefault(int(fields["n"]), arrived - float(fields["t"]))
        kwargs["nextToken"] = page["nextForwardToken"]
        time.sleep(0.01)
    completed(sagemaker, name)
    if len(seen) != lines:
        raise RuntimeError(f"latency job: {len(seen)} of {lines} lines became readable")
    delays = list(seen.values())
    log(f"  p50 {statistics.median(delays) * 1000:.0f} ms, p99 {percentile(delays, 99) * 1000:.0f} ms "
        f"over {lines} lines")
    return {"lines": lines, "rate_per_s": LATENCY_RATE, "p50_s": statistics.median(delays),
            "p99_s": percentile(delays, 99), "max_s": max(delays)}


# -- 3. 20 concurrent jobs -----------------------------------------------------------------------


def lines_lost(logs, name: str, lines: int) -> int:
    """Lines of 0..lines-1 missing from the job's stream; a line out of order or twice counts too."""
    [stream] = streams_of(logs, GROUP, name)
    numbers = [int(m.split()[1][2:]) for m in messages_of(logs, GROUP, stream) if m.startswith("t=")]
    if numbers == list(range(lines)):
        return 0
    return max(1, lines - len(set(numbers) & set(range(lines))))


def job_wave(server: Sagewatch, work: Path, count: int, lines: int) -> dict:
    """``count`` jobs created back to back; wall time from the first create to the last
    Completed, and every job's lines checked."""
    sagemaker = boto3_client("sagemaker", server.endpoint)
    logs = boto3_client("logs", server.endpoint)
    script = steady_script(work)
    names = [job_name(f"wave{count}") for _ in range(count)]
    server_process = psutil.Process(server.pid)
    cpu_before = server_process.cpu_times()
    began = time.time()
    for name in names:
        create(sagemaker, name, script, work / "output", {"BENCH_LINES": str(lines), "BENCH_RATE": str(CHATTY_RATE)})
    created = time.time()
    pending, jobs = set(names), {}
    while pending:
        if time.time() - began > 300:
            raise RuntimeError(f"{len(pending)} of {count} jobs not finished after 300 s")
        for name in sorted(pending):
            job = sagemaker.describe_training_job(TrainingJobName=name)
            if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
                if job["TrainingJobStatus"] != "Completed":
                    raise RuntimeError(f"job {name} ended {job['TrainingJobStatus']}: {job.get('FailureReason')}")
                jobs[name] = job
                pending.discard(name)
        time.sleep(0.05)
    ended = time.time()
    cpu_after = server_process.cpu_times()
    lost = sum(lines_lost(logs, name, lines) for name in names)
    waited = sum(any(t["Status"] == "Pending" for t in j["SecondaryStatusTransitions"]) for j in jobs.values())
    training = [j["TrainingEndTime"].timestamp() - j["TrainingStartTime"].timestamp() for j in jobs.values()]
    return {"jobs": count, "lines_per_job": lines, "wall_s": ended - began, "create_s": created - began,
            "lines_lost": lost, "jobs_that_waited_pending": waited,
            "server_cpu_s": (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system),
            "job_start_to_end_s_p50": statistics.median(training), "job_start_to_end_s_max": max(training)}


def concurrency(server: Sagewatch, work: Path, count: int, lines: int) -> dict:
    alone = [job_wave(server, work, 1, lines) for _ in range(3)]
    alone_wall = statistics.median(a["wall_s"] for a in alone)
    log(f"  one job alone: {alone_wall:.2f} s (median of 3)")
    together = job_wave(server, work, count, lines)
    log(f"  {count} jobs: {together['wall_s']:.2f} s, {together['lines_lost']} lines lost, "
        f"server CPU {together['server_cpu_s']:.1f} s")
    return {"alone": alone, "alone_wall_s": alone_wall, "together": together,
            "lines_lost": together["lines_lost"] + sum(a["lines_lost"] for a in alone)}


# -- the suite -----------------------------------------------------------------------------------


def run(options: dict) -> tuple[list[Row], dict]:
    quick = options.get("quick", False)
    start_jobs = options.get("start_jobs") or (10 if quick else 100)
    plain_jobs = 5 if quick else 20
    latency_lines = options.get("latency_lines") or (100 if quick else 500)
    concurrent = options.get("concurrent") or (5 if quick else 20)
    chatty_lines = options.get("chatty_lines") or (200 if quick else 1000)
    details: dict = {}
    # Client, server, agents and jobs share the machine's cores: other work running beside the
    # benchmark shows in its numbers, so the load is recorded with them.
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sagewatch-jobs-bench-") as tmp:
        work = Path(tmp)
        log("CreateTrainingJob -> first instruction")
        details["bare"] = bare = bare_latencies(start_jobs)
        with job_server(cpus=concurrent * INSTANCE_VCPUS, memory_gib=concurrent * INSTANCE_MEMORY_GIB) as server:
            details["start"] = start = start_latencies(server, work, start_jobs, "private /opt/ml auto",
                                                       "first")
            log("printed line -> readable via GetLogEvents, inside a job")
            details["latency"] = latency = line_latency(server, work, latency_lines)
            log(f"{concurrent} concurrent jobs against one alone")
            details["concurrency"] = together = concurrency(server, work, concurrent, chatty_lines)
        with job_server(private_opt_ml="false") as plain_server:
            details["start_no_namespace"] = plain = start_latencies(plain_server, work, plain_jobs,
                                                                    "private /opt/ml off", "first-plain")
    wave = together["together"]
    stages = "; ".join(f"{k}: {v:.0f} ms" for k, v in start["stages_p50_ms"].items())
    slowest = "; ".join(f"{k}: {v:.0f} ms" for k, v in start["slowest"][0]["stages_ms"].items())
    rows = [
        Row("CreateTrainingJob -> first instruction of the script, p50", "s", start["p50_s"],
            higher_is_better=False),
        Row("CreateTrainingJob -> first instruction of the script, p99", "s", start["p99_s"],
            higher_is_better=False, target="<= 0.5", target_kind="max", target_value=0.5,
            note=f"{start_jobs} jobs one after another; max {start['max_s']:.3f} s. Medians per stage: {stages}. "
                 f"The slowest job: {slowest}"),
        Row("baseline: bare `python -c` spawn -> first instruction, p50", "s", bare["p50_s"],
            higher_is_better=False),
        Row("baseline: bare `python -c` spawn -> first instruction, p99", "s", bare["p99_s"],
            higher_is_better=False, note=f"{bare['runs']} spawns, the same interpreter as the jobs"),
        Row("job start / bare start, p50", "x", start["p50_s"] / bare["p50_s"], higher_is_better=False,
            note=f"p99: {start['p99_s'] / bare['p99_s']:.2f} x"),
        Row("CreateTrainingJob -> first instruction, private /opt/ml off, p50", "s", plain["p50_s"],
            higher_is_better=False,
            note=f"{plain_jobs} jobs on a server with SAGEWATCH_JOBS_PRIVATE_OPT_ML=false; p99 "
                 f"{plain['p99_s']:.3f} s; command spawned -> first instruction "
                 f"{plain['stages_p50_ms'].get('command spawned -> first instruction (namespace, interpreter, wrapper)', float('nan')):.0f} ms"),
        Row("printed line -> readable via GetLogEvents, inside a job, p50", "s", latency["p50_s"],
            higher_is_better=False),
        Row("printed line -> readable via GetLogEvents, inside a job, p99", "s", latency["p99_s"],
            higher_is_better=False, target="<= 0.5", target_kind="max", target_value=0.5,
            note=f"{latency['lines']} lines at {LATENCY_RATE} a second; max {latency['max_s']:.3f} s"),
        Row("one job alone: first create -> Completed", "s", together["alone_wall_s"], higher_is_better=False,
            note=f"{chatty_lines:,} lines at {CHATTY_RATE} a second; median of 3"),
        Row(f"{concurrent} concurrent jobs: first create -> last Completed", "s", wave["wall_s"],
            higher_is_better=False,
            note=f"creates took {wave['create_s']:.2f} s; each job Training -> end p50 "
                 f"{wave['job_start_to_end_s_p50']:.2f} s, max {wave['job_start_to_end_s_max']:.2f} s; "
                 f"{wave['jobs_that_waited_pending']} waited in Pending; server CPU {wave['server_cpu_s']:.1f} s"),
        Row(f"{concurrent} concurrent / one alone, wall time", "x", wave["wall_s"] / together["alone_wall_s"],
            higher_is_better=False,
            note=f"one after another they would take ~{concurrent * together['alone_wall_s']:.1f} s: "
                 f"{concurrent * together['alone_wall_s'] / wave['wall_s']:.1f}x faster together"),
        Row(f"{concurrent} concurrent jobs: lines lost", "lines", wave["lines_lost"],
            target="= 0", target_kind="max", target_value=0,
            note=f"{concurrent * chatty_lines:,} lines, every stream read back whole and checked in order"),
    ]
    parameters = {
        "runner": "process (default); script-mode training jobs, one ml.m5.large instance each",
        "start jobs": f"{start_jobs} (private /opt/ml auto) and {plain_jobs} (off), one after another",
        "latency job": f"{latency_lines} lines at {LATENCY_RATE}/s; reader polls GetLogEvents every 10 ms",
        "load average (1 min) before / after": f"{load_before[0]:.2f} / {os.getloadavg()[0]:.2f}",
        "concurrent": f"{concurrent} jobs x {chatty_lines:,} lines at {CHATTY_RATE}/s; server capacity "
                      f"{concurrent * INSTANCE_VCPUS} vCPU / {concurrent * INSTANCE_MEMORY_GIB} GiB",
    }
    broken = together["lines_lost"] != 0
    return rows, {"parameters": parameters, "details": details, "broken": broken}


def main(argv: list[str] | None = None) -> int:
    parser = suite_arguments(__doc__)
    parser.add_argument("--start-jobs", type=int, help="jobs timed from create to first instruction (default 100)")
    parser.add_argument("--latency-lines", type=int, help="lines of the latency job (default 500)")
    parser.add_argument("--concurrent", type=int, help="jobs run at once (default 20)")
    parser.add_argument("--chatty-lines", type=int, help="lines each concurrent job prints (default 1,000)")
    return run_standalone(NAME, run, parser, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Telemetry: every second, the instance's resource use as SageMaker names it.

SageMaker's instance metrics (aws-behaviour.md §2.1), all in Percent, dimension ``Host``:

- ``CPUUtilization``: "the sum of each individual CPU core's utilization", so 0-100 times the
  number of cores. Here: the CPU time (user + system) the command's process tree used in the
  second, over the second. The tree is the command and its descendants, found each sample; a
  process that ended and was waited for by one of them is counted through its parent's
  ``children_user/system`` times, so short-lived workers are not missed. With ``--sample-pid``
  the tree is that process's instead (the docker runner names the container's main process: the
  command it runs, ``docker logs``, only relays the container's output).
- ``MemoryUtilization``: "% of memory used by the containers on an instance". Here: the
  resident memory (RSS) of the tree over the machine's memory. RSS counts pages shared between
  processes (forked data-loader workers) once per process, so it can read high; PSS would be
  exact but costs reading every process's smaps each second.
- ``DiskUtilization``: the used share of the file system holding ``--disk-path`` (as ``df``).
- ``GPUUtilization`` and ``GPUMemoryUtilization``: "0-100 multiplied by the number of GPUs":
  NVML's utilization rate and used/total memory of each of the instance's GPUs (``--gpus``,
  NVML indices), summed. Only when GPUs were given and NVML (nvidia-ml-py) loads; the whole
  device counts, whichever process uses it, as the instance owns its GPUs.

psutil and pynvml are imported by the sampling thread, after the command has started, so they
never delay it.
"""

from __future__ import annotations

import collections
import sys
import threading
import time

FIRST_SAMPLE_SECONDS = 0.25
SAMPLE_SECONDS = 1.0
# Samples kept while the server cannot be reached; beyond, the oldest go. A day of seconds is a
# few MB; PutMetricData refuses data more than two weeks old anyway (aws-behaviour.md §7.1).
MAX_SAMPLES = 24 * 3600


class MetricSamples:
    """Samples waiting for delivery: (epoch seconds, metric name, value), oldest first."""

    def __init__(self, wake: threading.Event | None = None, max_samples: int = MAX_SAMPLES) -> None:
        self.wake = wake or threading.Event()
        self._lock = threading.Lock()
        # (monotonic time added, epoch seconds measured, {metric name: value}), oldest first
        self._samples: collections.deque = collections.deque()
        self.max_samples = max_samples
        self.dropped = 0
        self.closed = False

    def add(self, at: float, values: dict[str, float]) -> None:
        with self._lock:
            self._samples.append((time.monotonic(), at, values))
            while len(self._samples) > self.max_samples:
                self._samples.popleft()
                self.dropped += 1
        self.wake.set()

    def close(self) -> None:
        with self._lock:
            self.closed = True
        self.wake.set()

    @property
    def pending(self) -> int:
        return len(self._samples)

    def due(self, now: float, flush_seconds: float) -> bool:
        samples = self._samples
        return bool(samples) and (self.closed or now - samples[0][0] >= flush_seconds)

    def next_due(self, now: float, flush_seconds: float) -> float:
        samples = self._samples
        return samples[0][0] + flush_seconds - now if samples else flush_seconds

    def take(self, max_datums: int) -> list[tuple[float, str, float]]:
        """The oldest samples, as datums, at most ``max_datums`` (whole samples only)."""
        datums = []
        with self._lock:
            while self._samples and len(datums) + len(self._samples[0][2]) <= max_datums:
                _, at, values = self._samples.popleft()
                datums.extend((at, name, value) for name, value in values.items())
        return datums


class ProcessTree:
    """CPU and memory of a process and its descendants, sampled with psutil."""

    def __init__(self, root_pid: int, since_start: bool = False) -> None:
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(root_pid)
        self.memory_total = psutil.virtual_memory().total
        self.known: dict[int, psutil.Process] = {}
        self.cpu: dict[int, float] = {}          # pid -> CPU seconds seen last sample
        self.last_at: float | None = None
        if since_start:
            # A root that ran before the agent looked: the first interval is its life so far,
            # so the first sample() already measures it.
            self.last_at = time.monotonic() - max(1e-3, time.time() - self.root.create_time())

    def sample(self) -> tuple[float, float] | None:
        """(CPU percent summed over cores, memory percent) since the last call; None the first
        time (CPU needs an interval) and once the root is gone."""
        psutil = self.psutil
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return None
        at = time.monotonic()
        cpu_used = 0.0
        rss = 0
        seen: dict[int, float] = {}
        for process in processes:
            known = self.known.get(process.pid)
            if known is None or known.create_time() != process.create_time():
                self.known[process.pid] = known = process
            try:
                with known.oneshot():
                    times = known.cpu_times()
                    rss += known.memory_info().rss
            except psutil.Error:
                continue
            total = times.user + times.system + times.children_user + times.children_system
            seen[process.pid] = total
            # A process new since the last sample used all its CPU time within the interval.
            cpu_used += total - self.cpu.get(process.pid, 0.0)
        for gone in set(self.known) - set(seen):
            del self.known[gone]
        self.cpu = seen
        previous, self.last_at = self.last_at, at
        if previous is None:
            return None
        return max(0.0, 100.0 * cpu_used / (at - previous)), 100.0 * rss / self.memory_total


class Gpus:
    """GPU utilization and memory use of the given NVML devices, summed."""

    def __init__(self, indices: list[int]) -> None:
        import pynvml

        self.nvml = pynvml
        pynvml.nvmlInit()
        self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in indices]

    def sample(self) -> tuple[float, float]:
        utilization = memory = 0.0
        for handle in self.handles:
            utilization += self.nvml.nvmlDeviceGetUtilizationRates(handle).gpu
            info = self.nvml.nvmlDeviceGetMemoryInfo(handle)
            memory += 100.0 * info.used / info.total if info.total else 0.0
        return utilization, memory

    def close(self) -> None:
        try:
            self.nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutting down is best effort
            pass


class Telemetry(threading.Thread):
    def __init__(self, root_pid: int, samples: MetricSamples, disk_path: str,
                 gpus: list[int], interval: float = SAMPLE_SECONDS, root_is_child: bool = True) -> None:
        super().__init__(name="sagewatch-agent-telemetry", daemon=True)
        self.root_pid = root_pid
        # The root is the agent's own child: once waited for, the kernel's rusage of the agent's
        # children is the tree's. Not so for a process the agent was only told to sample.
        self.root_is_child = root_is_child
        self.samples = samples
        self.disk_path = disk_path
        self.gpu_indices = gpus
        self.interval = interval
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        try:
            tree = ProcessTree(self.root_pid, since_start=not self.root_is_child)
        except Exception as error:  # noqa: BLE001 - psutil missing, or the command already gone
            if type(error).__name__ != "NoSuchProcess":
                print(f"sagewatch-agent: no resource metrics: {error}", file=sys.stderr, flush=True)
            return
        gpus = None
        if self.gpu_indices:
            try:
                gpus = Gpus(self.gpu_indices)
            except Exception as error:  # noqa: BLE001 - no NVML, no driver, no such device
                print(f"sagewatch-agent: no GPU metrics: {error}", file=sys.stderr, flush=True)
        added = 0
        started = time.monotonic()
        try:
            if self.root_is_child:
                tree.sample()
            else:
                # A process the agent only samples (a container's) has run since before the agent
                # looked: measure it at once, so a container shorter than a sample reports too.
                values = self._sample(tree, gpus)
                if values is not None:
                    self.samples.add(time.time(), values)
                    added += 1
            # The first sample comes sooner, so a job shorter than a second still reports its
            # instance metrics (CPU over that first short interval).
            next_at = time.monotonic() + min(self.interval, FIRST_SAMPLE_SECONDS)
            while not self.stopping.wait(max(0.0, next_at - time.monotonic())):
                next_at += self.interval
                if next_at < time.monotonic():  # fell behind (suspended): do not catch up
                    next_at = time.monotonic() + self.interval
                values = self._sample(tree, gpus)
                if values is None:
                    break
                self.samples.add(time.time(), values)
                added += 1
            if added == 0 and self.root_is_child:
                # The command ended before the first sample: report its whole run once, from
                # what the kernel kept of the reaped tree (the agent waited for the command).
                values = self._reaped(tree, time.monotonic() - started)
                if values is not None:
                    self.samples.add(time.time(), values)
        finally:
            if gpus is not None:
                gpus.close()

    def _reaped(self, tree: ProcessTree, seconds: float) -> dict[str, float] | None:
        """CPU over the command's whole life and its peak memory, once it has been waited for:
        getrusage(RUSAGE_CHILDREN) holds every reaped descendant's times and largest RSS."""
        import resource

        if not self.stopping.wait(1.0):  # the command has not ended yet: nothing to report
            return None
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self._with_disk(tree, {
            "CPUUtilization": 100.0 * (usage.ru_utime + usage.ru_stime) / max(seconds, 1e-3),
            # ru_maxrss is in KiB on Linux.
            "MemoryUtilization": 100.0 * usage.ru_maxrss * 1024 / tree.memory_total})

    def _sample(self, tree: ProcessTree, gpus: Gpus | None) -> dict[str, float] | None:
        measured = tree.sample()
        if measured is None:
            return None
        cpu, memory = measured
        values = self._with_disk(tree, {"CPUUtilization": cpu, "MemoryUtilization": memory})
        if gpus is not None:
            try:
                values["GPUUtilization"], values["GPUMemoryUtilization"] = gpus.sample()
            except Exception:  # noqa: BLE001 - a GPU fallen off the bus: keep the others going
                pass
        return values

    def _with_disk(self, tree: ProcessTree, values: dict[str, float]) -> dict[str, float]:
        """``values`` and DiskUtilization, when the file system of ``disk_path`` answers."""
        try:
            values["DiskUtilization"] = tree.psutil.disk_usage(self.disk_path).percent
        except OSError:
            pass
        return values

"""This machine as a small cluster: what each ml.* instance type needs, what the machine has, and
who gets it, in submission order.

A job asks for InstanceCount instances of InstanceType (botocore:sagemaker ResourceConfig /
ProcessingClusterConfig). It starts when all of them fit in what is free — CPUs, memory and GPUs —
and every job submitted before it has started; until then it waits (SecondaryStatus Pending,
reference §4.1 "waiting for capacity"). Strict first-come-first-served: a small job does not
overtake a large one waiting ahead of it, so a large job can never starve.

Each instance gets specific GPUs (their indices go to CUDA_VISIBLE_DEVICES and the agent's NVML
sampling). CPUs and memory are bookkeeping: an instance is not pinned to cores, it is only never
given more than the machine has.

An instance type larger than the whole machine is clamped to the whole machine, and a job larger
than the machine (many instances, or a big type) is clamped to the machine as a whole: it waits
until the machine is idle, then runs alone, its instances sharing what there is. So a laptop runs
an ml.p4d.24xlarge job — one at a time — instead of waiting forever.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from dataclasses import dataclass

# -- the ml.* instance types ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: float
    gpus: int = 0


# Accelerated types, row by row (vCPU, memory GiB, NVIDIA GPUs), from the EC2 instance type pages
# (https://aws.amazon.com/ec2/instance-types/ — Accelerated Computing: P2, P3, P4, P5, P6, G4dn,
# G5, G6, G6e, G7e) which the SageMaker pricing page repeats per ml.* type. Trainium (trn) chips
# are not CUDA GPUs: they count as none here.
_ACCELERATED = {
    "p2.xlarge": (4, 61, 1), "p2.8xlarge": (32, 488, 8), "p2.16xlarge": (64, 732, 16),
    "p3.2xlarge": (8, 61, 1), "p3.8xlarge": (32, 244, 4), "p3.16xlarge": (64, 488, 8),
    "p3dn.24xlarge": (96, 768, 8),
    "p4d.24xlarge": (96, 1152, 8), "p4de.24xlarge": (96, 1152, 8),
    "p5.4xlarge": (16, 256, 1), "p5.48xlarge": (192, 2048, 8), "p5e.48xlarge": (192, 2048, 8),
    "p5en.48xlarge": (192, 2048, 8),
    "p6-b200.48xlarge": (192, 2048, 8), "p6-b300.48xlarge": (192, 4096, 8),
    "p6e-gb200.36xlarge": (144, 960, 4),
    "g4dn.xlarge": (4, 16, 1), "g4dn.2xlarge": (8, 32, 1), "g4dn.4xlarge": (16, 64, 1),
    "g4dn.8xlarge": (32, 128, 1), "g4dn.12xlarge": (48, 192, 4), "g4dn.16xlarge": (64, 256, 1),
    "trn1.2xlarge": (8, 32, 0), "trn1.32xlarge": (128, 512, 0), "trn1n.32xlarge": (128, 512, 0),
    "trn2.48xlarge": (192, 2048, 0),
}
# G5 and G6 share one shape per size; G6e doubles their memory; G7e is its own.
for _family, _memory_factor in (("g5", 1), ("g6", 1), ("g6e", 2)):
    for _size, (_cpus, _memory, _gpus) in {
        "xlarge": (4, 16, 1), "2xlarge": (8, 32, 1), "4xlarge": (16, 64, 1), "8xlarge": (32, 128, 1),
        "12xlarge": (48, 192, 4), "16xlarge": (64, 256, 1), "24xlarge": (96, 384, 4),
        "48xlarge": (192, 768, 8),
    }.items():
        _ACCELERATED[f"{_family}.{_size}"] = (_cpus, _memory * _memory_factor, _gpus)
for _family in ("g7", "g7e"):
    for _size, _row in {"2xlarge": (8, 64, 1), "4xlarge": (16, 128, 1), "8xlarge": (32, 256, 1),
                        "12xlarge": (48, 512, 2), "24xlarge": (96, 1024, 4),
                        "48xlarge": (192, 2048, 8)}.items():
        _ACCELERATED[f"{_family}.{_size}"] = _row

# CPU-only families follow EC2's sizing rule: large = 2 vCPU, xlarge = 4, Nxlarge = 4N (medium = 2);
# memory is a fixed number of GiB per vCPU by family (m: 4, c: 2, r: 8, t3: 4). The exceptions are
# listed below (EC2 instance type pages: General Purpose, Compute Optimized, Memory Optimized).
_GIB_PER_VCPU = {"m": 4.0, "c": 2.0, "r": 8.0, "t": 4.0}
_EXCEPTIONS = {
    "c4.xlarge": (4, 7.5), "c4.2xlarge": (8, 15), "c4.4xlarge": (16, 30), "c4.8xlarge": (36, 60),
    "c5n.xlarge": (4, 10.5), "c5n.2xlarge": (8, 21), "c5n.4xlarge": (16, 42),
    "c5n.9xlarge": (36, 96), "c5n.18xlarge": (72, 192),
    "m4.16xlarge": (64, 256), "m4.10xlarge": (40, 160),
    "t3.medium": (2, 4), "t3.large": (2, 8), "t3.xlarge": (4, 16), "t3.2xlarge": (8, 32),
}
_SIZE = re.compile(r"^(?:(\d+)xlarge|xlarge|large|medium)$")


def _by_rule(name: str) -> InstanceType | None:
    """An ml.<family>.<size> type from the sizing rule, or None when the name does not fit it."""
    if not name.startswith("ml.") or name.count(".") != 2:
        return None
    _, family, size = name.split(".")
    key = f"{family}.{size}"
    if key in _ACCELERATED:
        vcpus, memory, gpus = _ACCELERATED[key]
        return InstanceType(name, vcpus, float(memory), gpus)
    if key in _EXCEPTIONS:
        vcpus, memory = _EXCEPTIONS[key]
        return InstanceType(name, vcpus, float(memory))
    match = _SIZE.match(size)
    if match is None or family[:1] not in _GIB_PER_VCPU:
        return None
    if size in ("large", "medium"):
        vcpus = 2
    elif size == "xlarge":
        vcpus = 4
    else:
        vcpus = 4 * int(match.group(1))
    return InstanceType(name, vcpus, vcpus * _GIB_PER_VCPU[family[0]])


def instance_types(model_enum: list[str] | None = None,
                   overrides: dict[str, dict] | None = None) -> dict[str, InstanceType]:
    """The table: every type the SageMaker model lists for training and processing
    (botocore:sagemaker TrainingInstanceType, ProcessingInstanceType) that the rules cover,
    then the configuration's rows (``jobs.instance_types``) over them."""
    if model_enum is None:
        model_enum = _model_instance_types()
    table = {}
    for name in model_enum:
        row = _by_rule(name)
        if row is not None:
            table[name] = row
    for name, row in (overrides or {}).items():
        table[name] = InstanceType(name, int(row["vcpus"]), float(row["memory_gib"]), int(row["gpus"]))
    return table


def _model_instance_types() -> list[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    names = set()
    for shape in ("TrainingInstanceType", "ProcessingInstanceType"):
        names.update(model.shape_for(shape).enum)
    return sorted(names)


# -- this machine --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Machine:
    cpus: int
    memory_gib: float
    gpus: tuple[int, ...]


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 1.0


def detect_gpus() -> list[int]:
    """NVIDIA GPU indices: NVML when nvidia-ml-py is installed, else ``nvidia-smi -L``, else none."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return list(range(pynvml.nvmlDeviceGetCount()))
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no library, no driver, no device: try the command line
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [int(m.group(1)) for m in re.finditer(r"^GPU (\d+):", listing, re.MULTILINE)]


def detect_machine(cpus: int | None = None, memory_gib: float | None = None,
                   gpus: list[int] | None = None) -> Machine:
    """This machine's capacity; each argument given replaces what detection would find."""
    return Machine(
        cpus=cpus if cpus is not None else (os.cpu_count() or 1),
        memory_gib=memory_gib if memory_gib is not None else _memory_gib(),
        gpus=tuple(gpus if gpus is not None else detect_gpus()),
    )


# -- allocation ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstanceShare:
    cpus: int
    memory_gib: float
    gpus: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Allocation:
    key: object
    instance_type: str
    instances: tuple[InstanceShare, ...]
    whole_machine: bool = False   # the job was larger than the machine and runs alone

    def gpus_of(self, index: int) -> list[int]:
        return list(self.instances[index].gpus)

    def cpus_of(self, index: int) -> int:
        return self.instances[index].cpus


@dataclass
class _Request:
    key: object
    instance_type: InstanceType
    count: int


class Capacity:
    """FIFO allocation of this machine to jobs. Thread-safe; the controller's job threads call
    ``enqueue`` once, then ``try_allocate`` until it answers, sleeping in ``wait`` between."""

    def __init__(self, machine: Machine, types: dict[str, InstanceType]) -> None:
        self.machine = machine
        self.types = types
        self._lock = threading.Condition()
        self._queue: OrderedDict[object, _Request] = OrderedDict()
        self._granted: dict[object, Allocation] = {}
        self._held: dict[object, tuple[int, float, set[int]]] = {}
        self._free_cpus = machine.cpus
        self._free_memory = machine.memory_gib
        self._free_gpus = list(machine.gpus)

    @classmethod
    def from_settings(cls, jobs) -> Capacity:
        """From ``config.JobSettings``: its capacity overrides and instance type rows."""
        machine = detect_machine(jobs.capacity.cpus, jobs.capacity.memory_gib, jobs.capacity.gpus)
        return cls(machine, instance_types(overrides=jobs.instance_types))

    def instance_type(self, name: str) -> InstanceType:
        known = self.types.get(name)
        if known is not None:
            return known
        # A type neither the table nor the rules know (a newer model): one of what the machine has.
        return _by_rule(name) or InstanceType(name, self.machine.cpus, self.machine.memory_gib,
                                              len(self.machine.gpus))

    # -- the queue ------------------------------------------------------------------------------

    def enqueue(self, key, instance_type: str, count: int):
        """Join the queue (once; again is a no-op). Returns the ticket ``try_allocate`` takes."""
        with self._lock:
            if key not in self._queue and key not in self._granted:
                self._queue[key] = _Request(key, self.instance_type(instance_type), max(1, count))
            return key

    def try_allocate(self, ticket) -> Allocation | None:
        """The job's allocation once it is at the head of the queue and fits; None until then."""
        with self._lock:
            if ticket in self._granted:
                return self._granted[ticket]
            self._grant_in_order()
            return self._granted.get(ticket)

    def adopt(self, key, instance_type: str, gpus_per_instance: list[list[int]]) -> Allocation:
        """Take back what a running job holds (a restarted server re-adopting it), with the GPUs
        its instances were given, ahead of every waiting job."""
        with self._lock:
            if key in self._granted:
                return self._granted[key]
            self._queue.pop(key, None)
            request = _Request(key, self.instance_type(instance_type), max(1, len(gpus_per_instance)))
            allocation = self._shares(request, [tuple(g) for g in gpus_per_instance])
            self._take(allocation)
            return allocation

    def release(self, key) -> None:
        """Give back what ``key`` holds, or leave the queue; wakes the waiting jobs."""
        with self._lock:
            self._queue.pop(key, None)
            self._granted.pop(key, None)
            held = self._held.pop(key, None)
            if held is not None:
                cpus, memory, gpus = held
                self._free_cpus += cpus
                self._free_memory += memory
                self._free_gpus = sorted(set(self._free_gpus) | gpus)
            self._lock.notify_all()

    def wake(self) -> None:
        with self._lock:
            self._lock.notify_all()

    def wait(self, seconds: float) -> None:
        """Sleep until capacity is released (or ``wake``), at most ``seconds``."""
        with self._lock:
            self._lock.wait(seconds)

    def position(self, key) -> int | None:
        """0 for the head of the queue; None when not waiting."""
        with self._lock:
            for index, waiting in enumerate(self._queue):
                if waiting == key:
                    return index
            return None

    # -- inside the lock ------------------------------------------------------------------------

    def _grant_in_order(self) -> None:
        while self._queue:
            key, request = next(iter(self._queue.items()))
            allocation = self._fit(request)
            if allocation is None:
                return  # strict FIFO: nobody overtakes the head of the queue
            self._queue.pop(key)
            self._take(allocation)
            self._lock.notify_all()

    def _demand(self, request: _Request) -> tuple[int, float, int]:
        """One instance's clamped demand: never more than the whole machine."""
        kind = request.instance_type
        return (min(kind.vcpus, self.machine.cpus), min(kind.memory_gib, self.machine.memory_gib),
                min(kind.gpus, len(self.machine.gpus)))

    def _fit(self, request: _Request) -> Allocation | None:
        cpus, memory, gpus = self._demand(request)
        count = request.count
        if (cpus * count <= self.machine.cpus and memory * count <= self.machine.memory_gib
                and gpus * count <= len(self.machine.gpus)):
            if cpus * count > self._free_cpus or memory * count > self._free_memory + 1e-9 \
                    or gpus * count > len(self._free_gpus):
                return None
            free = list(self._free_gpus)
            return self._shares(request, [tuple(free[i * gpus:(i + 1) * gpus]) for i in range(count)])
        # Larger than the machine: wait for an idle machine, then take all of it.
        idle = (self._free_cpus == self.machine.cpus and len(self._free_gpus) == len(self.machine.gpus)
                and self._free_memory >= self.machine.memory_gib - 1e-9)
        if not idle:
            return None
        return self._whole_machine(request)

    def _whole_machine(self, request: _Request) -> Allocation:
        count = request.count
        machine_gpus = list(self.machine.gpus)
        wanted = min(request.instance_type.gpus, len(machine_gpus))
        per_instance = len(machine_gpus) // count
        split = []
        for index in range(count):
            if wanted == 0:
                split.append(())
            elif per_instance >= 1:
                # Enough GPUs to give each instance its own (up to what its type has).
                take = min(wanted, per_instance)
                split.append(tuple(machine_gpus[index * per_instance:index * per_instance + take]))
            else:
                # Fewer GPUs than instances: instances share them, round robin.
                split.append((machine_gpus[index % len(machine_gpus)],))
        cpus = max(1, self.machine.cpus // count)
        memory = self.machine.memory_gib / count
        return Allocation(request.key, request.instance_type.name,
                          tuple(InstanceShare(cpus, memory, g) for g in split), whole_machine=True)

    def _shares(self, request: _Request, gpus: list[tuple[int, ...]]) -> Allocation:
        cpus, memory, _ = self._demand(request)
        return Allocation(request.key, request.instance_type.name,
                          tuple(InstanceShare(cpus, memory, g) for g in gpus))

    def _take(self, allocation: Allocation) -> None:
        # What is taken is remembered as taken, so release gives back exactly that (a whole-machine
        # job's shares need not add up to the machine).
        if allocation.whole_machine:
            cpus, memory, gpus = self._free_cpus, self._free_memory, set(self._free_gpus)
        else:
            cpus = sum(i.cpus for i in allocation.instances)
            memory = sum(i.memory_gib for i in allocation.instances)
            gpus = {g for i in allocation.instances for g in i.gpus} & set(self._free_gpus)
        self._free_cpus -= cpus
        self._free_memory -= memory
        self._free_gpus = [g for g in self._free_gpus if g not in gpus]
        self._held[allocation.key] = (cpus, memory, gpus)
        self._granted[allocation.key] = allocation

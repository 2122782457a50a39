"""The instance type table, and FIFO allocation of a machine's CPUs, memory and GPUs."""

from __future__ import annotations

import threading

from sagewatch.jobs.capacity import Capacity, InstanceType, Machine, detect_machine, instance_types


def capacity(cpus=8, memory=32.0, gpus=(0, 1, 2, 3)) -> Capacity:
    return Capacity(Machine(cpus, memory, tuple(gpus)), instance_types())


def test_the_table_covers_the_families_the_model_lists():
    table = instance_types()
    assert table["ml.m5.large"] == InstanceType("ml.m5.large", 2, 8.0, 0)
    assert table["ml.m5.24xlarge"] == InstanceType("ml.m5.24xlarge", 96, 384.0, 0)
    assert table["ml.c5.9xlarge"] == InstanceType("ml.c5.9xlarge", 36, 72.0, 0)
    assert table["ml.c4.8xlarge"].vcpus == 36
    assert table["ml.t3.medium"] == InstanceType("ml.t3.medium", 2, 4.0, 0)
    assert table["ml.g4dn.12xlarge"] == InstanceType("ml.g4dn.12xlarge", 48, 192.0, 4)
    assert table["ml.g5.48xlarge"].gpus == 8
    assert table["ml.p3.2xlarge"] == InstanceType("ml.p3.2xlarge", 8, 61.0, 1)
    assert table["ml.p4d.24xlarge"] == InstanceType("ml.p4d.24xlarge", 96, 1152.0, 8)
    assert table["ml.p5.48xlarge"].gpus == 8
    for family in ("m5", "c5", "g4dn", "g5", "p3", "t3"):
        assert any(name.startswith(f"ml.{family}.") for name in table), family
    # Every type the botocore model lists for training and processing has a row.
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    listed = set(model.shape_for("TrainingInstanceType").enum) | set(model.shape_for("ProcessingInstanceType").enum)
    assert listed - set(table) == set()


def test_configured_rows_replace_and_add():
    table = instance_types(overrides={"ml.m5.large": {"vcpus": 1, "memory_gib": 2, "gpus": 0},
                                      "ml.custom.big": {"vcpus": 3, "memory_gib": 5, "gpus": 1}})
    assert table["ml.m5.large"] == InstanceType("ml.m5.large", 1, 2.0, 0)
    assert table["ml.custom.big"] == InstanceType("ml.custom.big", 3, 5.0, 1)


def test_machine_overrides_win_over_detection():
    machine = detect_machine(cpus=2, memory_gib=3.5, gpus=[])
    assert machine == Machine(2, 3.5, ())
    assert detect_machine().cpus >= 1


def test_jobs_start_in_submission_order_when_capacity_frees():
    pool = capacity(cpus=8, memory=64, gpus=())
    first = pool.enqueue("a", "ml.m5.xlarge", 1)           # 4 vCPU
    assert pool.try_allocate(first) is not None
    big = pool.enqueue("b", "ml.m5.2xlarge", 1)            # 8 vCPU: waits for a
    small = pool.enqueue("c", "ml.m5.large", 1)            # 2 vCPU would fit, but b is ahead
    assert pool.try_allocate(small) is None
    assert pool.try_allocate(big) is None
    assert pool.position(big) == 0 and pool.position(small) == 1
    pool.release("a")
    assert pool.try_allocate(small) is None                # b gets the machine first
    assert pool.try_allocate(big) is not None
    pool.release("b")
    assert pool.try_allocate(small) is not None


def test_each_instance_gets_its_own_gpus():
    pool = capacity(cpus=96, memory=768, gpus=(0, 1, 2, 3))
    two = pool.try_allocate(pool.enqueue("a", "ml.g5.xlarge", 2))
    assert [two.gpus_of(0), two.gpus_of(1)] == [[0], [1]]
    other = pool.try_allocate(pool.enqueue("b", "ml.g5.2xlarge", 1))
    assert other.gpus_of(0) == [2]
    cpu_only = pool.try_allocate(pool.enqueue("c", "ml.m5.large", 1))
    assert cpu_only.gpus_of(0) == []
    waiting = pool.enqueue("d", "ml.g5.12xlarge", 1)       # 4 GPUs: only 1 free
    assert pool.try_allocate(waiting) is None
    pool.release("a")
    pool.release("b")
    assert pool.try_allocate(waiting).gpus_of(0) == [0, 1, 2, 3]


def test_an_instance_larger_than_the_machine_is_clamped_to_it():
    pool = capacity(cpus=2, memory=4, gpus=(0,))
    big = pool.try_allocate(pool.enqueue("a", "ml.p4d.24xlarge", 1))
    assert big is not None
    assert big.cpus_of(0) == 2 and big.gpus_of(0) == [0]
    nxt = pool.enqueue("b", "ml.p4d.24xlarge", 1)
    assert pool.try_allocate(nxt) is None                   # one at a time
    pool.release("a")
    assert pool.try_allocate(nxt) is not None


def test_a_job_larger_than_the_machine_runs_alone_and_never_waits_forever():
    pool = capacity(cpus=2, memory=4, gpus=(0,))
    small = pool.try_allocate(pool.enqueue("a", "ml.m5.large", 1))
    assert small is not None
    many = pool.enqueue("b", "ml.g5.xlarge", 3)             # 3 x (4 vCPU, 1 GPU) on 2 CPUs, 1 GPU
    assert pool.try_allocate(many) is None                  # waits for an idle machine
    pool.release("a")
    granted = pool.try_allocate(many)
    assert granted is not None and granted.whole_machine
    assert [granted.gpus_of(i) for i in range(3)] == [[0], [0], [0]]   # they share the one GPU
    after = pool.enqueue("c", "ml.m5.large", 1)
    assert pool.try_allocate(after) is None
    pool.release("b")
    assert pool.try_allocate(after) is not None


def test_a_released_waiter_leaves_the_queue():
    pool = capacity(cpus=2, memory=8, gpus=())
    pool.try_allocate(pool.enqueue("a", "ml.m5.large", 1))
    blocked = pool.enqueue("b", "ml.m5.large", 1)
    behind = pool.enqueue("c", "ml.t3.medium", 1)
    pool.release("b")                                       # stopped while pending
    assert pool.position(behind) == 0
    pool.release("a")
    assert pool.try_allocate(behind) is not None
    assert pool.try_allocate(blocked) is None and pool.position(blocked) is None


def test_adopting_a_running_job_takes_its_gpus_back():
    pool = capacity(cpus=16, memory=64, gpus=(0, 1))
    pool.adopt("old", "ml.g4dn.xlarge", [[1]])
    fresh = pool.try_allocate(pool.enqueue("new", "ml.g4dn.xlarge", 1))
    assert fresh.gpus_of(0) == [0]
    assert pool.try_allocate(pool.enqueue("third", "ml.g4dn.xlarge", 1)) is None


def test_wait_returns_when_capacity_is_released():
    pool = capacity(cpus=2, memory=8, gpus=())
    pool.try_allocate(pool.enqueue("a", "ml.m5.large", 1))
    ticket = pool.enqueue("b", "ml.m5.large", 1)
    got = []

    def waiter():
        while (allocation := pool.try_allocate(ticket)) is None:
            pool.wait(5)
        got.append(allocation)

    thread = threading.Thread(target=waiter)
    thread.start()
    pool.release("a")
    thread.join(10)
    assert got and got[0].key == "b"


def test_an_unknown_type_name_still_gets_a_shape():
    pool = capacity(cpus=4, memory=16, gpus=())
    assert pool.instance_type("ml.m9.xlarge") == InstanceType("ml.m9.xlarge", 4, 16.0, 0)
    assert pool.instance_type("ml.weird") == InstanceType("ml.weird", 4, 16.0, 0)

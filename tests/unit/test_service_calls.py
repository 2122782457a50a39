"""The narrow in-process methods services call on each other (SageMaker writes its jobs' log
lines and metrics through them): real services over a real SQLite store, no server."""

from __future__ import annotations

import threading
import time

import pytest

from sagewatch.clock import FakeClock
from sagewatch.services.cloudwatch.alarms import AlarmActions, AlarmEngine
from sagewatch.services.cloudwatch.metrics import MetricData, MetricValue
from sagewatch.services.cloudwatch.service import CloudWatchService
from sagewatch.services.logs.service import MAX_EVENT_BYTES, LogsService
from sagewatch.store.sqlite.alarms import SQLiteAlarmStore
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.logs import SQLiteLogStore
from sagewatch.store.sqlite.metrics import SQLiteMetricStore
from sagewatch.store.sqlite.tags import SQLiteTagStore

REGION, ACCOUNT = "us-east-1", "000000000000"


@pytest.fixture
def database(tmp_path):
    db = Database(tmp_path / "sagewatch.db")
    yield db
    db.close()


@pytest.fixture
def logs(database):
    return LogsService(SQLiteLogStore(database), SQLiteTagStore(database), region=REGION, account_id=ACCOUNT)


def read_all(logs: LogsService, group: str, stream: str) -> list[tuple[int, str]]:
    page = logs.get_log_events(logStreamName=stream, logGroupName=group, startFromHead=True)
    return [(e["timestamp"], e["message"]) for e in page["events"]]


# -- Logs ------------------------------------------------------------------------------------------


def test_ingest_listener_hears_each_stored_batch_with_the_stream_already_readable(logs):
    now = logs.clock()
    heard = []
    logs.add_ingest_listener(lambda g, s, events: heard.append((g, s, events, read_all(logs, g, s))))
    logs.create_log_group(logGroupName="/aws/sagemaker/TrainingJobs")
    logs.create_log_stream(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName="job/algo-1-1")
    logs.put_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName="job/algo-1-1",
        logEvents=[{"timestamp": now - 1, "message": "epoch 1 loss=0.5"},
                   {"timestamp": now, "message": "epoch 2 loss=0.25"}],
    )
    events = [(now - 1, "epoch 1 loss=0.5"), (now, "epoch 2 loss=0.25")]
    assert heard == [("/aws/sagemaker/TrainingJobs", "job/algo-1-1", events, events)]


def test_ingest_listener_hears_only_the_events_accepted(logs):
    now = logs.clock()
    heard = []
    logs.add_ingest_listener(lambda g, s, events: heard.append(events))
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    result = logs.put_log_events(
        logGroupName="g", logStreamName="s",
        logEvents=[{"timestamp": now - 15 * 86_400_000, "message": "too old"},
                   {"timestamp": now, "message": "kept"},
                   {"timestamp": now + 3 * 3_600_000, "message": "too new"}],
    )
    assert result["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2}
    assert heard == [[(now, "kept")]]


def test_a_failing_listener_never_fails_the_write_nor_silences_the_others(logs, caplog):
    heard = []

    def broken(group, stream, events):
        raise RuntimeError("listener bug")

    logs.add_ingest_listener(broken)
    logs.add_ingest_listener(lambda g, s, events: heard.append(events))
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    now = logs.clock()
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": now, "message": "x"}])
    assert read_all(logs, "g", "s") == [(now, "x")]
    assert heard == [[(now, "x")]]
    assert "listener bug" in caplog.text


def test_append_events_creates_group_and_stream_and_orders_events(logs):
    now = logs.clock()
    heard = []
    logs.add_ingest_listener(lambda g, s, events: heard.append(events))
    logs.append_events("/aws/sagemaker/ProcessingJobs", "job/algo-1-1", [(now, "second"), (now - 5, "first"),
                                                                        (now, "third")])
    assert read_all(logs, "/aws/sagemaker/ProcessingJobs", "job/algo-1-1") == [
        (now - 5, "first"), (now, "second"), (now, "third")]
    assert heard == [[(now - 5, "first"), (now, "second"), (now, "third")]]
    group = logs.describe_log_groups(logGroupNamePrefix="/aws/sagemaker/ProcessingJobs")["logGroups"]
    assert [g["arn"] for g in group] == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/ProcessingJobs:*"]
    # An existing group and stream are written to, not made again.
    logs.append_events("/aws/sagemaker/ProcessingJobs", "job/algo-1-1", [(now + 1, "fourth")])
    assert read_all(logs, "/aws/sagemaker/ProcessingJobs", "job/algo-1-1")[-1] == (now + 1, "fourth")


def test_append_events_splits_what_one_batch_may_not_hold(logs):
    now = logs.clock()
    heard = []
    logs.add_ingest_listener(lambda g, s, events: heard.append(len(events)))
    day = 86_400_000
    events = [(now - 2 * day + i, f"line {i}") for i in range(10_001)] + [(now, "today")]
    logs.append_events("g", "s", events)
    # 10,000 events to a batch; and a batch spans at most 24 hours.
    assert heard == [10_000, 1, 1]
    assert logs.describe_log_groups(logGroupNamePrefix="g")["logGroups"][0]["storedBytes"] > 0


def test_append_events_cuts_an_oversized_message_on_a_character_boundary(logs):
    now = logs.clock()
    logs.append_events("g", "s", [(now, "é" * MAX_EVENT_BYTES)])
    (stored,) = read_all(logs, "g", "s")
    assert stored[1] == "é" * ((MAX_EVENT_BYTES - 26) // 2)


def test_concurrent_first_writers_make_one_stream(logs):
    now = logs.clock()
    barrier = threading.Barrier(8)

    def write(i):
        barrier.wait()
        logs.append_events("g", "s", [(now, f"writer {i}")])

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(m for _, m in read_all(logs, "g", "s")) == [f"writer {i}" for i in range(8)]
    assert len(logs.describe_log_streams(logGroupName="g")["logStreams"]) == 1


# -- CloudWatch ------------------------------------------------------------------------------------


@pytest.fixture
def cloudwatch(database):
    # The clock stands still: the engine's minute ticks never come due, so an alarm is
    # evaluated only when something tells the engine (the behaviour under test).
    clock = FakeClock(int(time.time()) // 60 * 60 + 30)
    data = MetricData(SQLiteMetricStore(database), clock=clock)
    alarm_store = SQLiteAlarmStore(database)
    engine = AlarmEngine(alarm_store, data, AlarmActions(), region=REGION, account_id=ACCOUNT, clock=clock)
    service = CloudWatchService(data, alarm_store, engine, SQLiteTagStore(database), region=REGION,
                                account_id=ACCOUNT, clock=clock.now)
    engine.start()
    yield service
    engine.stop()


def test_put_metric_values_reads_back_as_put_metric_data(cloudwatch):
    now = cloudwatch.clock()
    dimensions = (("TrainingJobName", "job"),)
    cloudwatch.put_metric_values("/aws/sagemaker/TrainingJobs", [
        MetricValue("validation:loss", dimensions, now - 1, 0.5),
        MetricValue("validation:loss", dimensions, now, 0.25),
        MetricValue("CPUUtilization", (("Host", "job/algo-1"),), now, 150.0, "Percent", 1),
    ])
    stats = cloudwatch.get_metric_statistics(
        Namespace="/aws/sagemaker/TrainingJobs", MetricName="validation:loss",
        Dimensions=[{"Name": "TrainingJobName", "Value": "job"}], StartTime=now - 60, EndTime=now + 60,
        Period=60, Statistics=["Minimum", "Maximum", "SampleCount"],
    )
    (point,) = stats["Datapoints"]
    assert (point["Minimum"], point["Maximum"], point["SampleCount"], point["Unit"]) == (0.25, 0.5, 2.0, "None")
    high = cloudwatch.get_metric_statistics(
        Namespace="/aws/sagemaker/TrainingJobs", MetricName="CPUUtilization",
        Dimensions=[{"Name": "Host", "Value": "job/algo-1"}], StartTime=now - 10, EndTime=now + 10,
        Period=1, Statistics=["Maximum"],
    )
    assert [(p["Maximum"], p["Unit"]) for p in high["Datapoints"]] == [(150.0, "Percent")]


def test_put_metric_values_wakes_the_alarms_watching_the_metric(cloudwatch):
    # Missing data breaches, so the alarm's own first evaluation puts it in ALARM; after that,
    # with the clock frozen, only the engine being told of new data can evaluate it again.
    cloudwatch.put_metric_alarm(
        AlarmName="loss-too-high", Namespace="/aws/sagemaker/TrainingJobs", MetricName="validation:loss",
        Dimensions=[{"Name": "TrainingJobName", "Value": "job"}], Statistic="Maximum", Period=60,
        EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="breaching",
    )
    assert wait_state(cloudwatch, "loss-too-high", until="ALARM") == "ALARM"
    cloudwatch.put_metric_values("/aws/sagemaker/TrainingJobs", [
        MetricValue("validation:loss", (("TrainingJobName", "job"),), cloudwatch.clock(), 0.5)])
    assert wait_state(cloudwatch, "loss-too-high", until="OK") == "OK"


def state_of(cloudwatch, name: str) -> str:
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm["StateValue"]


def wait_state(cloudwatch, name: str, until: str) -> str:
    """The alarm's state once it is ``until``, or after 10 s (then a failure: with the clock
    frozen, nothing but the call under test can change it)."""
    deadline = time.monotonic() + 10
    while (state := state_of(cloudwatch, name)) != until and time.monotonic() < deadline:
        time.sleep(0.02)
    return state


@pytest.mark.parametrize("value, problem", [
    (MetricValue("m", (), 0.0, float("nan")), "outside CloudWatch's range"),
    (MetricValue("m", (), 0.0, 2.0**400), "outside CloudWatch's range"),
    (MetricValue("m", (), 0.0, 1.0, storage_resolution=5), "storage resolution 5"),
    (MetricValue("m", (), -15 * 86400.0, 1.0), "within the past two weeks"),
    (MetricValue("m", (("a", "1"), ("a", "2")), 0.0, 1.0), "repeat a name"),
])
def test_put_metric_values_refuses_what_put_metric_data_would_and_stores_nothing(cloudwatch, value, problem):
    now = cloudwatch.clock()
    good = MetricValue("m", (), now, 1.0)
    bad = MetricValue(value.name, value.dimensions, now + value.timestamp, value.value, value.unit,
                      value.storage_resolution)
    with pytest.raises(ValueError, match=problem):
        cloudwatch.put_metric_values("ns", [good, bad])
    assert cloudwatch.list_metrics(Namespace="ns")["Metrics"] == []

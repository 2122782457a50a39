"""The model-driven fuzzer: whatever a client sends, sagewatch answers as AWS would, never with a
server error.

Every operation of every service, on every protocol its model lists (tests/fuzz/generate.py),
gets valid, boundary, invalid and mangled requests over raw HTTP, and every answer is judged by
tests/fuzz/oracle.py: below 500 except the documented 501 NotImplemented, an error body an SDK
can read, no hang, no dropped connection, no traceback in the server's log. At the end the
server must still answer and hold no more memory than its caches account for.

It runs against a server of its own, so that the thousands of groups, alarms and metrics it
makes never meet another test's listings. ``make test`` sends about 3,000 requests, the same
ones each run (Hypothesis derandomized), and shrinks a failure to a small request.
``SAGEWATCH_FUZZ_REQUESTS=200000`` is a long run: the random requests scale with the number
(the full sweeps add a few thousand, whatever it is), are drawn afresh each run, and the run
goes on past failures to report every distinct one (``SAGEWATCH_FUZZ_SEED=<n>`` replays one).
A summary line is printed at the end of the module, and the counts go to the run's figures.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from .. import figures
from ..fuzz.generate import (
    FRAMINGS,
    PROTOCOL_IDS,
    FuzzRequest,
    Instant,
    RequestStrategies,
    Target,
    protocols_of,
    service_model,
    sweep,
    targets,
    wire,
)
from ..fuzz.oracle import (
    Answer,
    Connection,
    ServerWatch,
    Tally,
    Unanswered,
    all_models_listed,
    problems,
    unsupported_operations,
)
from ..server import ServerProcess, make_client

SERVICES = ("logs", "cloudwatch")
REQUESTS = int(os.environ.get("SAGEWATCH_FUZZ_REQUESTS", "3000"))
LONG_RUN = "SAGEWATCH_FUZZ_REQUESTS" in os.environ
SEED = os.environ.get("SAGEWATCH_FUZZ_SEED")

UNSUPPORTED = unsupported_operations(Path(__file__).resolve().parents[2] / "docs" / "compatibility.md")
SUPPORTED_TARGETS = [t for t in targets(SERVICES) if t.operation not in UNSUPPORTED[t.service]]
UNSUPPORTED_GROUPS = [(s, p) for s in SERVICES for p in protocols_of(service_model(s)) if UNSUPPORTED[s]]
# Each implemented operation first sweeps a hostile value through every member of the requests
# of the corpus AWS accepts (generate.sweep; in `make test` 20 of those requests per corpus
# request, spread over its members), then gets requests drawn at random: half the run's
# requests in all. A tenth check that the other operations answer 501 whatever they are sent.
# A long run also sweeps two requests drawn at random that the server accepted.
EXAMPLES_PER_OPERATION = max(5, REQUESTS // 2 // len(SUPPORTED_TARGETS))
EXAMPLES_PER_UNSUPPORTED_GROUP = max(5, REQUESTS // 10 // len(UNSUPPORTED_GROUPS))
SWEEP_LIMIT = None if LONG_RUN else 20
EXTRA_SWEPT_REQUESTS = 2 if LONG_RUN else 0

# Memory: how much more the server may hold at the end than once a quarter of the run is done
# (every operation's checks compiled by then), as resident anonymous memory (RssAnon: SQLite
# reads pages through mmap, file pages that do not count). What may fill up meanwhile: the
# decoded-log-block cache, at most 48 MiB (store/sqlite/logs.py); the rest is allocator slack
# and the pages SQLite writes, allowed as much again. Measured: 4 to 14 MiB over 3,000 requests,
# 13 MiB over 30,000. So a leak shows from about 40 KB a request in `make test`, and from 0.5 KB
# in a run of 200,000.
MEMORY_GROWTH_BOUND_KIB = 96 * 1024


# -- the server and what exists on it -----------------------------------------------------------


class Seeds:
    """Resources for valid requests to find (a log group with a stream and events, a metric, a
    metric alarm, a composite alarm, an anomaly detector), and their names by the model's shape
    names. The fuzz deletes them now and then: ``restore`` puts back what is missing before each
    operation's turn (idempotent calls: creating what exists is refused or updates it)."""

    def __init__(self, server: ServerProcess) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.logs = make_client("logs", server.endpoint)
        self.cloudwatch = make_client("cloudwatch", server.endpoint)
        self.group, self.stream = f"/fuzz/{suffix}", f"stream-{suffix}"
        self.namespace, self.metric = f"Fuzz/{suffix}", f"metric-{suffix}"
        self.alarm, self.composite = f"alarm-{suffix}", f"composite-{suffix}"
        self.dimensions = [{"Name": "Host", "Value": "algo-1"}]
        self.restore()
        group_arn = self.logs.describe_log_groups(logGroupNamePrefix=self.group)["logGroups"][0]["logGroupArn"]
        alarm_arn = self.cloudwatch.describe_alarms(AlarmNames=[self.alarm])["MetricAlarms"][0]["AlarmArn"]
        self.known = {
            "logs": {"LogGroupName": [self.group], "LogGroupIdentifier": [self.group, group_arn],
                     "LogStreamName": [self.stream], "AmazonResourceName": [group_arn],
                     "LogGroupArn": [group_arn]},
            "cloudwatch": {"Namespace": [self.namespace], "MetricName": [self.metric],
                           "DimensionName": ["Host"], "DimensionValue": ["algo-1"],
                           "AlarmName": [self.alarm, self.composite], "AmazonResourceName": [alarm_arn],
                           "MetricId": ["m1", "e1"]},
        }
        for service, shapes in self.known.items():
            missing = set(shapes) - set(service_model(service).shape_names)
            assert not missing, f"{service} model has no shapes {missing}: update the fuzz seeds"

    def corpus(self) -> dict[str, dict[str, list[dict]]]:
        """Per service and operation, requests AWS accepts (aws-behaviour.md §6, §7, §8; the
        botocore models' shapes) that use these resources and the options that reach furthest
        into the services: the sweep's first bases, and half the bases of random mutations."""
        now = time.time()
        now_ms = int(now * 1000)
        group, stream, group_arn = self.group, self.stream, self.known["logs"]["LogGroupArn"][0]
        alarm, composite, alarm_arn = self.alarm, self.composite, self.known["cloudwatch"]["AmazonResourceName"][0]
        metric = {"Namespace": self.namespace, "MetricName": self.metric, "Dimensions": self.dimensions}
        stat = {"Metric": metric, "Period": 60, "Stat": "p90"}
        last_hour = {"StartTime": Instant(now - 3600), "EndTime": Instant(now + 60)}
        return {
            "logs": {
                "CreateLogGroup": [{"logGroupName": f"{group}/more", "tags": {"team": "fuzz"}}],
                "CreateLogStream": [{"logGroupName": group, "logStreamName": f"{stream}/more"}],
                "DeleteLogGroup": [{"logGroupName": group}],
                "DeleteLogStream": [{"logGroupName": group, "logStreamName": stream}],
                "DeleteRetentionPolicy": [{"logGroupName": group}],
                "DescribeLogGroups": [{"logGroupNamePrefix": "/fuzz/", "limit": 5}],
                "DescribeLogStreams": [{"logGroupName": group, "orderBy": "LastEventTime", "descending": True,
                                        "limit": 5}],
                "FilterLogEvents": [{"logGroupName": group, "logStreamNames": [stream],
                                     "startTime": now_ms - 3_600_000, "endTime": now_ms + 60_000,
                                     "filterPattern": '{ $.level = "ERROR" && $.n > 3 }', "limit": 10}],
                "GetLogEvents": [{"logGroupName": group, "logStreamName": stream, "startTime": now_ms - 3_600_000,
                                  "endTime": now_ms + 60_000, "limit": 10, "startFromHead": True}],
                "ListLogGroups": [{"logGroupNamePattern": "fuzz", "limit": 5}],
                "ListTagsForResource": [{"resourceArn": group_arn}],
                "ListTagsLogGroup": [{"logGroupName": group}],
                "PutLogEvents": [{"logGroupName": group, "logStreamName": stream,
                                  "logEvents": [{"timestamp": now_ms, "message": '{"level": "ERROR", "n": 7}'}]}],
                "PutRetentionPolicy": [{"logGroupName": group, "retentionInDays": 30}],
                "TagLogGroup": [{"logGroupName": group, "tags": {"stage": "test"}}],
                "TagResource": [{"resourceArn": group_arn, "tags": {"stage": "test"}}],
                "UntagLogGroup": [{"logGroupName": group, "tags": ["stage"]}],
                "UntagResource": [{"resourceArn": group_arn, "tagKeys": ["stage"]}],
            },
            "cloudwatch": {
                "DeleteAlarms": [{"AlarmNames": [composite]}],
                "DeleteAnomalyDetector": [{"SingleMetricAnomalyDetector": {**metric, "Stat": "Average"}}],
                "DescribeAlarmHistory": [{"AlarmName": alarm, "HistoryItemType": "StateUpdate",
                                          "StartDate": Instant(now - 86400), "EndDate": Instant(now + 60),
                                          "MaxRecords": 10, "ScanBy": "TimestampAscending"}],
                "DescribeAlarms": [{"AlarmNamePrefix": "alarm-", "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
                                    "MaxRecords": 10}],
                "DescribeAlarmsForMetric": [{**metric, "Statistic": "Average", "Period": 60}],
                "DescribeAnomalyDetectors": [{**metric, "MaxResults": 10}],
                "DisableAlarmActions": [{"AlarmNames": [alarm]}],
                "EnableAlarmActions": [{"AlarmNames": [alarm]}],
                "GetMetricData": [{"MetricDataQueries": [
                    {"Id": "m1", "MetricStat": stat, "ReturnData": False},
                    {"Id": "e1", "Expression": "FILL(m1, 0) * 2", "Label": "twice"}],
                    **last_hour, "ScanBy": "TimestampAscending", "MaxDatapoints": 100,
                    "LabelOptions": {"Timezone": "+0130"}}],
                "GetMetricStatistics": [
                    {**metric, **last_hour, "Period": 60, "Statistics": ["Average", "SampleCount"]},
                    {**metric, **last_hour, "Period": 300, "ExtendedStatistics": ["p99", "TM(10%:90%)"]}],
                "ListMetrics": [{**metric, "RecentlyActive": "PT3H"}],
                "ListTagsForResource": [{"ResourceARN": alarm_arn}],
                "PutAnomalyDetector": [{"SingleMetricAnomalyDetector": {**metric, "Stat": "Average"},
                                        "Configuration": {"ExcludedTimeRanges": [
                                            {"StartTime": Instant(now - 7200), "EndTime": Instant(now - 3600)}],
                                            "MetricTimezone": "UTC"}}],
                "PutCompositeAlarm": [{"AlarmName": composite, "AlarmRule": f"ALARM({alarm}) OR OK({alarm})",
                                       "ActionsSuppressor": alarm, "ActionsSuppressorWaitPeriod": 60,
                                       "ActionsSuppressorExtensionPeriod": 60,
                                       "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:fuzz"]}],
                "PutMetricAlarm": [
                    {"AlarmName": alarm, **metric, "Statistic": "Average", "Period": 60, "EvaluationPeriods": 3,
                     "DatapointsToAlarm": 2, "Threshold": 5.0, "ComparisonOperator": "GreaterThanThreshold",
                     "TreatMissingData": "breaching"},
                    {"AlarmName": f"{alarm}-math", "EvaluationPeriods": 1, "Threshold": 1.0,
                     "ComparisonOperator": "GreaterThanThreshold", "Metrics": [
                         {"Id": "m1", "MetricStat": {**stat, "Stat": "Average"}, "ReturnData": False},
                         {"Id": "e1", "Expression": "m1 * 2", "ReturnData": True}]},
                    {"AlarmName": f"{alarm}-band", "EvaluationPeriods": 1, "ThresholdMetricId": "ad1",
                     "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold", "Metrics": [
                         {"Id": "m1", "MetricStat": {**stat, "Stat": "Average"}, "ReturnData": True},
                         {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"}]}],
                "PutMetricData": [{"Namespace": self.namespace, "MetricData": [
                    {"MetricName": self.metric, "Dimensions": self.dimensions, "Value": 1.5, "Unit": "Count",
                     "Timestamp": Instant(now), "StorageResolution": 1},
                    {"MetricName": self.metric, "Dimensions": self.dimensions, "Values": [1.0, 2.0],
                     "Counts": [1.0, 3.0]},
                    {"MetricName": self.metric, "StatisticValues": {"SampleCount": 2.0, "Sum": 3.0,
                                                                    "Minimum": 1.0, "Maximum": 2.0}}]}],
                "SetAlarmState": [{"AlarmName": alarm, "StateValue": "ALARM", "StateReason": "fuzz",
                                   "StateReasonData": '{"source": "fuzz"}'}],
                "TagResource": [{"ResourceARN": alarm_arn, "Tags": [{"Key": "stage", "Value": "test"}]}],
                "UntagResource": [{"ResourceARN": alarm_arn, "TagKeys": ["stage"]}],
            },
        }

    def restore(self) -> None:
        logs, cloudwatch = self.logs, self.cloudwatch
        for create in (lambda: logs.create_log_group(logGroupName=self.group, tags={"team": "fuzz"}),
                       lambda: logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)):
            try:
                create()
            except logs.exceptions.ResourceAlreadyExistsException:
                pass
        now_ms = int(time.time() * 1000)
        logs.put_log_events(logGroupName=self.group, logStreamName=self.stream, logEvents=[
            {"timestamp": now_ms - 1000 * i, "message": f'{{"level": "ERROR", "n": {i}}} [ip user] ERROR'}
            for i in reversed(range(20))])
        cloudwatch.put_metric_data(Namespace=self.namespace, MetricData=[
            {"MetricName": self.metric, "Dimensions": self.dimensions, "Value": float(i)} for i in range(10)])
        cloudwatch.put_metric_alarm(
            AlarmName=self.alarm, Namespace=self.namespace, MetricName=self.metric, Dimensions=self.dimensions,
            Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=5.0,
            ComparisonOperator="GreaterThanThreshold", Tags=[{"Key": "team", "Value": "fuzz"}])
        cloudwatch.put_composite_alarm(AlarmName=self.composite, AlarmRule=f"ALARM({self.alarm})")
        cloudwatch.put_anomaly_detector(SingleMetricAnomalyDetector={
            "Namespace": self.namespace, "MetricName": self.metric, "Dimensions": self.dimensions,
            "Stat": "Average"})


class Campaign:
    """The fuzz server, one connection to it, what exists on it, the strategies and the tally."""

    def __init__(self, server: ServerProcess, failures_dir: Path) -> None:
        self.failures_dir = failures_dir  # each distinct failure's request, as raw HTTP
        self.watch = ServerWatch(server.process.pid, server.log_path)
        self.connection = Connection("127.0.0.1", server.port)
        self.seeds = Seeds(server)
        self.corpus = self.seeds.corpus()
        self.tally = Tally()
        self._strategies: dict[tuple[str, str], RequestStrategies] = {}
        self._requests: dict[Target, st.SearchStrategy] = {}
        # Memory once a quarter of the run is done: every operation's checks compiled, caches warm.
        self.baseline_after = REQUESTS // 4
        self.baseline_kib: int | None = None
        self.memory_note = ""  # set by the last test

    def requests(self, target: Target) -> st.SearchStrategy[FuzzRequest]:
        if target not in self._requests:
            key = (target.service, target.protocol)
            if key not in self._strategies:
                self._strategies[key] = RequestStrategies(target.service, target.protocol,
                                                          self.seeds.known[target.service],
                                                          self.corpus[target.service])
            self._requests[target] = self._strategies[key].for_operation(target.operation)
        return self._requests[target]

    def check(self, request: FuzzRequest) -> Answer | None:
        """Send one request and judge the answer: a failure raises AssertionError in the bounded
        run and is noted in the long one (None: no answer came)."""
        target = request.target
        try:
            answer = self.connection.send(request)
        except Unanswered as unanswered:
            self.tally.record(target, None)
            found = [str(unanswered)] + ([] if self.watch.alive() else ["the server died"])
            self._fail(request, found, self.watch.new_log())
            return None
        self.tally.record(target, answer.status)
        if self.baseline_kib is None and self.tally.sent >= self.baseline_after:
            self.baseline_kib = self.watch.anonymous_kib()
        found = problems(request, answer, UNSUPPORTED[target.service])
        log = self.watch.new_log()
        if "Traceback" in log:
            found.append("the server logged a traceback")
        if found:
            self._fail(request, found, log, answer)
        return answer

    def distinct_failures_since(self, mark: int) -> str:
        """The reports of every distinct failure found since the tally had ``mark`` of them ("":
        none). A long run goes on past failures and fails the test at its end, with all of them."""
        return "\n\n".join(list(self.tally.failures.values())[mark:])

    def _fail(self, request: FuzzRequest, found: list[str], log: str, answer: Answer | None = None) -> None:
        where = ServerWatch.last_failure(log) or "no traceback"
        detail = f"\n  answer: {answer.status} {answer.body[:400]!r}" if answer is not None else ""
        report = f"{'; '.join(found)}\n  server: {where}\n{request.describe()}{detail}"
        key = f"{request.target.service}/{PROTOCOL_IDS[request.target.protocol]}: {'; '.join(found)} | {where}"
        if self.tally.failure(key, report):
            saved = self.failures_dir / f"{len(self.tally.failures):03d}-{request.target.id}.http"
            saved.write_bytes(request.raw())
            report += f"\n  request saved as {saved}"
            self.tally.failures[key] = report
        if not LONG_RUN:
            raise AssertionError(report)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, pytestconfig):
    all_models_listed(UNSUPPORTED, SERVICES)
    server = ServerProcess(tmp_path_factory.mktemp("fuzz") / "data").start()
    run = Campaign(server, tmp_path_factory.mktemp("fuzz-failures"))
    yield run
    run.connection.close()
    server.stop()
    for (service, protocol, group), count in run.tally.statuses.items():
        figures.record(f"fuzz {service}/{PROTOCOL_IDS[protocol]}: requests", count)
        if group != "2xx":
            figures.record(f"fuzz {service}/{PROTOCOL_IDS[protocol]}: {group}", count)
    figures.record("fuzz: distinct failures", len(run.tally.failures))
    # Printed past pytest's capture, so that every run shows it.
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + run.tally.summary() + (f"; {run.memory_note}" if run.memory_note else ""))
        for key in run.tally.failures:
            print(f"  {key}")
        if run.tally.failures:
            print(f"  (their requests, as raw HTTP: {run.failures_dir})")


def _fuzz(campaign: Campaign, strategy: st.SearchStrategy, examples: int, also=None) -> None:
    """Send ``examples`` requests drawn from ``strategy`` through the oracle, and each answer
    through ``also(request, answer)`` if given."""

    @settings(max_examples=examples, deadline=None, database=None, derandomize=not LONG_RUN and SEED is None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(strategy)
    def fuzz(request):
        answer = campaign.check(request)
        if also is not None and answer is not None:
            also(request, answer)

    if SEED is not None:
        fuzz = seed(int(SEED))(fuzz)
    fuzz()




# -- the fuzz ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", SUPPORTED_TARGETS, ids=lambda t: t.id)
def test_supported_operation_answers_every_request(campaign, target):
    mark = len(campaign.tally.failures)
    sound = campaign.corpus[target.service].get(target.operation, [])
    for tree in sound:  # what AWS accepts, the server accepts
        campaign.seeds.restore()
        base = wire(target, tree, FRAMINGS[target.protocol][0])
        answer = campaign.check(replace(base, mode="corpus"))
        assert answer is None or answer.status == 200, f"a request AWS accepts was refused: {base.describe()}"
        _sweep(campaign, target, tree)
    campaign.seeds.restore()
    accepted = []

    def keep_accepted(request, answer):
        if request.mode in ("valid", "boundary") and answer.status == 200:
            accepted.append(request.tree)

    _fuzz(campaign, campaign.requests(target), EXAMPLES_PER_OPERATION, also=keep_accepted)
    # Requests drawn at random that the server accepted: further bases for a long run's sweep.
    for tree in accepted[:EXTRA_SWEPT_REQUESTS]:
        _sweep(campaign, target, tree)
    found = campaign.distinct_failures_since(mark)
    assert not found, found


def _sweep(campaign: Campaign, target: Target, tree: dict) -> None:
    swept = sweep(target, tree)
    if SWEEP_LIMIT is not None and len(swept) > SWEEP_LIMIT:
        swept = swept[::math.ceil(len(swept) / SWEEP_LIMIT)]  # spread over the members
    for request in swept:
        campaign.check(request)


@pytest.mark.parametrize("service, protocol", UNSUPPORTED_GROUPS, ids=lambda v: v)
def test_unsupported_operations_answer_501_not_implemented(campaign, service, protocol):
    mark = len(campaign.tally.failures)
    operations = sorted(UNSUPPORTED[service])
    strategy = st.sampled_from(operations).flatmap(lambda op: campaign.requests(Target(service, protocol, op)))

    def reached_operation_is_not_implemented(request, answer):
        # The operation is named by a header or the path (JSON, CBOR) or the form (query): a
        # request with its framing intact reaches it, whatever its body, and is told it is not
        # implemented before anything reads the body.
        if request.mode != "mangled":
            assert answer.status == 501, request.describe()

    _fuzz(campaign, strategy, EXAMPLES_PER_UNSUPPORTED_GROUP, also=reached_operation_is_not_implemented)
    found = campaign.distinct_failures_since(mark)
    assert not found, found


def test_server_still_answers_and_memory_is_flat(campaign):
    """Last in the module: after every request above, the server runs, answers, and holds no
    more memory than its bounded caches explain."""
    assert campaign.watch.alive()
    health = FuzzRequest(SUPPORTED_TARGETS[0], "health", "GET", "/_sagewatch/health", {}, b"")
    assert campaign.connection.send(health).status == 200
    now_kib = campaign.watch.anonymous_kib()
    baseline = campaign.baseline_kib if campaign.baseline_kib is not None else now_kib
    campaign.memory_note = (f"server RssAnon {baseline // 1024} MiB after {campaign.baseline_after} requests, "
                            f"{now_kib // 1024} MiB after {campaign.tally.sent}")
    assert now_kib - baseline <= MEMORY_GROWTH_BOUND_KIB, campaign.memory_note

"""What exists on the fuzz server, for valid requests to find, and requests AWS accepts.

One class a service, each with:

- ``known``: names of resources that exist, by the model's shape names (``generate`` draws them
  often, so that requests get past "not found" into the services' logic);
- ``corpus()``: per operation, requests AWS accepts that use those resources and the options
  that reach furthest into the service (the sweep's first bases, and half the bases of random
  mutations);
- ``restore()``: puts back what the fuzz deleted or used up, before each operation's turn
  (idempotent: creating what exists is refused or updates it);
- ``close()``: ends what would outlive the server (only SageMaker's jobs do: their agents run
  in sessions of their own).

``Seeds`` holds one of each for every service the fuzz covers; a service without a class here
fails at once, naming itself.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from botocore.exceptions import ClientError

from ..server import ServerProcess, make_client
from .generate import Instant, service_model
from .seeds_events import EventsSeeds
from .seeds_sns import SNSSeeds


class LogsSeeds:
    """A log group with a stream and events."""

    def __init__(self, endpoint: str, suffix: str, work_dir: Path) -> None:
        self.client = make_client("logs", endpoint)
        self.group, self.stream = f"/fuzz/{suffix}", f"stream-{suffix}"
        self.restore()
        group_arn = self.client.describe_log_groups(logGroupNamePrefix=self.group)["logGroups"][0]["logGroupArn"]
        self.known = {"LogGroupName": [self.group], "LogGroupIdentifier": [self.group, group_arn],
                      "LogStreamName": [self.stream], "AmazonResourceName": [group_arn],
                      "LogGroupArn": [group_arn]}

    def corpus(self) -> dict[str, list[dict]]:
        # aws-behaviour.md §6; botocore:logs shapes.
        now_ms = int(time.time() * 1000)
        group, stream, group_arn = self.group, self.stream, self.known["LogGroupArn"][0]
        return {
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
        }

    def restore(self) -> None:
        logs = self.client
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

    def close(self) -> None:
        pass


class CloudWatchSeeds:
    """A metric with data, a metric alarm, a composite alarm, an anomaly detector."""

    def __init__(self, endpoint: str, suffix: str, work_dir: Path) -> None:
        self.client = make_client("cloudwatch", endpoint)
        self.namespace, self.metric = f"Fuzz/{suffix}", f"metric-{suffix}"
        self.alarm, self.composite = f"alarm-{suffix}", f"composite-{suffix}"
        self.dimensions = [{"Name": "Host", "Value": "algo-1"}]
        self.restore()
        alarm_arn = self.client.describe_alarms(AlarmNames=[self.alarm])["MetricAlarms"][0]["AlarmArn"]
        self.known = {"Namespace": [self.namespace], "MetricName": [self.metric],
                      "DimensionName": ["Host"], "DimensionValue": ["algo-1"],
                      "AlarmName": [self.alarm, self.composite], "AmazonResourceName": [alarm_arn],
                      "MetricId": ["m1", "e1"]}

    def corpus(self) -> dict[str, list[dict]]:
        # aws-behaviour.md §7, §8; botocore:cloudwatch shapes.
        now = time.time()
        alarm, composite, alarm_arn = self.alarm, self.composite, self.known["AmazonResourceName"][0]
        metric = {"Namespace": self.namespace, "MetricName": self.metric, "Dimensions": self.dimensions}
        stat = {"Metric": metric, "Period": 60, "Stat": "p90"}
        last_hour = {"StartTime": Instant(now - 3600), "EndTime": Instant(now + 60)}
        return {
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
        }

    def restore(self) -> None:
        cloudwatch = self.client
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

    def close(self) -> None:
        pass


# An image nothing maps (no [jobs.images] glob, no built-in host mapping: docs/jobs.md "Image
# resolution"): a job on it fails before any instance starts, with SageMaker's "ClientError:
# Cannot pull algorithm container ..." (jobs/images.py UNKNOWN_IMAGE). Every job the fuzz makes
# with a valid request of its own is on such an image, or on one drawn at random from the
# model's pattern (which no mapping matches either), so none starts a process.
UNRUNNABLE_IMAGE = "000000000000.dkr.ecr.us-east-1.amazonaws.com/fuzz-image-nothing-maps:1"
# Images that do run here: script mode runs the program whatever the image; the scikit-learn
# processing image is a built-in host mapping, so its ContainerEntrypoint runs on this machine.
SCRIPT_MODE_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-cpu-py311"
HOST_MAPPED_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
# How long the jobs that run may sleep: longer than any fuzz run, ended by a stop long before.
SLEEP_SECONDS = 3600
JOBS_END_WITHIN_S = 60  # a stop ends a sleeping instance at once (SIGTERM); the rest is slack


class SageMakerSeeds:
    """Per job kind, a job that failed at once (its image is UNRUNNABLE_IMAGE) and a job that
    runs (it sleeps) for the Stop operations to stop: the only job the fuzz starts a process
    for. Nothing stops it before its Stop operation's turn (operations take turns in the
    model's order, and only Stop* stop a job); ``restore`` cannot run it again (job names are
    never reused), so later Stop requests find it ended, as AWS's would. ``close`` stops every
    job still running, whoever made it, and waits until each has ended."""

    KINDS = ("Training", "Processing")

    def __init__(self, endpoint: str, suffix: str, work_dir: Path) -> None:
        self.client = make_client("sagemaker", endpoint)
        self.failed, self.running = f"fuzz-failed-{suffix}", f"fuzz-running-{suffix}"
        self.code_dir = work_dir / "code"
        self.code_dir.mkdir(parents=True, exist_ok=True)
        (self.code_dir / "sleep.py").write_text(f"import time\ntime.sleep({SLEEP_SECONDS})\n")
        self.output = (work_dir / "output").as_uri()
        self.restore()
        arns = [self.client.describe_training_job(TrainingJobName=name)["TrainingJobArn"]
                for name in (self.failed, self.running)]
        arns += [self.client.describe_processing_job(ProcessingJobName=name)["ProcessingJobArn"]
                 for name in (self.failed, self.running)]
        self.arns = arns
        self.known = {"TrainingJobName": [self.failed, self.running],
                      "ProcessingJobName": [self.failed, self.running],
                      "ResourceArn": arns, "NameContains": ["fuzz-"]}

    def _training(self, name: str, **changes) -> dict:
        request = {
            "TrainingJobName": name, "RoleArn": ROLE,
            "AlgorithmSpecification": {"TrainingImage": UNRUNNABLE_IMAGE, "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": self.output},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            "Tags": [{"Key": "team", "Value": "fuzz"}],
        }
        request.update(changes)
        return request

    def _processing(self, name: str, **changes) -> dict:
        request = {
            "ProcessingJobName": name, "RoleArn": ROLE,
            "AppSpecification": {"ImageUri": UNRUNNABLE_IMAGE},
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 1}},
            "Tags": [{"Key": "team", "Value": "fuzz"}],
        }
        request.update(changes)
        return request

    def corpus(self) -> dict[str, list[dict]]:
        # aws-behaviour.md §1-§4; botocore:sagemaker CreateTrainingJobRequest and the rest. S3
        # URIs are file://, sagewatch's documented extension (docs/jobs.md), so that nothing
        # reaches for a network.
        now = time.time()
        data = f"{self.output}/data"
        training = self._training(
            f"fuzz-create-{self.failed}",
            AlgorithmSpecification={
                "TrainingImage": UNRUNNABLE_IMAGE, "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "validation:loss", "Regex": r"val_loss=([0-9.eE+-]+)"},
                                      {"Name": "train:acc", "Regex": r"acc: (\d+\.\d+)"}],
                "EnableSageMakerMetricsTimeSeries": True},
            HyperParameters={"epochs": "3", "learning_rate": "0.1"},
            InputDataConfig=[{"ChannelName": "train", "InputMode": "File", "ContentType": "text/csv",
                              "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": data,
                                                              "S3DataDistributionType": "FullyReplicated"}}}],
            ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 5},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            Environment={"MODE": "fuzz"},
            EnableNetworkIsolation=False,
        )
        processing = self._processing(
            f"fuzz-create-{self.failed}",
            AppSpecification={"ImageUri": UNRUNNABLE_IMAGE,
                              "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/x.py"],
                              "ContainerArguments": ["--rows", "10"]},
            ProcessingInputs=[{"InputName": "data", "S3Input": {
                "S3Uri": data, "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix",
                "S3InputMode": "File"}}],
            ProcessingOutputConfig={"Outputs": [{"OutputName": "report", "S3Output": {
                "S3Uri": f"{self.output}/report", "LocalPath": "/opt/ml/processing/output",
                "S3UploadMode": "EndOfJob"}}]},
            StoppingCondition={"MaxRuntimeInSeconds": 600},
            Environment={"MODE": "fuzz"},
        )
        listing = {"NameContains": "fuzz-", "CreationTimeAfter": Instant(now - 3600),
                   "CreationTimeBefore": Instant(now + 3600), "LastModifiedTimeAfter": Instant(now - 3600),
                   "MaxResults": 1}
        corpus: dict[str, list[dict]] = {
            "CreateTrainingJob": [training],
            "CreateProcessingJob": [processing],
            "ListTrainingJobs": [{**listing, "StatusEquals": "Failed", "SortBy": "Name", "SortOrder": "Descending"},
                                 {**listing, "SortBy": "Status"}],
            "ListProcessingJobs": [{**listing, "StatusEquals": "Failed", "SortBy": "CreationTime"},
                                   {**listing, "SortBy": "Status", "SortOrder": "Descending"}],
            "AddTags": [{"ResourceArn": arn, "Tags": [{"Key": "stage", "Value": "test"}]} for arn in self.arns[::2]],
            "ListTags": [{"ResourceArn": arn, "MaxResults": 50} for arn in self.arns[::2]],
            "DeleteTags": [{"ResourceArn": arn, "TagKeys": ["stage"]} for arn in self.arns[::2]],
        }
        for kind in self.KINDS:
            member = f"{kind}JobName"
            corpus[f"Describe{kind}Job"] = [{member: self.failed}, {member: self.running}]
            corpus[f"Stop{kind}Job"] = [{member: self.running}]
        return corpus

    def restore(self) -> None:
        sagemaker = self.client
        running_training = self._training(
            self.running,
            AlgorithmSpecification={"TrainingImage": SCRIPT_MODE_IMAGE, "TrainingInputMode": "File"},
            HyperParameters={"sagemaker_program": json.dumps("sleep.py"),
                             "sagemaker_submit_directory": json.dumps(self.code_dir.as_uri())})
        running_processing = self._processing(
            self.running,
            AppSpecification={"ImageUri": HOST_MAPPED_IMAGE, "ContainerEntrypoint": ["sleep", str(SLEEP_SECONDS)]})
        for create in (lambda: sagemaker.create_training_job(**self._training(self.failed)),
                       lambda: sagemaker.create_training_job(**running_training),
                       lambda: sagemaker.create_processing_job(**self._processing(self.failed)),
                       lambda: sagemaker.create_processing_job(**running_processing)):
            try:
                create()
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceInUse":
                    raise

    def unfinished(self) -> list[tuple[str, str, str]]:
        """(kind, name, status) of every job not ended, whoever made it."""
        found = []
        for kind in self.KINDS:
            for status in ("InProgress", "Stopping"):
                pages = self.client.get_paginator(f"list_{kind.lower()}_jobs").paginate(StatusEquals=status)
                found += [(kind, summary[f"{kind}JobName"], status)
                          for page in pages for summary in page[f"{kind}JobSummaries"]]
        return found

    def close(self) -> list[tuple[str, str, str]]:
        """Stops every job still running and waits until each has ended; what had not ended in
        JOBS_END_WITHIN_S (nothing, when all is well)."""
        for kind, name, status in self.unfinished():
            if status == "InProgress":
                try:
                    getattr(self.client, f"stop_{kind.lower()}_job")(**{f"{kind}JobName": name})
                except ClientError:
                    pass  # it ended meanwhile
        deadline = time.monotonic() + JOBS_END_WITHIN_S
        while (left := self.unfinished()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left


class STSSeeds:
    """Nothing to make: GetCallerIdentity takes no input."""

    def __init__(self, endpoint: str, suffix: str, work_dir: Path) -> None:
        self.known: dict[str, list] = {}

    def corpus(self) -> dict[str, list[dict]]:
        return {"GetCallerIdentity": [{}]}

    def restore(self) -> None:
        pass

    def close(self) -> None:
        pass


SEEDS_BY_SERVICE = {"logs": LogsSeeds, "cloudwatch": CloudWatchSeeds, "sagemaker": SageMakerSeeds,
                    "sts": STSSeeds, "sns": SNSSeeds, "events": EventsSeeds}


class Seeds:
    """The seeds of each service the fuzz covers, on one server."""

    def __init__(self, server: ServerProcess, services: tuple[str, ...], work_dir: Path) -> None:
        missing = [s for s in services if s not in SEEDS_BY_SERVICE]
        assert not missing, f"no fuzz seeds for {missing}: add a class to tests/fuzz/seeds.py"
        suffix = uuid.uuid4().hex[:8]
        self.by_service = {service: SEEDS_BY_SERVICE[service](server.endpoint, suffix, work_dir / service)
                           for service in services}
        self.known = {service: seeds.known for service, seeds in self.by_service.items()}
        for service, shapes in self.known.items():
            unknown = set(shapes) - set(service_model(service).shape_names)
            assert not unknown, f"{service} model has no shapes {unknown}: update the fuzz seeds"

    def corpus(self) -> dict[str, dict[str, list[dict]]]:
        corpus = {service: seeds.corpus() for service, seeds in self.by_service.items()}
        for service, operations in corpus.items():
            unknown = set(operations) - set(service_model(service).operation_names)
            assert not unknown, f"{service} model has no operations {unknown}: update the fuzz seeds"
        return corpus

    def restore(self, service: str) -> None:
        self.by_service[service].restore()

    def close(self) -> dict[str, object]:
        """Per service, what its close left behind (None or empty: nothing)."""
        return {service: seeds.close() for service, seeds in self.by_service.items()}

"""The SageMaker job API through boto3 against a real server: Create / Describe / List / Stop for
training and processing jobs, tags, AWS's errors and wording, and MetricDefinitions read from a
job's log lines into CloudWatch and FinalMetricDataList.

The jobs here sleep (script mode, or a processing entrypoint) so that they stay InProgress while
the API is examined; each is stopped when its test ends. They run on a server of this module's
own, so that they never hold capacity that other tests' jobs wait for.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from ..server import ServerProcess, make_client

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
ACCOUNT_REGION = "us-east-1:000000000000"
TRAINING_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-cpu-py311"
PROCESSING_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
S3_PATTERN = "(https|s3)://([^/]+)/?(.*)"


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("sagemaker-api") / "data").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sagemaker(api_server):
    return make_client("sagemaker", api_server.endpoint)


@pytest.fixture(scope="module")
def raw_sagemaker(api_server):
    """Sends whatever it is given (botocore's own checks off): the server's answers are tested."""
    return make_client("sagemaker", api_server.endpoint, parameter_validation=False)


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory):
    """A script-mode submit directory whose program sleeps (long enough for any test here)."""
    directory = tmp_path_factory.mktemp("code")
    (directory / "sleep.py").write_text("import time\ntime.sleep(300)\n")
    return directory


@pytest.fixture
def jobs(sagemaker, code_dir):
    """Creates jobs and stops, when the test ends, those still running."""
    created: list[tuple[str, str]] = []

    class Jobs:
        def training(self, name: str, **changes) -> dict:
            request = self.training_request(name, **changes)
            sagemaker.create_training_job(**request)
            created.append(("training", name))
            return request

        def processing(self, name: str, **changes) -> dict:
            request = self.processing_request(name, **changes)
            sagemaker.create_processing_job(**request)
            created.append(("processing", name))
            return request

        @staticmethod
        def training_request(name: str, **changes) -> dict:
            request = {
                "TrainingJobName": name,
                "RoleArn": ROLE,
                "AlgorithmSpecification": {"TrainingImage": TRAINING_IMAGE, "TrainingInputMode": "File"},
                "HyperParameters": {"sagemaker_program": json.dumps("sleep.py"),
                                    "sagemaker_submit_directory": json.dumps(code_dir.as_uri())},
                "OutputDataConfig": {"S3OutputPath": "file:///tmp/sagewatch-api-test-output"},
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            }
            request.update(changes)
            return request

        @staticmethod
        def processing_request(name: str, **changes) -> dict:
            request = {
                "ProcessingJobName": name,
                "RoleArn": ROLE,
                "AppSpecification": {"ImageUri": PROCESSING_IMAGE,
                                     "ContainerEntrypoint": ["python3", "-c", "import time; time.sleep(300)"]},
                "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                          "VolumeSizeInGB": 1}},
            }
            request.update(changes)
            return request

    yield Jobs()
    for kind, name in created:
        try:
            getattr(sagemaker, f"stop_{kind}_job")(**{f"{kind.capitalize()}JobName": name})
        except ClientError:
            pass  # already ended, or refused by a test
    # Wait until each has ended: an agent whose server goes away keeps its undelivered lines and
    # retries for ever, so a job must not outlive the server that runs it.
    for kind, name in created:
        describe = getattr(sagemaker, f"describe_{kind}_job")
        deadline = time.monotonic() + 30
        while describe(**{f"{kind.capitalize()}JobName": name})[f"{kind.capitalize()}JobStatus"] in (
                "InProgress", "Stopping"):
            assert time.monotonic() < deadline, f"{kind} job {name} did not end after Stop"
            time.sleep(0.05)


def unique(prefix: str = "job") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_of(call) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def training_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{ACCOUNT_REGION}:training-job/{name.lower()}"


# -- create and describe ---------------------------------------------------------------------------


def test_create_training_job_answers_its_arn_and_describe_shows_the_fresh_job(sagemaker, jobs):
    name = unique("Fresh")
    before = time.time()
    request = jobs.training(name, Environment={"A": "1"}, Tags=[{"Key": "team", "Value": "ml"}])
    job = sagemaker.describe_training_job(TrainingJobName=name)

    assert job["TrainingJobName"] == name
    assert job["TrainingJobArn"] == training_arn(name)  # the name lower-cased in the ARN
    assert job["TrainingJobStatus"] == "InProgress"
    # The request is echoed, with the defaults AWS reports for what it left out.
    assert job["RoleArn"] == ROLE
    assert job["HyperParameters"] == request["HyperParameters"]
    assert job["Environment"] == {"A": "1"}
    assert job["ResourceConfig"] == request["ResourceConfig"]
    assert job["OutputDataConfig"] == request["OutputDataConfig"]
    assert job["AlgorithmSpecification"] == {**request["AlgorithmSpecification"],
                                             "EnableSageMakerMetricsTimeSeries": False}
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert (job["EnableNetworkIsolation"], job["EnableInterContainerTrafficEncryption"],
            job["EnableManagedSpotTraining"]) == (False, False, False)
    assert "Tags" not in job
    created = job["CreationTime"].timestamp()
    assert before - 1 <= created <= time.time() + 1
    assert job["LastModifiedTime"].timestamp() >= created
    # It began Starting, with AWS's message (reference §4.2).
    first = job["SecondaryStatusTransitions"][0]
    assert (first["Status"], first["StatusMessage"]) == ("Starting", "Preparing the instances for training")
    assert first["StartTime"] == job["CreationTime"]
    # Nothing of an ended job yet.
    for absent in ("TrainingEndTime", "TrainingTimeInSeconds", "BillableTimeInSeconds", "FailureReason"):
        assert absent not in job


def test_create_processing_job_and_describe(sagemaker, jobs, tmp_path):
    name = unique("proc")
    (tmp_path / "input").mkdir()  # an input that exists: the job runs (sleeping) instead of failing
    request = jobs.processing(
        name,
        ProcessingInputs=[{"InputName": "data", "S3Input": {
            "S3Uri": (tmp_path / "input").as_uri(), "LocalPath": "/opt/ml/processing/input",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": (tmp_path / "output").as_uri(), "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    job = sagemaker.describe_processing_job(ProcessingJobName=name)
    assert job["ProcessingJobArn"] == f"arn:aws:sagemaker:{ACCOUNT_REGION}:processing-job/{name}"
    assert job["ProcessingJobStatus"] == "InProgress"
    for member in ("AppSpecification", "ProcessingResources", "ProcessingInputs", "ProcessingOutputConfig",
                   "StoppingCondition", "RoleArn"):
        assert job[member] == request[member], member
    assert "ProcessingEndTime" not in job and "ExitMessage" not in job


def test_a_duplicate_name_is_resource_in_use_whatever_its_case(sagemaker, raw_sagemaker, jobs):
    name = unique("Dup")
    jobs.training(name)
    for again in (name, name.upper(), name.lower()):
        code, message, status = error_of(lambda: raw_sagemaker.create_training_job(**jobs.training_request(again)))
        assert (code, status) == ("ResourceInUse", 400)
        assert message == ("Training job names must be unique within an AWS account and region, and a "
                           f"training job with this name already exists ({training_arn(name)})")
    # Describe finds it under any case too.
    assert sagemaker.describe_training_job(TrainingJobName=name.upper())["TrainingJobName"] == name

    processing = unique("dup")
    jobs.processing(processing)
    code, message, _ = error_of(lambda: raw_sagemaker.create_processing_job(**jobs.processing_request(processing)))
    assert code == "ResourceInUse"
    assert message.startswith("Processing job names must be unique within an AWS account and region")


def test_unknown_jobs(raw_sagemaker):
    name = unique("ghost")
    for call in (lambda: raw_sagemaker.describe_training_job(TrainingJobName=name),
                 lambda: raw_sagemaker.stop_training_job(TrainingJobName=name)):
        assert error_of(call) == ("ValidationException", "Requested resource not found.", 400)
    expected = f"Could not find processing job 'arn:aws:sagemaker:{ACCOUNT_REGION}:processing-job/{name}'."
    for call in (lambda: raw_sagemaker.describe_processing_job(ProcessingJobName=name),
                 lambda: raw_sagemaker.stop_processing_job(ProcessingJobName=name)):
        assert error_of(call) == ("ValidationException", expected, 400)


# -- validation ------------------------------------------------------------------------------------


def _validation(raw_sagemaker, request: dict, operation: str = "create_training_job") -> str:
    code, message, status = error_of(lambda: getattr(raw_sagemaker, operation)(**request))
    assert (code, status) == ("ValidationException", 400), message
    return message


def test_model_rules_are_worded_as_aws_words_them(raw_sagemaker, jobs):
    message = _validation(raw_sagemaker, jobs.training_request("bad_name"))
    assert message == ("1 validation error detected: Value 'bad_name' at 'trainingJobName' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")

    request = jobs.training_request(unique(), OutputDataConfig={"S3OutputPath": "ftp://host/out"})
    assert _validation(raw_sagemaker, request) == (
        "1 validation error detected: Value 'ftp://host/out' at 'outputDataConfig.s3OutputPath' failed to "
        f"satisfy constraint: Member must satisfy regular expression pattern: {S3_PATTERN}")

    request = jobs.training_request(unique(), ResourceConfig={"InstanceType": "ml.z9.huge", "InstanceCount": 1})
    message = _validation(raw_sagemaker, request)
    assert message.startswith("1 validation error detected: Value 'ml.z9.huge' at 'resourceConfig.instanceType' "
                              "failed to satisfy constraint: Member must satisfy enum value set: [")


def test_file_uris_are_accepted_in_s3_uri_fields_but_not_an_empty_file_uri(raw_sagemaker, jobs):
    request = jobs.training_request(unique(), OutputDataConfig={"S3OutputPath": "file://"})
    assert "Member must satisfy regular expression pattern" in _validation(raw_sagemaker, request)
    name = unique()
    channels = [{"ChannelName": "train", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": "file:///tmp/sagewatch-api-test-input"}}}]
    jobs.training(name, InputDataConfig=channels)  # accepted


def test_what_a_job_needs_to_run_here(raw_sagemaker, jobs):
    request = jobs.training_request(unique())
    del request["ResourceConfig"]
    assert _validation(raw_sagemaker, request) == (
        "1 validation error detected: Value null at 'resourceConfig' failed to satisfy constraint: "
        "Member must not be null")

    request = jobs.training_request(unique(), ResourceConfig={"InstanceCount": 1})
    assert "Value null at 'resourceConfig.instanceType'" in _validation(raw_sagemaker, request)

    request = jobs.training_request(unique(), ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 0})
    assert "Value '0' at 'resourceConfig.instanceCount'" in _validation(raw_sagemaker, request)

    request = jobs.training_request(unique())
    del request["AlgorithmSpecification"]
    assert "Value null at 'algorithmSpecification'" in _validation(raw_sagemaker, request)

    request = jobs.training_request(unique(), AlgorithmSpecification={"TrainingInputMode": "File"})
    assert "either the algorithm name or the image URI" in _validation(raw_sagemaker, request)


def test_a_metric_regex_that_cannot_run_is_refused(raw_sagemaker, jobs):
    for regex in ("loss=(", r"(a)\1", "(?=x)y"):
        request = jobs.training_request(unique(), AlgorithmSpecification={
            "TrainingImage": TRAINING_IMAGE, "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "loss", "Regex": regex}]})
        assert _validation(raw_sagemaker, request).startswith(
            f"Invalid regular expression '{regex}' for metric 'loss'")


def test_processing_paths_must_be_under_opt_ml_processing(raw_sagemaker, jobs):
    for path in ("/etc/passwd", "/opt/ml/processing/../../x", "/opt/ml/input"):
        request = jobs.processing_request(unique(), ProcessingInputs=[{"InputName": "data", "S3Input": {
            "S3Uri": "file:///tmp/x", "LocalPath": path, "S3DataType": "S3Prefix", "S3InputMode": "File"}}])
        assert _validation(raw_sagemaker, request, "create_processing_job") == (
            f"LocalPath '{path}' of 'data' must be a path under /opt/ml/processing/")


# -- stop ------------------------------------------------------------------------------------------


def test_stop_moves_a_job_to_stopping_and_a_second_stop_is_refused(sagemaker, raw_sagemaker, jobs):
    name = unique("stop")
    jobs.training(name)
    sagemaker.stop_training_job(TrainingJobName=name)
    job = sagemaker.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] in ("Stopping", "Stopped")
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert "Stopping" in statuses
    stopping = job["SecondaryStatusTransitions"][statuses.index("Stopping")]
    assert stopping["StatusMessage"] == "Stopping the training job"
    # Every transition but the open one has ended, where the next began.
    transitions = job["SecondaryStatusTransitions"]
    for earlier, later in zip(transitions, transitions[1:]):
        assert earlier["EndTime"] == later["StartTime"]

    code, message, status = error_of(lambda: raw_sagemaker.stop_training_job(TrainingJobName=name))
    assert (code, status) == ("ValidationException", 400)
    assert re.fullmatch(r"The request was rejected because the training job is in status (Stopping|Stopped)\.",
                        message)

    processing = unique("stop")
    jobs.processing(processing)
    sagemaker.stop_processing_job(ProcessingJobName=processing)
    assert sagemaker.describe_processing_job(ProcessingJobName=processing)["ProcessingJobStatus"] in (
        "Stopping", "Stopped")
    code, message, _ = error_of(lambda: raw_sagemaker.stop_processing_job(ProcessingJobName=processing))
    assert re.fullmatch(r"The request was rejected because the processing job is in status (Stopping|Stopped)\.",
                        message)


# -- list ------------------------------------------------------------------------------------------


def _names(response: dict, kind: str = "Training") -> list[str]:
    return [s[f"{kind}JobName"] for s in response[f"{kind}JobSummaries"]]


@pytest.fixture
def three_jobs(sagemaker, jobs):
    """Three training jobs created in the order b, c, a (a little apart), the middle one stopped."""
    tag = uuid.uuid4().hex[:8]
    names = [f"lst{tag}-b", f"lst{tag}-c", f"lst{tag}-a"]
    for name in names:
        jobs.training(name)
        time.sleep(0.01)
    sagemaker.stop_training_job(TrainingJobName=names[1])
    return tag, names


def test_list_filters_and_sorts(sagemaker, three_jobs):
    tag, (b, c, a) = three_jobs
    listed = sagemaker.list_training_jobs(NameContains=f"lst{tag}")
    assert _names(listed) == [b, c, a]  # default: CreationTime, Ascending (botocore)
    summary = listed["TrainingJobSummaries"][0]
    assert summary["TrainingJobArn"] == training_arn(b)
    assert summary["TrainingJobStatus"] == "InProgress"
    assert {"CreationTime", "LastModifiedTime", "SecondaryStatus"} <= set(summary)

    assert _names(sagemaker.list_training_jobs(NameContains=f"lst{tag}", SortOrder="Descending")) == [a, c, b]
    assert _names(sagemaker.list_training_jobs(NameContains=f"lst{tag}", SortBy="Name")) == [a, b, c]
    assert _names(sagemaker.list_training_jobs(NameContains=f"lst{tag}", SortBy="Name",
                                               SortOrder="Descending")) == [c, b, a]
    # Status sorts by the status text: InProgress before Stopped / Stopping.
    assert _names(sagemaker.list_training_jobs(NameContains=f"lst{tag}", SortBy="Status")) == [b, a, c]
    assert _names(sagemaker.list_training_jobs(NameContains=f"lst{tag}", StatusEquals="InProgress")) == [b, a]
    assert _names(sagemaker.list_training_jobs(NameContains=f"lst{tag}", StatusEquals="Completed")) == []
    assert _names(sagemaker.list_training_jobs(NameContains=f"lst{tag}-c")) == [c]

    stopped = sagemaker.describe_training_job(TrainingJobName=c)
    assert stopped["LastModifiedTime"] > stopped["CreationTime"]  # the stop modified it


def test_time_filters_are_strict(sagemaker, jobs):
    """Two jobs created in different seconds (a client sends whole seconds: botocore's legacy
    timestamp precision), filtered at the second the later one was created in."""
    tag = uuid.uuid4().hex[:8]
    earlier, later = f"time{tag}-1", f"time{tag}-2"
    jobs.training(earlier)
    time.sleep(1.05 - time.time() % 1)
    jobs.training(later)
    boundary = sagemaker.describe_training_job(TrainingJobName=later)["CreationTime"].replace(microsecond=0)
    assert _names(sagemaker.list_training_jobs(NameContains=f"time{tag}", CreationTimeAfter=boundary)) == [later]
    assert _names(sagemaker.list_training_jobs(NameContains=f"time{tag}", CreationTimeBefore=boundary)) == [earlier]
    assert _names(sagemaker.list_training_jobs(NameContains=f"time{tag}", LastModifiedTimeAfter=boundary)) == [later]
    assert _names(sagemaker.list_training_jobs(NameContains=f"time{tag}",
                                               LastModifiedTimeBefore=boundary)) == [earlier]


@pytest.mark.parametrize("sort_by", ["CreationTime", "Name", "Status"])
@pytest.mark.parametrize("sort_order", ["Ascending", "Descending"])
def test_pages_walk_the_whole_sorted_list(sagemaker, three_jobs, sort_by, sort_order):
    tag, _ = three_jobs
    kwargs = dict(NameContains=f"lst{tag}", SortBy=sort_by, SortOrder=sort_order)
    whole = _names(sagemaker.list_training_jobs(**kwargs))
    walked, token, pages = [], None, 0
    while True:
        page = sagemaker.list_training_jobs(MaxResults=1, **kwargs, **({"NextToken": token} if token else {}))
        walked += _names(page)
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert walked == whole and len(whole) == 3
    assert pages == 3  # no empty last page: the last page carries no token


def test_max_results_defaults_to_ten(sagemaker, jobs):
    tag = uuid.uuid4().hex[:8]
    for index in range(11):
        jobs.training(f"ten{tag}-{index:02d}")
    first = sagemaker.list_training_jobs(NameContains=f"ten{tag}")
    assert len(first["TrainingJobSummaries"]) == 10 and "NextToken" in first
    rest = sagemaker.list_training_jobs(NameContains=f"ten{tag}", NextToken=first["NextToken"])
    assert _names(rest) == [f"ten{tag}-10"] and "NextToken" not in rest


def test_a_made_up_or_foreign_token_is_refused(sagemaker, raw_sagemaker, three_jobs):
    tag, _ = three_jobs
    token = sagemaker.list_training_jobs(NameContains=f"lst{tag}", MaxResults=1)["NextToken"]
    for bad, kwargs in [("not-a-token", {}), ("eyJ4Ijoi", {}), (token, {"SortBy": "Name"}),
                        (token, {"SortOrder": "Descending"})]:
        code, message, status = error_of(lambda: raw_sagemaker.list_training_jobs(NextToken=bad, **kwargs))
        assert (code, message, status) == ("ValidationException", "Invalid pagination token provided.", 400)
    code, _, _ = error_of(lambda: raw_sagemaker.list_processing_jobs(NextToken=token))
    assert code == "ValidationException"


def test_list_processing_jobs(sagemaker, jobs):
    tag = uuid.uuid4().hex[:8]
    names = [f"plst{tag}-{i}" for i in range(3)]
    for name in names:
        jobs.processing(name)
    listed = sagemaker.list_processing_jobs(NameContains=f"plst{tag}", SortBy="Name", SortOrder="Descending")
    assert _names(listed, "Processing") == names[::-1]
    summary = listed["ProcessingJobSummaries"][0]
    assert summary["ProcessingJobStatus"] == "InProgress"
    assert summary["ProcessingJobArn"].endswith(f":processing-job/{names[2]}")
    page = sagemaker.list_processing_jobs(NameContains=f"plst{tag}", MaxResults=2)
    assert len(page["ProcessingJobSummaries"]) == 2
    rest = sagemaker.list_processing_jobs(NameContains=f"plst{tag}", MaxResults=2, NextToken=page["NextToken"])
    assert _names(page, "Processing") + _names(rest, "Processing") == names


# -- tags ------------------------------------------------------------------------------------------


def test_tags_add_list_delete(sagemaker, raw_sagemaker, jobs):
    name = unique("tags")
    jobs.training(name, Tags=[{"Key": "team", "Value": "ml"}, {"Key": "stage", "Value": "dev"}])
    arn = training_arn(name)
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "dev"},
                                                            {"Key": "team", "Value": "ml"}]
    added = sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "prod"}, {"Key": "x", "Value": ""}])
    assert added["Tags"] == [{"Key": "stage", "Value": "prod"}, {"Key": "x", "Value": ""}]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["team", "absent"])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "prod"},
                                                            {"Key": "x", "Value": ""}]

    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(49)]
    code, message, _ = error_of(lambda: raw_sagemaker.add_tags(ResourceArn=arn, Tags=too_many))
    assert (code, message) == ("ValidationException",
                               "The number of tags (51) exceeds the limit of 50 tags per resource.")
    # AWS's prefix is refused on adding and on removing (services/tagging.py).
    code, message, _ = error_of(lambda: raw_sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "aws:x", "Value": ""}]))
    assert (code, message) == ("ValidationException", "System prefix 'aws:' reserved for AWS usage in tag key: aws:x")
    code, _, _ = error_of(lambda: raw_sagemaker.delete_tags(ResourceArn=arn, TagKeys=["aws:x"]))
    assert code == "ValidationException"
    code, _, _ = error_of(lambda: raw_sagemaker.create_training_job(
        **jobs.training_request(unique(), Tags=[{"Key": "AWS:y", "Value": "v"}])))
    assert code == "ValidationException"

    processing = unique("tags")
    jobs.processing(processing, Tags=[{"Key": "k", "Value": "v"}])
    processing_arn = f"arn:aws:sagemaker:{ACCOUNT_REGION}:processing-job/{processing}"
    assert sagemaker.list_tags(ResourceArn=processing_arn)["Tags"] == [{"Key": "k", "Value": "v"}]

    for missing in (training_arn(unique("ghost")), f"arn:aws:sagemaker:{ACCOUNT_REGION}:model/{name}",
                    arn.replace("us-east-1", "eu-west-1")):
        code, message, status = error_of(lambda: raw_sagemaker.list_tags(ResourceArn=missing))
        assert (code, message, status) == ("ValidationException", f"Resource {missing} does not exist.", 400)


# -- MetricDefinitions -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def logs(api_server):
    return make_client("logs", api_server.endpoint)


@pytest.fixture(scope="module")
def cloudwatch(api_server):
    return make_client("cloudwatch", api_server.endpoint)


def _put_lines(logs, stream: str, lines: list[tuple[float, str]]) -> None:
    group = "/aws/sagemaker/TrainingJobs"
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": int(t * 1000), "message": m} for t, m in lines])


def test_metric_definitions_turn_log_lines_into_metrics_and_final_metric_data(sagemaker, jobs, logs, cloudwatch):
    name = unique("metrics")
    definitions = [{"Name": "train:loss", "Regex": r"loss=(\S+)"},
                   {"Name": "validation:accuracy", "Regex": r"val_acc: ([0-9.eE+-]+)%"}]
    jobs.training(name, AlgorithmSpecification={"TrainingImage": TRAINING_IMAGE, "TrainingInputMode": "File",
                                                "MetricDefinitions": definitions})
    now = time.time()
    minute = now - now % 60 - 120  # two whole minutes ago: complete periods
    lines = [
        (minute + 1, "epoch 1 loss=0.5 val_acc: 70%"),
        (minute + 2, "epoch 2 loss=0.25"),
        (minute + 3, "loss=abc val_acc: nan%"),          # not numbers: nothing published
        (minute + 61, "epoch 3 loss=1e-3\nval_acc: 9.0E+01%"),
        (minute + 62, "no metric on this line"),
    ]
    # A stream named as SageMaker names it (reference §1), an hour's epoch back so that it never
    # meets the one a running job's agent creates.
    _put_lines(logs, f"{name}/algo-1-{int(now) - 3600}", lines)

    # TrainingJobAnalytics' query (reference §11.3): Average per minute, dimension TrainingJobName.
    def series(metric: str) -> dict[float, float]:
        points = cloudwatch.get_metric_statistics(
            Namespace="/aws/sagemaker/TrainingJobs", MetricName=metric,
            Dimensions=[{"Name": "TrainingJobName", "Value": name}],
            StartTime=minute - 60, EndTime=minute + 180, Period=60, Statistics=["Average"])["Datapoints"]
        return {p["Timestamp"].timestamp(): p["Average"] for p in points}

    assert series("train:loss") == {minute: pytest.approx(0.375), minute + 60: pytest.approx(0.001)}
    assert series("validation:accuracy") == {minute: 70.0, minute + 60: 90.0}

    final = sagemaker.describe_training_job(TrainingJobName=name)["FinalMetricDataList"]
    assert [(m["MetricName"], m["Value"], m["Timestamp"].timestamp()) for m in final] == [
        ("train:loss", pytest.approx(0.001), minute + 61), ("validation:accuracy", 90.0, minute + 61)]


def test_lines_of_other_jobs_and_groups_are_not_read(sagemaker, jobs, logs, cloudwatch):
    name = unique("quiet")
    jobs.training(name, AlgorithmSpecification={"TrainingImage": TRAINING_IMAGE, "TrainingInputMode": "File",
                                                "MetricDefinitions": [{"Name": "loss", "Regex": r"loss=(\S+)"}]})
    now = time.time()
    # Another job's stream that merely starts like this one's name, and a stream in another group.
    _put_lines(logs, f"{name}x/algo-1-{int(now) - 3600}", [(now - 5, "loss=1")])
    group = f"/e2e/{name}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=f"{name}/algo-1")
    logs.put_log_events(logGroupName=group, logStreamName=f"{name}/algo-1",
                        logEvents=[{"timestamp": int((now - 5) * 1000), "message": "loss=2"}])
    points = cloudwatch.get_metric_statistics(
        Namespace="/aws/sagemaker/TrainingJobs", MetricName="loss",
        Dimensions=[{"Name": "TrainingJobName", "Value": name}],
        StartTime=now - 600, EndTime=now + 60, Period=60, Statistics=["Average"])["Datapoints"]
    assert points == []
    assert "FinalMetricDataList" not in sagemaker.describe_training_job(TrainingJobName=name)

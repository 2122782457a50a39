"""Amazon SageMaker, the job API: Create / Describe / List / Stop for training and processing
jobs, and AddTags / ListTags / DeleteTags on them.

This module answers the API: it checks what the model cannot express, records the job
(store/jobs.py) and hands it to the controller that runs it (``JobRunner``, jobs/controller.py),
and words every answer as AWS does. How a job moves through its statuses is jobs.py.

Inputs arrive validated against botocore's ``sagemaker`` model (S3 URIs may also be file://, a
documented extension: aws/validation.py PATTERN_EXTENSIONS).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from ... import arns
from ...regex import UserRegexError, compile_user_regex
from ...store import Conflict, Gone
from ...store.jobs import JobRecord, JobStore
from ...store.tags import TagStore
from .. import tagging
from ..base import Service
from ..errors import AWSError, Failure, validation_message
from ..pagination import InvalidToken, page_token, parse_page_token
from .jobs import (
    DEFAULT_MAX_RUNTIME_SECONDS, PROCESSING_JOB, TRAINING_JOB, JobStateListeners, begin_stopping, job_time,
    new_job, training_seconds,
)


class JobRunner(Protocol):
    """What the service needs of the controller that runs jobs (jobs/controller.py)."""

    def submit(self, job: JobRecord) -> None: ...

    def stop(self, job: JobRecord) -> None: ...


# ListTrainingJobs / ListProcessingJobs: "SortBy ... The default is CreationTime", "SortOrder ...
# The default is Ascending" (botocore:sagemaker ListTrainingJobsRequest, ListProcessingJobsRequest).
DEFAULT_SORT_BY = "CreationTime"
DEFAULT_SORT_ORDER = "Ascending"
# MaxResults when the request has none. The model gives no default (1..100); SageMaker's List*
# operations answer 10 (unconfirmed by a recorded response; the AWS CLI pages through either way).
DEFAULT_MAX_RESULTS = 10
# ListTags: MaxResults is at least 50 (botocore ListTagsMaxResults); 50 tags is a resource's
# limit (TagList max 50), so one default page holds them all.
DEFAULT_TAG_PAGE = 50

# Processing containers' local paths "must begin with /opt/ml/processing/" (reference §3.3,
# build-your-own-processing-container.html).
PROCESSING_ROOT = "/opt/ml/processing/"
# Every other path a job names inside its container (CheckpointConfig.LocalPath) lies in /opt/ml.
OPT_ML_ROOT = "/opt/ml/"

_KINDS = {
    TRAINING_JOB: ("training-job", "training"),
    PROCESSING_JOB: ("processing-job", "processing"),
}
_KIND_OF_RESOURCE = {resource: kind for kind, (resource, _) in _KINDS.items()}

# The Create* request members that Describe* echoes: those its output shape also has
# (botocore:sagemaker DescribeTrainingJobResponse, DescribeProcessingJobResponse; Tags and
# SessionChainingConfig are not among them). Listed here, not read from the model, because a
# service does not reach up into the gateway's models (docs/ARCHITECTURE.md: arrows point down);
# tests/unit/test_sagemaker_echo.py holds these lists to the pinned botocore's shapes.
ECHOED_MEMBERS = {
    TRAINING_JOB: frozenset({
        "TrainingJobName", "HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
        "OutputDataConfig", "ResourceConfig", "VpcConfig", "StoppingCondition", "EnableNetworkIsolation",
        "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining", "CheckpointConfig",
        "DebugHookConfig", "DebugRuleConfigurations", "TensorBoardOutputConfig", "ExperimentConfig",
        "ProfilerConfig", "ProfilerRuleConfigurations", "Environment", "RetryStrategy", "RemoteDebugConfig",
        "InfraCheckConfig", "ServerlessJobConfig", "MlflowConfig", "ModelPackageConfig",
    }),
    PROCESSING_JOB: frozenset({
        "ProcessingInputs", "ProcessingOutputConfig", "ProcessingJobName", "ProcessingResources",
        "StoppingCondition", "AppSpecification", "Environment", "NetworkConfig", "RoleArn", "ExperimentConfig",
    }),
}


# The most instances one training job may ask for. The model bounds ResourceConfig.InstanceCount
# below only (botocore TrainingInstanceCount: min 0), while every instance is a process tree on
# this machine (and its /opt/ml tree and resourceconfig listing every host are built before it
# starts), so a request for 2**31 instances would exhaust the server; AWS refuses such a job
# with ResourceLimitExceeded against the account's instance quota. 100 is the bound the model
# sets for processing (ProcessingInstanceCount max 100).
MAX_TRAINING_INSTANCES = 100


def _instance_limit_message(count: int) -> str:
    """AWS's quota refusal for CreateTrainingJob, in its recorded template ("The account-level
    service limit 'Number of instances across all processing jobs' is 4 Instances, with current
    utilization of 0 Instances and a request delta of 11 Instances. Please contact AWS support
    to request an increase for this limit.": data-science-on-aws/data-science-on-aws#200). The
    quota named is sagewatch's per-job bound; other jobs never count (over capacity they queue)."""
    return (f"The account-level service limit 'Number of instances per training job' is "
            f"{MAX_TRAINING_INSTANCES} Instances, with current utilization of 0 Instances and a request "
            f"delta of {count} Instances. Please contact AWS support to request an increase for this limit.")


def validation_error(message: str) -> AWSError:
    return AWSError("ValidationException", message)


def _missing(*path) -> AWSError:
    """The error AWS's front end gives for a member it requires (the form in which older models,
    which required these members, had it checked: "Value null at 'resourceConfig' failed to
    satisfy constraint: Member must not be null")."""
    return validation_error(validation_message([Failure(tuple(path), None, "Member must not be null")]))


class SageMakerService(Service):
    model_name = "sagemaker"

    def __init__(
        self, store: JobStore, tags: TagStore, controller: JobRunner, *,
        region: str, account_id: str, clock: Callable[[], float] = time.time,
        state_listeners: JobStateListeners | None = None,
    ) -> None:
        self.store = store
        self.tags = tags
        self.controller = controller
        self.region = region
        self.account_id = account_id
        self.clock = clock
        # Shared with the controller, which reports the changes it makes (Step 5: EventBridge).
        self.state_listeners = state_listeners if state_listeners is not None else JobStateListeners()

    def _now(self) -> float:
        return job_time(self.clock())

    # -- names and ARNs ------------------------------------------------------------------------

    def job_arn(self, kind: str, name: str) -> str:
        """arn:aws:sagemaker:<region>:<account>:training-job/<name>: the name lower-cased, as
        AWS writes it (ResourceInUse quotes "...:training-job/sagemaker-r-xgboost-00-12-38" for
        the job so named; aws/amazon-sagemaker-examples#3108), so names differing only in case
        are one job."""
        return arns.build("sagemaker", f"{_KINDS[kind][0]}/{name.lower()}", self.region, self.account_id)

    def _job(self, kind: str, name: str) -> JobRecord:
        job = self.store.get(kind, name)
        if job is None:
            raise self._not_found(kind, name)
        return job

    def _not_found(self, kind: str, name: str) -> AWSError:
        if kind == TRAINING_JOB:
            # DescribeTrainingJob of an unknown job: ValidationException "Requested resource not
            # found." (aws/aws-sdk#165; aws/amazon-sagemaker-examples#2360), though the model
            # lists ResourceNotFound. StopTrainingJob looks the job up the same way.
            return validation_error("Requested resource not found.")
        # DescribeProcessingJob of an unknown job: no AWS record found; the wording is moto's
        # (getmoto/moto sagemaker/models.py describe_processing_job), which copies AWS's.
        return validation_error(f"Could not find processing job '{self.job_arn(kind, name)}'.")

    # -- create --------------------------------------------------------------------------------

    def create_training_job(self, TrainingJobName, RoleArn, OutputDataConfig, **request) -> dict:
        request.update(TrainingJobName=TrainingJobName, RoleArn=RoleArn, OutputDataConfig=OutputDataConfig)
        self._check_training(request)
        job = self._create(TRAINING_JOB, TrainingJobName, request)
        return {"TrainingJobArn": job.arn}

    def create_processing_job(self, ProcessingJobName, ProcessingResources, AppSpecification, RoleArn,
                              **request) -> dict:
        request.update(ProcessingJobName=ProcessingJobName, ProcessingResources=ProcessingResources,
                       AppSpecification=AppSpecification, RoleArn=RoleArn)
        self._check_processing(request)
        job = self._create(PROCESSING_JOB, ProcessingJobName, request)
        return {"ProcessingJobArn": job.arn}

    def _create(self, kind: str, name: str, request: dict) -> JobRecord:
        tags = tagging.of_pairs(request.pop("Tags", None) or [])
        tagging.check(tagging.SAGEMAKER, tags)
        arn = self.job_arn(kind, name)
        job = new_job(kind, name, arn, request, self._now())
        try:
            self.store.create(job, tags)
        except Conflict:
            # aws/amazon-sagemaker-examples#3108 (CreateTrainingJob, verbatim). The processing
            # wording follows the same template (no recorded processing answer found).
            noun = _KINDS[kind][1]
            raise AWSError(
                "ResourceInUse",
                f"{noun.capitalize()} job names must be unique within an AWS account and region, "
                f"and a {noun} job with this name already exists ({arn})",
            ) from None
        self.state_listeners.emit(None, job)
        self.controller.submit(job)
        return job

    def _check_training(self, request: dict) -> None:
        """What CreateTrainingJob needs beyond the model to run a job here."""
        algorithm = request.get("AlgorithmSpecification")
        if algorithm is None:
            raise _missing("AlgorithmSpecification")
        if not algorithm.get("TrainingImage") and not algorithm.get("AlgorithmName"):
            # Wording unconfirmed: AWS requires one of the two (botocore AlgorithmSpecification:
            # "You must specify either the algorithm name or the image URI").
            raise validation_error("You must specify either the algorithm name or the image URI "
                                   "in AlgorithmSpecification.")
        resources = request.get("ResourceConfig")
        if resources is None:
            raise _missing("ResourceConfig")
        if resources.get("InstanceGroups"):
            raise validation_error("sagewatch does not support ResourceConfig.InstanceGroups "
                                   "(heterogeneous clusters); use InstanceType and InstanceCount.")
        if resources.get("InstanceType") is None:
            raise _missing("ResourceConfig", "InstanceType")
        count = resources.get("InstanceCount")
        if count is None:
            raise _missing("ResourceConfig", "InstanceCount")
        if count < 1:
            raise validation_error(validation_message([Failure(
                ("ResourceConfig", "InstanceCount"), count, "Member must have value greater than or equal to 1")]))
        if count > MAX_TRAINING_INSTANCES:
            raise AWSError("ResourceLimitExceeded", _instance_limit_message(count))
        self._check_metric_definitions(algorithm.get("MetricDefinitions") or [])
        self._check_training_paths(request)

    @staticmethod
    def _check_training_paths(request: dict) -> None:
        """Names that become paths in the job's tree must stay in it. A channel is the directory
        /opt/ml/input/data/<ChannelName>, and the model's pattern ([A-Za-z0-9.\\-_]+, botocore
        ChannelName) admits "." and "..", which name input/data and input themselves (where
        config/ lives). CheckpointConfig.LocalPath may be any path in the model (DirectoryPath:
        ".*"); an instance here has only its /opt/ml tree to hold it, so it must lie under
        /opt/ml without climbing out. Both are sagewatch's restrictions; wording unconfirmed."""
        for channel in request.get("InputDataConfig") or []:
            if channel["ChannelName"] in (".", ".."):
                raise validation_error(
                    f"ChannelName '{channel['ChannelName']}' cannot name a directory under /opt/ml/input/data/")
        local = (request.get("CheckpointConfig") or {}).get("LocalPath")
        if local and (not (local + "/").startswith(OPT_ML_ROOT) or ".." in local.split("/")):
            raise validation_error(f"CheckpointConfig.LocalPath '{local}' must be a path under {OPT_ML_ROOT}")

    @staticmethod
    def _check_metric_definitions(definitions: list[dict]) -> None:
        """Each Regex must be one sagewatch can run: Python's syntax (SageMaker's metric regexes
        are Python-style, reference §2.3), in the linear-time engine (sagewatch/regex.py: no
        backreferences or lookaround). A regex without a capture group is accepted and yields
        nothing (the value is the first group). Wording unconfirmed."""
        for definition in definitions:
            name, regex = definition["Name"], definition["Regex"]
            try:
                compile_user_regex(regex)
            except UserRegexError as error:
                raise validation_error(
                    f"Invalid regular expression '{regex}' for metric '{name}': {error}") from None

    def _check_processing(self, request: dict) -> None:
        """What CreateProcessingJob needs beyond the model to run a job here."""
        cluster = request["ProcessingResources"]["ClusterConfig"]
        if cluster.get("InstanceType") is None:
            raise _missing("ProcessingResources", "ClusterConfig", "InstanceType")
        if cluster.get("InstanceCount") is None:
            raise _missing("ProcessingResources", "ClusterConfig", "InstanceCount")
        for index, item in enumerate(request.get("ProcessingInputs") or [], 1):
            source = item.get("S3Input")
            if source is None:
                raise validation_error(
                    f"ProcessingInputs.{index} ({item['InputName']}): sagewatch reads inputs from "
                    f"S3Input only (not DatasetDefinition).")
            self._check_local_path(source.get("LocalPath"), item["InputName"])
        outputs = (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        for index, item in enumerate(outputs, 1):
            target = item.get("S3Output")
            if target is None:
                raise validation_error(
                    f"ProcessingOutputConfig.Outputs.{index} ({item['OutputName']}): sagewatch writes "
                    f"outputs to S3Output only (not FeatureStoreOutput).")
            self._check_local_path(target.get("LocalPath"), item["OutputName"])

    @staticmethod
    def _check_local_path(path: str | None, name: str) -> None:
        """A processing input's or output's LocalPath "must begin with /opt/ml/processing/"
        (reference §3.3), and may not climb out of it. Wording unconfirmed."""
        if path is None:
            return
        if not path.startswith(PROCESSING_ROOT) or ".." in path.split("/"):
            raise validation_error(f"LocalPath '{path}' of '{name}' must be a path under {PROCESSING_ROOT}")

    # -- describe ------------------------------------------------------------------------------

    def describe_training_job(self, TrainingJobName) -> dict:
        return self._describe_training(self._job(TRAINING_JOB, TrainingJobName))

    def describe_processing_job(self, ProcessingJobName) -> dict:
        return self._describe_processing(self._job(PROCESSING_JOB, ProcessingJobName))

    def describe(self, job: JobRecord) -> dict:
        """Describe*Job's answer for a job record (a job state change event's detail mirrors it:
        job_events.py)."""
        return self._describe_training(job) if job.kind == TRAINING_JOB else self._describe_processing(job)

    def _echo(self, job: JobRecord) -> dict:
        echoed = ECHOED_MEMBERS[job.kind]
        return {key: value for key, value in job.request.items() if key in echoed}

    def _describe_training(self, job: JobRecord) -> dict:
        out = self._echo(job)
        # Defaults AWS reports for members the request left out: the three flags are false
        # (botocore CreateTrainingJobRequest: "EnableNetworkIsolation ... default false" and the
        # like), EnableSageMakerMetricsTimeSeries "The default is false" (AlgorithmSpecification),
        # and the one-day runtime limit (DEFAULT_MAX_RUNTIME_SECONDS).
        out.setdefault("EnableNetworkIsolation", False)
        out.setdefault("EnableInterContainerTrafficEncryption", False)
        out.setdefault("EnableManagedSpotTraining", False)
        algorithm = dict(out["AlgorithmSpecification"])
        algorithm.setdefault("EnableSageMakerMetricsTimeSeries", False)
        out["AlgorithmSpecification"] = algorithm
        stopping = dict(out.get("StoppingCondition") or {})
        stopping.setdefault("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME_SECONDS)
        out["StoppingCondition"] = stopping
        out.update(
            TrainingJobName=job.name,
            TrainingJobArn=job.arn,
            TrainingJobStatus=job.status,
            SecondaryStatus=job.secondary_status,
            CreationTime=job.creation_time,
            LastModifiedTime=job.last_modified_time,
            SecondaryStatusTransitions=[dict(t) for t in job.transitions],
        )
        if job.model_artifacts is not None:
            out["ModelArtifacts"] = {"S3ModelArtifacts": job.model_artifacts}
        if job.start_time is not None:
            out["TrainingStartTime"] = job.start_time
        if job.end_time is not None:
            out["TrainingEndTime"] = job.end_time
            seconds = training_seconds(job)
            out["TrainingTimeInSeconds"] = seconds
            out["BillableTimeInSeconds"] = seconds
        if job.failure_reason is not None:
            out["FailureReason"] = job.failure_reason
        if job.final_metrics:
            out["FinalMetricDataList"] = self._final_metrics(job)
        return out

    @staticmethod
    def _final_metrics(job: JobRecord) -> list[dict]:
        """The last value of each metric (reference §2.3), in the order of MetricDefinitions."""
        order = [d["Name"] for d in job.request["AlgorithmSpecification"].get("MetricDefinitions") or []]
        names = [n for n in order if n in job.final_metrics]
        names += sorted(n for n in job.final_metrics if n not in order)
        return [{"MetricName": n, "Value": job.final_metrics[n][0], "Timestamp": job.final_metrics[n][1]}
                for n in names]

    def _describe_processing(self, job: JobRecord) -> dict:
        out = self._echo(job)
        out.update(
            ProcessingJobName=job.name,
            ProcessingJobArn=job.arn,
            ProcessingJobStatus=job.status,
            CreationTime=job.creation_time,
            LastModifiedTime=job.last_modified_time,
        )
        if job.start_time is not None:
            out["ProcessingStartTime"] = job.start_time
        if job.end_time is not None:
            out["ProcessingEndTime"] = job.end_time
        if job.failure_reason is not None:
            out["FailureReason"] = job.failure_reason
        if job.exit_message is not None:
            out["ExitMessage"] = job.exit_message
        return out

    # -- list ----------------------------------------------------------------------------------

    def list_training_jobs(
        self, NextToken=None, MaxResults=None, CreationTimeAfter=None, CreationTimeBefore=None,
        LastModifiedTimeAfter=None, LastModifiedTimeBefore=None, NameContains=None, StatusEquals=None,
        SortBy=None, SortOrder=None, WarmPoolStatusEquals=None, TrainingPlanArnEquals=None,
    ) -> dict:
        if WarmPoolStatusEquals is not None or TrainingPlanArnEquals is not None:
            jobs = []  # sagewatch has no warm pools or training plans: no job matches
        else:
            jobs = self._filtered(TRAINING_JOB, CreationTimeAfter, CreationTimeBefore,
                                  LastModifiedTimeAfter, LastModifiedTimeBefore, NameContains, StatusEquals)
        page, token = self._page(TRAINING_JOB, jobs, SortBy, SortOrder, MaxResults, NextToken)
        out: dict = {"TrainingJobSummaries": [self._training_summary(job) for job in page]}
        if token:
            out["NextToken"] = token
        return out

    def list_processing_jobs(
        self, CreationTimeAfter=None, CreationTimeBefore=None, LastModifiedTimeAfter=None,
        LastModifiedTimeBefore=None, NameContains=None, StatusEquals=None, SortBy=None, SortOrder=None,
        NextToken=None, MaxResults=None,
    ) -> dict:
        jobs = self._filtered(PROCESSING_JOB, CreationTimeAfter, CreationTimeBefore,
                              LastModifiedTimeAfter, LastModifiedTimeBefore, NameContains, StatusEquals)
        page, token = self._page(PROCESSING_JOB, jobs, SortBy, SortOrder, MaxResults, NextToken)
        out: dict = {"ProcessingJobSummaries": [self._processing_summary(job) for job in page]}
        if token:
            out["NextToken"] = token
        return out

    def _filtered(self, kind, created_after, created_before, modified_after, modified_before,
                  name_contains, status) -> list[JobRecord]:
        """The jobs the filters keep: "created after the specified time" and the like, taken
        strictly; NameContains "A string in the ... job name" (botocore ListTrainingJobsRequest)."""
        def keep(job: JobRecord) -> bool:
            return ((created_after is None or job.creation_time > created_after)
                    and (created_before is None or job.creation_time < created_before)
                    and (modified_after is None or job.last_modified_time > modified_after)
                    and (modified_before is None or job.last_modified_time < modified_before)
                    and (name_contains is None or name_contains in job.name)
                    and (status is None or job.status == status))

        return [job for job in self.store.list(kind) if keep(job)]

    @staticmethod
    def _sort_key(sort_by: str, job: JobRecord) -> tuple:
        """A total order for each SortBy: ties are broken by what follows, the lower-cased name
        (a job's identity) last, so that a page boundary is exact."""
        if sort_by == "Name":
            return (job.name.lower(),)
        if sort_by == "Status":
            return (job.status, job.creation_time, job.name.lower())
        return (job.creation_time, job.name.lower())

    _KEY_SHAPES = {"Name": (str,), "Status": (str, float, str), "CreationTime": (float, str)}

    def _page(self, kind, jobs, sort_by, sort_order, max_results, next_token):
        sort_by = sort_by or DEFAULT_SORT_BY
        descending = (sort_order or DEFAULT_SORT_ORDER) == "Descending"
        scope = f"{kind}/{sort_by}/{'D' if descending else 'A'}"
        keyed = sorted(((self._sort_key(sort_by, job), job) for job in jobs),
                       key=lambda pair: pair[0], reverse=descending)
        if next_token is not None:
            after = self._token_key(scope, next_token, self._KEY_SHAPES[sort_by])
            keyed = [pair for pair in keyed if (pair[0] < after if descending else pair[0] > after)]
        limit = max_results or DEFAULT_MAX_RESULTS
        page = keyed[:limit]
        token = page_token(scope, page[-1][0]) if len(keyed) > limit else None
        return [job for _, job in page], token

    @staticmethod
    def _token_key(scope: str, token: str, shape):
        try:
            return parse_page_token(scope, token, shape)
        except InvalidToken:
            # A token not made by this listing (with this SortBy and SortOrder). The wording is
            # unconfirmed; SageMaker answers a bad NextToken with ValidationException.
            raise validation_error("Invalid pagination token provided.") from None

    @staticmethod
    def _training_summary(job: JobRecord) -> dict:
        summary = {
            "TrainingJobName": job.name,
            "TrainingJobArn": job.arn,
            "CreationTime": job.creation_time,
            "LastModifiedTime": job.last_modified_time,
            "TrainingJobStatus": job.status,
            "SecondaryStatus": job.secondary_status,
        }
        if job.end_time is not None:
            summary["TrainingEndTime"] = job.end_time
        return summary

    @staticmethod
    def _processing_summary(job: JobRecord) -> dict:
        summary = {
            "ProcessingJobName": job.name,
            "ProcessingJobArn": job.arn,
            "CreationTime": job.creation_time,
            "LastModifiedTime": job.last_modified_time,
            "ProcessingJobStatus": job.status,
        }
        if job.end_time is not None:
            summary["ProcessingEndTime"] = job.end_time
        if job.failure_reason is not None:
            summary["FailureReason"] = job.failure_reason
        if job.exit_message is not None:
            summary["ExitMessage"] = job.exit_message
        return summary

    # -- stop ----------------------------------------------------------------------------------

    def stop_training_job(self, TrainingJobName) -> dict:
        self._stop(TRAINING_JOB, TrainingJobName)
        return {}

    def stop_processing_job(self, ProcessingJobName) -> dict:
        self._stop(PROCESSING_JOB, ProcessingJobName)
        return {}

    def _stop(self, kind: str, name: str) -> None:
        """InProgress → Stopping, then the controller stops the instances (SIGTERM, SIGKILL after
        the grace period: reference §4.3). A job in any other status is refused: "The request
        was rejected because the training job is in status Stopped." (StopTrainingJob,
        awslabs/benchmark-ai#928; the processing wording follows the same template)."""
        self._job(kind, name)  # an unknown job: the Describe answer

        def change(job: JobRecord) -> None:
            if job.status != "InProgress":
                raise validation_error(
                    f"The request was rejected because the {_KINDS[kind][1]} job is in status {job.status}.")
            begin_stopping(job, self._now())

        try:
            job = self.store.update(kind, name, change)
        except Gone:
            raise self._not_found(kind, name) from None
        self.state_listeners.emit("InProgress", job)
        self.controller.stop(job)

    def request_stop(self, kind: str, name: str) -> str:
        """StopTrainingJob / StopProcessingJob for an in-process caller (the alarm action
        ``arn:aws:automate:<region>:sagemaker:stop``); raises AWSError as the operation does."""
        self._stop(kind, name)
        return f"Stopping {kind} {name}"

    # -- tags ----------------------------------------------------------------------------------

    def _tagged_job(self, arn: str) -> JobRecord:
        """The job an ARN names (exactly as its Create* answered it). Jobs are the only taggable
        SageMaker resources here; any other ARN, or one of a job that does not exist, is refused
        (wording unconfirmed)."""
        parsed = arns.parse_or_none(arn)
        kind = _KIND_OF_RESOURCE.get(parsed.resource_type) if parsed else None
        job = self.store.get(kind, parsed.resource_id) if kind else None
        if job is None or job.arn != arn:
            raise validation_error(f"Resource {arn} does not exist.")
        return job

    def add_tags(self, ResourceArn, Tags) -> dict:
        job = self._tagged_job(ResourceArn)
        new = tagging.of_pairs(Tags)
        tagging.add(tagging.SAGEMAKER, self.tags, job.arn, new)
        return {"Tags": [{"Key": k, "Value": v} for k, v in new.items()]}

    def delete_tags(self, ResourceArn, TagKeys) -> dict:
        job = self._tagged_job(ResourceArn)
        tagging.remove(tagging.SAGEMAKER, self.tags, job.arn, TagKeys)
        return {}

    def list_tags(self, ResourceArn, NextToken=None, MaxResults=None) -> dict:
        job = self._tagged_job(ResourceArn)
        tags = sorted(self.tags.get_tags(job.arn).items())
        scope = f"tags/{job.arn}"
        if NextToken is not None:
            after = self._token_key(scope, NextToken, str)
            tags = [(k, v) for k, v in tags if k > after]
        limit = MaxResults or DEFAULT_TAG_PAGE
        page = tags[:limit]
        out: dict = {"Tags": [{"Key": k, "Value": v} for k, v in page]}
        if len(tags) > limit:
            out["NextToken"] = page_token(scope, page[-1][0])
        return out

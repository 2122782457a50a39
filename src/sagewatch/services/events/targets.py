"""EventBridge targets that act: what a matched event (or a scheduled rule's firing) does.

    targets.check_target(rule, entry)          PutTargets: refuses what cannot be delivered
    targets.deliveries(rule, targets, event)   the durable deliveries an event owes ("events.target")
    queue.register(KIND, targets.deliver)      carries one out, retries it, dead-letters it

The events service (D) calls the first two; the delivery queue (services/delivery.py) runs the
third on a worker thread, at least once per delivery.

Target kinds
------------
* An SNS topic (``arn:aws:sns:<region>:<account>:<topic>``): ``SNSService.publish(TopicArn=,
  Message=<the input>)``.
* An API destination (``arn:aws:events:<region>:<account>:api-destination/<name>/<id>``): an HTTP
  call to its endpoint with its method, the connection's authorization and parameters, the
  target's ``HttpParameters`` (``*`` of the path filled by ``PathParameterValues`` in order;
  header and query values; values starting ``$.`` read from the event: "dynamic path
  parameters must reference the original event"), AWS's fixed headers (User-Agent
  ``Amazon/EventBridge/ApiDestinations``, Content-Type ``application/json; charset=utf-8``,
  Range ``bytes=0-1048575``, Accept-Encoding ``gzip,deflate``, Connection ``close``: the table
  "Headers included in requests to API destinations", eb-api-destinations.md), at most
  ``InvocationRateLimitPerSecond`` calls a second, a 5-second timeout ("EventBridge requests to
  an API destination endpoint must have a maximum client execution timeout of 5 seconds").
  Responses 401, 407, 409, 429 and 5xx, timeouts and network errors are retried; other 1xx-4xx
  are not ("Retries events associated with error codes 401, 407, 409, 429, and 5xx. Does not
  retry events associated with error codes 1xx, 2xx, 3xx, and 4xx (other than those noted
  above)": the user guide's API destination error codes, as quoted in public code; its 2021
  copy named only 429 and 5xx). A ``Retry-After`` wins when it asks for longer than the backoff
  ("EventBridge chooses the more conservative value"); a negative one ends the retries. After
  401/407 an OAuth token is fetched anew ("OAUTH tokens are refreshed when a 401 or 407
  response is returned"). Redirects are not followed (3xx is a failure not retried).
* sagewatch's SageMaker extension targets (contracts §7, docs/events.md), in this account and
  Region: ``arn:aws:sagemaker:<region>:<account>:sagewatch-target/CreateTrainingJob`` and
  ``.../CreateProcessingJob`` take the input as the request (a JSON object, checked against
  the model as the API checks it; a missing job name becomes ``<rule name>-<epoch ms>``, fixed
  when the delivery is queued so every redelivery asks for the same job, and a job of that
  name existing already counts as delivered: delivery is at-least-once);
  ``.../sagewatch-target/StopJob`` stops the job the input names (``{"TrainingJobName": ...}``
  or ``{"ProcessingJobName": ...}``) or else the event names: a SageMaker job state change's
  detail, or an alarm state change's metric dimensions (as the alarm action
  ``arn:aws:automate:<region>:sagemaker:stop`` reads them). A job already past running
  counts as stopped.

Anything else is refused at PutTargets with AWS's words for an ARN it cannot target
("Parameter <arn> is not valid. Reason: Provided Arn is not in correct format.": moto's copy of
AWS's message; AWS answers a Glue job ARN, which it cannot target, "Provided Arn is not in
correct format").

Retries and the dead letter
---------------------------
``RetryPolicy``: ``MaximumRetryAttempts`` 0-185 (default 185), ``MaximumEventAgeInSeconds``
60-86400 (default 86400) (botocore model; "By default, EventBridge retries sending the event for
24 hours and up to 185 times with an exponential back off and jitter", eb-rule-dlq.md). AWS
does not publish its backoff's base; sagewatch waits ``d/2 + random(0, d/2)`` with ``d = 1 s
* 2^retries`` capped at 600 s, so the default 185 retries take about 22 hours, close to the
default age. A failure that retrying cannot mend (the topic or job does not exist, the request
is invalid, a 4xx answer) is not retried ("Rather than retrying, EventBridge sends these
events directly to the DLQ").

When a delivery is given up, its ``DeadLetterConfig.Arn`` gets the event: an SNS topic
(sagewatch extension; AWS takes only SQS queues) receives the original event as the message,
with AWS's DLQ message attributes RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
EXHAUSTED_RETRY_CONDITION (when a retry limit ended it) and RETRY_ATTEMPTS (eb-rule-dlq.md);
an SQS queue is recorded in the failure (sagewatch has no SQS). Either way the outbox keeps the
failure record.

Metrics
-------
``AWS/Events``, dimension ``RuleName`` (plus ``EventBusName`` for a custom bus: "Metrics that
specify both the EventBusName and RuleName dimensions refer to a custom event bus",
eb-monitoring.html): TriggeredRules (a rule matched or fired), Invocations and FailedInvocations
(final outcomes), DeadLetterInvocations (the target did not exist, so was never invoked),
InvocationAttempts, SuccessfulInvocationAttempts, RetryInvocationAttempts, InvocationsSentToDlq,
InvocationsFailedToBeSentToDlq. Counted in memory and published by the ``events.metrics`` duty
every 10 seconds ("CloudWatch metrics are delivered on a best-effort basis", eb-monitoring.md):
a crash loses at most those 10 seconds of counts, never a delivery.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ... import arns
from ...clock import SYSTEM_CLOCK, Clock
from ...lifecycle import Duty
from ...store.outbox import Delivery, NewDelivery
from ..cloudwatch.metrics import MetricValue
from ..delivery import Delivered, Failed, Outcome, Retry
from ..errors import AWSError
from ..sagemaker.stop_action import jobs_in_metrics
from .input_transformer import (
    MISSING, InvalidTargetInput, check_target_input, compact, compile_path, target_input,
)

log = logging.getLogger(__name__)

KIND = "events.target"  # the delivery queue's kind for every target delivery

SNS_TOPIC = "sns"
API_DESTINATION = "api-destination"
CREATE_TRAINING_JOB = "CreateTrainingJob"
CREATE_PROCESSING_JOB = "CreateProcessingJob"
STOP_JOB = "StopJob"
EXTENSION_RESOURCE = "sagewatch-target/"
EXTENSION_ACTIONS = (CREATE_TRAINING_JOB, CREATE_PROCESSING_JOB, STOP_JOB)
JOB_NAME_MEMBER = {CREATE_TRAINING_JOB: "TrainingJobName", CREATE_PROCESSING_JOB: "ProcessingJobName"}

DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE_SECONDS = 86400
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 600.0

API_DESTINATION_TIMEOUT_SECONDS = 5.0
# An invocation-rate wait up to this long is slept on the worker thread (the slot is the
# delivery's); a longer one gives the worker back and tries again then.
LONGEST_RATE_WAIT_SECONDS = 5.0
API_DESTINATION_HEADERS = {
    "User-Agent": "Amazon/EventBridge/ApiDestinations",
    "Content-Type": "application/json; charset=utf-8",
    "Range": "bytes=0-1048575",
    "Accept-Encoding": "gzip,deflate",
    "Connection": "close",
}
RETRIED_STATUSES = frozenset({401, 407, 409, 429})

# PutTargets' target-type parameter blocks; none applies to a kind sagewatch delivers to except
# HttpParameters to an API destination ("Parameter(s) EcsParameters not supported for target:
# t1", measured against us-east-1 2026-09-07 by a public CDK preflight rule set, which also
# found SqsParameters accepted on any target).
PARAMETER_BLOCKS = ("EcsParameters", "KinesisParameters", "RunCommandParameters", "BatchParameters",
                    "RedshiftDataParameters", "SageMakerPipelineParameters", "AppSyncParameters",
                    "HttpParameters")

# DLQ error codes, as AWS writes them in ERROR_CODE.
NO_RESOURCE = "NO_RESOURCE"
ERROR_FROM_TARGET = "ERROR_FROM_TARGET"

METRICS_NAMESPACE = "AWS/Events"
METRICS_FLUSH_SECONDS = 10.0
DEFAULT_BUS = "default"


class ConnectionOperations(Protocol):
    """What a target needs of the events service's connections (G, contracts §4)."""

    def api_destination(self, arn: str) -> Any: ...

    def authorization(self, connection_arn: str) -> Any: ...

    def forget_token(self, connection_arn: str) -> None: ...

    def invocation_slot(self, api_destination_arn: str) -> float: ...


@dataclass(frozen=True, slots=True)
class _Failure:
    code: str  # the DLQ ERROR_CODE
    message: str
    retryable: bool
    retry_after: float | None = None  # the endpoint's Retry-After, seconds


def iso_time(moment: float) -> str:
    """An event's ``time``: ``YYYY-MM-DDTHH:MM:SSZ`` (reference §5.1)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def backoff_seconds(retries: int, rng: random.Random) -> float:
    """How long before the next try, after ``retries`` tries that failed: exponential, capped,
    half of it random (the "equal jitter" of AWS's Architecture blog post that the user guide
    links)."""
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** min(retries, 30))
    return delay / 2 + rng.uniform(0, delay / 2)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx answer is the endpoint's answer, not a place to go


_OPENER = urllib.request.build_opener(_NoRedirects)


class EventTargets:
    def __init__(
        self, *, region: str, account_id: str, clock: Clock = SYSTEM_CLOCK,
        sns_publish: Callable[..., dict] | None = None,
        sagemaker_call: Callable[[str, dict], dict] | None = None,
        connections: Callable[[], ConnectionOperations] | None = None,
        put_metrics: Callable[[str, list[MetricValue]], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``sns_publish``: SNSService.publish. ``sagemaker_call(operation, request)``: a
        SageMaker operation called as the API would be (the gateway's ``invoke``: the request
        checked against the model). ``connections()``: the events service's connection
        operations, asked for when needed (the events service is built after this).
        ``put_metrics``: CloudWatchService.put_metric_values."""
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.sns_publish = sns_publish
        self.sagemaker_call = sagemaker_call
        self.connections = connections
        self.put_metrics = put_metrics
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._last_name_ms = 0
        self._counts: dict[tuple[str, str, str, float], int] = {}

    # -- which targets ------------------------------------------------------------------------------

    def kind_of(self, arn: str) -> str | None:
        """What an ARN targets (SNS_TOPIC, API_DESTINATION or an extension action), or None."""
        parsed = arns.parse_or_none(arn) if isinstance(arn, str) else None
        if parsed is None:
            return None
        if parsed.service == "sns" and ":" not in parsed.resource and "/" not in parsed.resource:
            return SNS_TOPIC
        if parsed.service == "events" and parsed.resource.startswith("api-destination/"):
            return API_DESTINATION
        if (parsed.service == "sagemaker" and parsed.region == self.region and parsed.account == self.account_id
                and parsed.resource.startswith(EXTENSION_RESOURCE)):
            action = parsed.resource[len(EXTENSION_RESOURCE):]
            if action in EXTENSION_ACTIONS and str(parsed) == arns.build(
                    "sagemaker", EXTENSION_RESOURCE + action, self.region, self.account_id):
                return action
        return None

    def extension_arn(self, action: str) -> str:
        return arns.build("sagemaker", EXTENSION_RESOURCE + action, self.region, self.account_id)

    # -- PutTargets ---------------------------------------------------------------------------------

    def check_target(self, rule, target: dict) -> str | None:
        """Refuse (AWSError ValidationException, failing the whole PutTargets call as AWS does)
        a target this rule cannot take; None when it can. ``target`` is the PutTargets entry."""
        target_id, arn = target.get("Id"), target.get("Arn")
        kind = self.kind_of(arn)
        if kind is None:
            raise _invalid(f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format.")
        for block in PARAMETER_BLOCKS:
            if target.get(block) is not None and not (block == "HttpParameters" and kind == API_DESTINATION):
                raise _invalid(f"Parameter(s) {block} not supported for target: {target_id}.")
        dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
        if dead_letter is not None:
            self._check_dead_letter(dead_letter)
        try:
            check_target_input(target)
        except InvalidTargetInput as error:
            raise _invalid(str(error)) from None
        if kind in JOB_NAME_MEMBER and target.get("Input") is not None:
            if not isinstance(json.loads(target["Input"]), dict):
                # sagewatch's own wording: AWS has no such target.
                raise _invalid(f"Input for target {target_id} must be a JSON object: the {kind} request "
                               f"that the target {arn} makes.")
        return None

    @staticmethod
    def _check_dead_letter(arn: str) -> None:
        # A dead-letter resource must be an SQS queue, standard: "<service> is not supported as
        # a dead letter resource", "SQS FIFO is not supported by Dead Letter Queues" (measured,
        # as PARAMETER_BLOCKS). An SNS topic is sagewatch's extension (contracts §7).
        parsed = arns.parse_or_none(arn)
        if parsed is None:
            raise _invalid(f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format.")
        if parsed.service == "sqs" and parsed.resource.endswith(".fifo"):
            raise _invalid("SQS FIFO is not supported by Dead Letter Queues")
        if parsed.service not in ("sqs", "sns"):
            raise _invalid(f"{parsed.service} is not supported as a dead letter resource")

    # -- queueing -----------------------------------------------------------------------------------

    def deliveries(self, rule, targets: list, event: dict) -> list[NewDelivery]:
        """The deliveries ``event`` owes ``rule``'s targets: each target's input made now, with
        the retry policy and dead letter in force, owned by the rule."""
        self.count("TriggeredRules", rule.name, rule.bus_name)
        now = self.clock.now()
        ingestion = iso_time(now)
        made = []
        for target in targets:
            kind = self.kind_of(target.arn)
            text = target_input(
                event, input=target.input, input_path=target.input_path,
                input_transformer=target.input_transformer, rule_arn=rule.arn, rule_name=rule.name,
                ingestion_time=ingestion)
            if kind in JOB_NAME_MEMBER:
                text = self._named_request(kind, text, rule.name)
            policy = target.retry_policy or {}
            payload = {
                "rule_arn": rule.arn, "rule_name": rule.name, "bus": rule.bus_name,
                # The event as JSON text: the outbox stores payloads with orjson, which refuses
                # integers beyond 64 bits that an event's detail may hold.
                "target_id": target.id, "target_arn": target.arn, "input": text, "event": compact(event),
                "max_retries": policy.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS),
                "max_age": policy.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE_SECONDS),
                "dead_letter": (target.dead_letter_config or {}).get("Arn"),
                "http": target.http_parameters,
            }
            made.append(NewDelivery(KIND, rule.arn, payload))
        return made

    def _named_request(self, kind: str, text: str, rule_name: str) -> str:
        """The request with its job name: a request without one gets ``<rule name>-<epoch ms>``,
        unique within this server (a millisecond already given out is moved on by one)."""
        try:
            request = json.loads(text)
        except ValueError:
            return text
        if not isinstance(request, dict) or request.get(JOB_NAME_MEMBER[kind]):
            return text
        with self._lock:
            ms = max(self.clock.now_ms(), self._last_name_ms + 1)
            self._last_name_ms = ms
        # Job names are [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (botocore:sagemaker TrainingJobName); a
        # rule name may also hold "." and "_" and run to 64 characters.
        base = re.sub(r"[^a-zA-Z0-9-]", "-", rule_name).lstrip("-")[:63 - 14] or "rule"
        request[JOB_NAME_MEMBER[kind]] = f"{base}-{ms}"
        return compact(request)

    # -- carrying one out -----------------------------------------------------------------------------

    def deliver(self, delivery: Delivery) -> Outcome:
        """The "events.target" handler of the delivery queue."""
        p = delivery.payload
        now = self.clock.now()
        age = now - delivery.created
        if age > p["max_age"]:
            return self._give_up(delivery, ERROR_FROM_TARGET,
                                 f"The event is {age:.0f} seconds old, older than MaximumEventAgeInSeconds "
                                 f"{p['max_age']}", "MaximumEventAgeInSeconds")
        self.count("InvocationAttempts", p["rule_name"], p["bus"])
        if delivery.attempts:
            self.count("RetryInvocationAttempts", p["rule_name"], p["bus"])
        try:
            result = self._attempt(p)
        except AWSError as error:
            result = _Failure(ERROR_FROM_TARGET, f"{error.code}: {error.message}", not _sender_fault(error))
        except Exception as error:  # a fault of ours or of the target's service: try again
            log.exception("delivering to %s for %s failed", p["target_arn"], p["rule_arn"])
            result = _Failure(ERROR_FROM_TARGET, str(error) or type(error).__name__, True)
        if not isinstance(result, _Failure):
            self.count("SuccessfulInvocationAttempts", p["rule_name"], p["bus"])
            self.count("Invocations", p["rule_name"], p["bus"])
            return Delivered(result)
        if not result.retryable:
            return self._give_up(delivery, result.code, result.message, None)
        if delivery.attempts >= p["max_retries"]:
            return self._give_up(delivery, result.code, result.message, "MaximumRetryAttempts")
        wait = backoff_seconds(delivery.attempts, self.rng)
        if result.retry_after is not None:
            wait = max(wait, result.retry_after)
        if age + wait > p["max_age"]:
            return self._give_up(delivery, result.code, result.message, "MaximumEventAgeInSeconds")
        return Retry(f"{result.code}: {result.message}", wait)

    def _attempt(self, p: dict) -> str | _Failure:
        kind = self.kind_of(p["target_arn"])
        if kind == SNS_TOPIC:
            return self._publish(p)
        if kind == API_DESTINATION:
            return self._call_api_destination(p)
        if kind in JOB_NAME_MEMBER:
            return self._create_job(kind, p)
        if kind == STOP_JOB:
            return self._stop_jobs(p)
        return _Failure(NO_RESOURCE, f"sagewatch cannot deliver to {p['target_arn']}", False)

    # SNS

    def _publish(self, p: dict) -> str | _Failure:
        if self.sns_publish is None:
            return _Failure(ERROR_FROM_TARGET, "SNS is not available", True)
        try:
            answer = self.sns_publish(TopicArn=p["target_arn"], Message=p["input"])
        except AWSError as error:
            if error.code in ("NotFound", "NotFoundException"):
                return _Failure(NO_RESOURCE, f"{error.code}: {error.message}", False)
            raise
        return f"published as {answer.get('MessageId')}"

    # API destinations

    def _call_api_destination(self, p: dict) -> str | _Failure:
        if self.connections is None:
            return _Failure(ERROR_FROM_TARGET, "API destinations are not available", True)
        operations = self.connections()
        destination = operations.api_destination(p["target_arn"])
        if destination is None:
            return _Failure(NO_RESOURCE, f"The API destination {p['target_arn']} does not exist.", False)
        try:
            authorization = operations.authorization(destination.connection_arn)
        except Exception as error:  # connections.ConnectionUnavailable: deauthorized, deleted...
            return _Failure(ERROR_FROM_TARGET, str(error) or type(error).__name__, True)
        http = p.get("http") or {}
        event = json.loads(p["event"])
        url = _fill_path(destination.invocation_endpoint, [_dynamic(v, event) for v in
                                                             http.get("PathParameterValues") or []])
        query = {k: _dynamic(v, event) for k, v in (http.get("QueryStringParameters") or {}).items()}
        query.update(authorization.query or {})  # the connection's parameters win (sagewatch's choice)
        if query:
            url += ("&" if urllib.parse.urlsplit(url).query else "?") + urllib.parse.urlencode(query)
        headers = dict(API_DESTINATION_HEADERS)
        headers.update({k: _dynamic(v, event) for k, v in (http.get("HeaderParameters") or {}).items()})
        headers.update(authorization.headers or {})
        method = destination.http_method.upper()
        body = None
        if method not in ("GET", "HEAD", "OPTIONS"):
            body = _with_body_parameters(p["input"], authorization.body or {}).encode()
        wait = operations.invocation_slot(p["target_arn"])
        if wait > LONGEST_RATE_WAIT_SECONDS:
            return _Failure(ERROR_FROM_TARGET, "InvocationRateLimitPerSecond reached", True, retry_after=wait)
        if wait > 0:
            time.sleep(wait)
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with _OPENER.open(request, timeout=API_DESTINATION_TIMEOUT_SECONDS) as response:
                return f"{method} {destination.invocation_endpoint}: {response.status}"
        except urllib.error.HTTPError as answer:
            status = answer.code
            text = _read_some(answer)
            retry_after = _retry_after(answer.headers.get("Retry-After"))
        except (OSError, ValueError) as error:  # refused, reset, timed out, unresolvable, bad URL
            return _Failure(ERROR_FROM_TARGET, f"{method} {destination.invocation_endpoint}: {error}", True)
        message = f"{method} {destination.invocation_endpoint} answered {status}" + (f": {text}" if text else "")
        if status in (401, 407):
            operations.forget_token(destination.connection_arn)
        retryable = status in RETRIED_STATUSES or status >= 500
        if retry_after is not None and retry_after < 0:
            retryable = False  # "If Retry-After value is negative, EventBridge stops retrying"
        return _Failure(ERROR_FROM_TARGET, message, retryable, retry_after if retryable else None)

    # SageMaker extension targets

    def _call_sagemaker(self, operation: str, request: dict) -> dict:
        if self.sagemaker_call is None:
            raise AWSError("ServiceUnavailable", "SageMaker is not available", sender_fault=False)
        return self.sagemaker_call(operation, request)

    def _create_job(self, kind: str, p: dict) -> str | _Failure:
        try:
            request = json.loads(p["input"])
        except ValueError:
            request = None
        if not isinstance(request, dict):
            return _Failure(ERROR_FROM_TARGET, f"The target's input is not a {kind} request (a JSON object)", False)
        name = request.get(JOB_NAME_MEMBER[kind])
        try:
            answer = self._call_sagemaker(kind, request)
        except AWSError as error:
            if error.code == "ResourceInUse":
                # Delivered before (at-least-once): the job of this name exists.
                return f"{kind} {name}: already exists"
            raise
        return f"{kind} {name}: {next(iter(answer.values()), '')}"

    def _stop_jobs(self, p: dict) -> str | _Failure:
        jobs = _jobs_named(p["input"], json.loads(p["event"]))
        if not jobs:
            return _Failure(ERROR_FROM_TARGET, "The event names no job to stop: StopJob needs a TrainingJobName or "
                                               "ProcessingJobName (in its input, a SageMaker job state change, or "
                                               "an alarm's metric dimensions)", False)
        done = []
        for member, name in jobs:
            operation = "StopTrainingJob" if member == "TrainingJobName" else "StopProcessingJob"
            try:
                self._call_sagemaker(operation, {member: name})
                done.append(f"stopping {name}")
            except AWSError as error:
                message = error.message or ""
                if message.startswith("The request was rejected because"):
                    done.append(f"{name}: {message}")  # not running any more: nothing to stop
                elif message.startswith(("Requested resource not found", "Could not find")):
                    return _Failure(NO_RESOURCE, f"{operation} {name}: {message}", False)
                else:
                    raise
        return "; ".join(done)

    # -- giving up ----------------------------------------------------------------------------------

    def _give_up(self, delivery: Delivery, code: str, message: str, condition: str | None) -> Outcome:
        p = delivery.payload
        rule_name, bus = p["rule_name"], p["bus"]
        if code == NO_RESOURCE:
            self.count("DeadLetterInvocations", rule_name, bus)
        else:
            self.count("Invocations", rule_name, bus)
            self.count("FailedInvocations", rule_name, bus)
        error = f"{code}: {message}"
        if condition:
            error += f" ({condition} reached)"
        dead_letter = p.get("dead_letter")
        if not dead_letter:
            return Failed(error)
        service = (arns.parse_or_none(dead_letter) or arns.Arn("", "", "", "", "")).service
        if service != "sns" or self.sns_publish is None:
            self.count("InvocationsFailedToBeSentToDlq", rule_name, bus)
            return Failed(f"{error}; not sent to the dead-letter queue {dead_letter}: sagewatch has no SQS")
        attributes = {
            "RULE_ARN": p["rule_arn"], "TARGET_ARN": p["target_arn"], "ERROR_CODE": code,
            "ERROR_MESSAGE": message, "RETRY_ATTEMPTS": str(delivery.attempts),
        }
        if condition:
            attributes["EXHAUSTED_RETRY_CONDITION"] = condition
        try:
            self.sns_publish(TopicArn=dead_letter, Message=p["event"], MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()})
        except Exception as failure:
            self.count("InvocationsFailedToBeSentToDlq", rule_name, bus)
            return Failed(f"{error}; sending it to the dead-letter topic {dead_letter} failed: {failure}")
        self.count("InvocationsSentToDlq", rule_name, bus)
        return Failed(f"{error}; sent to the dead-letter topic {dead_letter}")

    # -- metrics --------------------------------------------------------------------------------------

    def count(self, metric: str, rule_name: str, bus: str, value: int = 1) -> None:
        minute = self.clock.now() // 60 * 60
        key = (metric, rule_name, bus or DEFAULT_BUS, minute)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + value

    def publish_metrics(self) -> int:
        """Publish the counts so far (the ``events.metrics`` duty); how many values."""
        with self._lock:
            counts, self._counts = self._counts, {}
        if not counts or self.put_metrics is None:
            return 0
        values = []
        for (metric, rule_name, bus, minute), value in counts.items():
            dimensions = (("RuleName", rule_name),) if bus == DEFAULT_BUS else (
                ("EventBusName", bus), ("RuleName", rule_name))
            values.append(MetricValue(metric, dimensions, minute, float(value), "Count"))
        self.put_metrics(METRICS_NAMESPACE, values)
        return len(values)

    # -- lifecycle (server.py lists it as a component) ----------------------------------------------------

    def start(self) -> None:
        pass

    def duties(self) -> list[Duty]:
        return [Duty("events.metrics", METRICS_FLUSH_SECONDS, self.publish_metrics)]

    def stop(self) -> None:
        try:
            self.publish_metrics()
        except Exception:
            log.exception("publishing the last EventBridge metrics failed")


def _invalid(message: str) -> AWSError:
    return AWSError("ValidationException", message)


def _sender_fault(error: AWSError) -> bool:
    """An answer that retrying cannot change (the request is wrong), as opposed to a fault of
    the service (retried)."""
    if error.sender_fault is not None:
        return error.sender_fault
    return error.code not in ("InternalFailure", "InternalError", "ServiceUnavailable", "ThrottlingException")


def _dynamic(value: str, event: dict) -> str:
    """A HttpParameters value; one starting ``$.`` is read from the event (a dynamic path
    parameter, eb-targets.md "Dynamic path parameters")."""
    if isinstance(value, str) and value.startswith("$."):
        path = compile_path(value)
        if path is not None:
            found = path.select(event)
            if isinstance(found, str):
                return found
            return "" if found is MISSING else compact(found)
    return value


def _fill_path(endpoint: str, values: list[str]) -> str:
    """The endpoint with each ``*`` of its path replaced by the next PathParameterValues value."""
    parts = urllib.parse.urlsplit(endpoint)
    path, filled = parts.path, []
    for piece in path.split("*"):
        filled.append(piece)
        filled.append(urllib.parse.quote(values.pop(0), safe="") if values else "*")
    path = "".join(filled[:-1])
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def _with_body_parameters(text: str, parameters: dict) -> str:
    """The connection's body parameters join a JSON object body; any other body is sent as is."""
    if not parameters:
        return text
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if not isinstance(body, dict):
        return text
    body.update(parameters)
    return compact(body)


def _read_some(answer: urllib.error.HTTPError) -> str:
    try:
        return answer.read(300).decode("utf-8", "replace").strip()
    except Exception:
        return ""


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None  # an HTTP date: the backoff decides


def _jobs_named(text: str, event: dict) -> list[tuple[str, str]]:
    """(member, job name) of the jobs a StopJob target stops: its input's, else the event's."""
    try:
        given = json.loads(text)
    except ValueError:
        given = None
    if isinstance(given, dict):
        named = [(m, given[m]) for m in ("TrainingJobName", "ProcessingJobName") if isinstance(given.get(m), str)]
        if named:
            return named
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict):
        return []
    for member in ("TrainingJobName", "ProcessingJobName"):
        if event.get("source") == "aws.sagemaker" and isinstance(detail.get(member), str):
            return [(member, detail[member])]
    metrics = (detail.get("configuration") or {}).get("metrics") if event.get("source") == "aws.cloudwatch" else None
    keys = []
    for metric in metrics or []:
        stat = (metric or {}).get("metricStat") or {}
        described = stat.get("metric") or {}
        dimensions = described.get("dimensions") or {}
        keys.append((described.get("namespace", ""), described.get("name", ""), list(dimensions.items())))
    return [(f"{kind}Name", name) for kind, name in jobs_in_metrics(keys)]  # TrainingJob -> TrainingJobName

"""EventBridge targets acting for real, through a real server with boto3: each kind of target,
its input, its retries and its dead letter (services/events/targets.py).

* an SNS topic: a real HTTP listener subscribed to it receives the notification;
* an API destination: a real HTTP listener gets the call, authorized as its connection says
  (Basic, API key, OAuth client credentials against a real token endpoint);
* the SageMaker extension targets: CreateTrainingJob starts a real job from the event, StopJob
  stops a running one;
* a target that keeps failing is retried per its RetryPolicy, then its event goes to the
  dead-letter topic with AWS's DLQ attributes;
* PutTargets refuses what cannot be delivered, in AWS's words; the AWS/Events metrics appear.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from ..api_endpoint import ApiEndpoint
from ..server import make_client
from ..token_endpoint import TokenEndpoint
from .jobs import streams_of, training_request, wait_for, wait_training
from .sns_endpoints import Webhook, of_type, webhook

SOURCE = "sagewatch.tests"


@pytest.fixture(scope="module")
def events(server):
    return make_client("events", server.endpoint)


@pytest.fixture(scope="module")
def sns(server):
    return make_client("sns", server.endpoint)


@pytest.fixture(scope="module")
def sagemaker(server):
    return make_client("sagemaker", server.endpoint)


@pytest.fixture(scope="module")
def cloudwatch(server):
    return make_client("cloudwatch", server.endpoint)


@pytest.fixture
def endpoint():
    listener = ApiEndpoint()
    yield listener
    listener.close()


def rule(events, name: str, detail_type: str) -> str:
    pattern = {"source": [SOURCE], "detail-type": [detail_type]}
    return events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]


def put_event(events, detail_type: str, detail: dict) -> None:
    answer = events.put_events(Entries=[{"Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail)}])
    assert answer["FailedEntryCount"] == 0, answer


def subscribed_topic(sns, hook: Webhook, name: str) -> str:
    topic = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
    hook.wait_for(of_type("SubscriptionConfirmation"))
    wait_for(lambda: sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"],
             lambda subs: subs and not subs[0]["SubscriptionArn"].startswith("Pending"), 30)
    return topic


def notifications(hook: Webhook) -> list[dict]:
    return [json.loads(body) for headers, body in hook.received("Notification")]


# -- SNS topics ---------------------------------------------------------------------------------------


def test_an_sns_topic_target_notifies_its_subscribers(events, sns, unique):
    with webhook() as hook:
        topic = subscribed_topic(sns, hook, f"targets-{unique}")
        name = f"to-topic-{unique}"
        rule(events, name, "Order Placed")
        events.put_targets(Rule=name, Targets=[{
            "Id": "topic", "Arn": topic,
            "InputTransformer": {"InputPathsMap": {"order": "$.detail.order", "total": "$.detail.total"},
                                 "InputTemplate": '"Order <order> placed, total <total>"'}}])
        put_event(events, "Order Placed", {"order": "o-17", "total": 42.5})
        hook.wait_for(of_type("Notification"))
        [message] = notifications(hook)
        assert message["TopicArn"] == topic
        assert message["Message"] == '"Order o-17 placed, total 42.5"'


def test_without_input_the_topic_gets_the_whole_event(events, sns, unique):
    with webhook() as hook:
        topic = subscribed_topic(sns, hook, f"whole-{unique}")
        name = f"whole-{unique}"
        arn = rule(events, name, "Whole")
        events.put_targets(Rule=name, Targets=[{"Id": "topic", "Arn": topic}])
        put_event(events, "Whole", {"n": 1})
        hook.wait_for(of_type("Notification"))
        event = json.loads(notifications(hook)[0]["Message"])
        assert event["detail"] == {"n": 1} and event["source"] == SOURCE and event["detail-type"] == "Whole"
        assert event["account"] == "000000000000" and event["region"] == "us-east-1" and event["resources"] == []
        assert arn.endswith(f":rule/{name}")


# -- API destinations ----------------------------------------------------------------------------------


def destination(events, name: str, url: str, auth_type: str, auth: dict, method: str = "POST",
                invocation: dict | None = None) -> str:
    if invocation:
        auth = {**auth, "InvocationHttpParameters": invocation}
    connection = events.create_connection(Name=f"{name}-c", AuthorizationType=auth_type, AuthParameters=auth)
    wait_for(lambda: events.describe_connection(Name=f"{name}-c"),
             lambda c: c["ConnectionState"] == "AUTHORIZED", 30)
    return events.create_api_destination(Name=f"{name}-d", ConnectionArn=connection["ConnectionArn"],
                                         InvocationEndpoint=url, HttpMethod=method)["ApiDestinationArn"]


def test_an_api_destination_gets_the_call_with_basic_auth_and_http_parameters(events, endpoint, unique):
    name = f"basic-{unique}"
    arn = destination(events, name, f"{endpoint.url}/orders/*/items/*", "BASIC",
                      {"BasicAuthParameters": {"Username": "user", "Password": "p@ss w"}},
                      invocation={"HeaderParameters": [{"Key": "X-From-Connection", "Value": "c"}],
                                  "QueryStringParameters": [{"Key": "conn", "Value": "1"}]})
    rule(events, name, "Basic")
    events.put_targets(Rule=name, Targets=[{
        "Id": "api", "Arn": arn, "InputPath": "$.detail",
        "HttpParameters": {"PathParameterValues": ["$.detail.order", "fixed"],
                           "HeaderParameters": {"X-Order": "$.detail.order", "X-Static": "yes"},
                           "QueryStringParameters": {"q": "a b"}}}])
    put_event(events, "Basic", {"order": "o-9", "lines": 2})
    [call] = endpoint.wait_count(1)
    assert call["method"] == "POST"
    assert call["path"] == "/orders/o-9/items/fixed"
    assert call["query"] == {"q": "a b", "conn": "1"}
    assert json.loads(call["body"]) == {"order": "o-9", "lines": 2}
    headers = call["headers"]
    assert headers["authorization"] == "Basic " + base64.b64encode(b"user:p@ss w").decode()
    assert headers["x-order"] == "o-9" and headers["x-static"] == "yes" and headers["x-from-connection"] == "c"
    # The headers every API destination call carries (eb-api-destinations.md).
    assert headers["user-agent"] == "Amazon/EventBridge/ApiDestinations"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["range"] == "bytes=0-1048575"


def test_an_api_destination_gets_the_api_key(events, endpoint, unique):
    name = f"key-{unique}"
    arn = destination(events, name, f"{endpoint.url}/hook", "API_KEY",
                      {"ApiKeyAuthParameters": {"ApiKeyName": "X-Api-Key", "ApiKeyValue": "s3cret"}}, method="PUT")
    rule(events, name, "Keyed")
    events.put_targets(Rule=name, Targets=[{"Id": "api", "Arn": arn, "Input": '{"fixed": true}'}])
    put_event(events, "Keyed", {})
    [call] = endpoint.wait_count(1)
    assert (call["method"], call["path"], call["body"]) == ("PUT", "/hook", '{"fixed": true}')
    assert call["headers"]["x-api-key"] == "s3cret"


def test_an_api_destination_gets_an_oauth_token_refreshed_after_a_401(events, endpoint, unique):
    tokens = TokenEndpoint("client-id", "client-secret")
    try:
        name = f"oauth-{unique}"
        arn = destination(events, name, f"{endpoint.url}/secured", "OAUTH_CLIENT_CREDENTIALS", {"OAuthParameters": {
            "ClientParameters": {"ClientID": "client-id", "ClientSecret": "client-secret"},
            "AuthorizationEndpoint": tokens.url, "HttpMethod": "POST"}})
        rule(events, name, "Secured")
        events.put_targets(Rule=name, Targets=[{"Id": "api", "Arn": arn}])
        endpoint.answers.append((401, {}))  # the first call's token is refused: a new one is fetched
        put_event(events, "Secured", {"k": "v"})
        calls = endpoint.wait_count(2)
        assert [c["headers"]["authorization"] for c in calls] == ["Bearer token-1", "Bearer token-2"]
        assert json.loads(calls[1]["body"])["detail"] == {"k": "v"}
    finally:
        tokens.close()


# -- retries and the dead letter --------------------------------------------------------------------------


def test_a_failing_target_is_retried_per_its_policy_then_dead_lettered(events, sns, endpoint, unique):
    with webhook() as dead:
        dlq = subscribed_topic(sns, dead, f"dlq-{unique}")
        name = f"failing-{unique}"
        arn = destination(events, name, f"{endpoint.url}/down", "API_KEY",
                          {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
        rule_arn = rule(events, name, "Failing")
        events.put_targets(Rule=name, Targets=[{
            "Id": "api", "Arn": arn, "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600},
            "DeadLetterConfig": {"Arn": dlq}}])
        endpoint.answers.extend([(503, {}), (500, {}), (502, {}), (200, {})])
        put_event(events, "Failing", {"attempt": "all"})
        dead.wait_for(of_type("Notification"))
        assert len(endpoint.requests) == 3  # the first try and two retries; the 200 is never asked
        [message] = notifications(dead)
        assert json.loads(message["Message"])["detail"] == {"attempt": "all"}
        attributes = {k: v["Value"] for k, v in message["MessageAttributes"].items()}
        assert attributes["RULE_ARN"] == rule_arn and attributes["TARGET_ARN"] == arn
        assert attributes["ERROR_CODE"] == "ERROR_FROM_TARGET" and "502" in attributes["ERROR_MESSAGE"]
        assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
        assert attributes["RETRY_ATTEMPTS"] == "2"


def test_a_client_error_is_not_retried(events, sns, endpoint, unique):
    with webhook() as dead:
        dlq = subscribed_topic(sns, dead, f"dlq4-{unique}")
        name = f"refused-{unique}"
        arn = destination(events, name, f"{endpoint.url}/bad", "API_KEY",
                          {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
        rule(events, name, "Refused")
        events.put_targets(Rule=name, Targets=[{"Id": "api", "Arn": arn, "DeadLetterConfig": {"Arn": dlq}}])
        endpoint.answers.append((400, {}))
        put_event(events, "Refused", {})
        dead.wait_for(of_type("Notification"))
        assert len(endpoint.requests) == 1
        attributes = {k: v["Value"] for k, v in notifications(dead)[0]["MessageAttributes"].items()}
        assert attributes["RETRY_ATTEMPTS"] == "0" and "EXHAUSTED_RETRY_CONDITION" not in attributes


# -- SageMaker extension targets -------------------------------------------------------------------------


def quick_script(tmp_path, body: str):
    code = tmp_path / f"code-{uuid.uuid4().hex[:6]}"
    code.mkdir()
    (code / "train.py").write_text(body)
    return code / "train.py"


def test_a_create_training_job_target_starts_a_real_job(events, sagemaker, tmp_path, unique):
    name = f"start-job-{unique}"
    request = training_request("placeholder", quick_script(tmp_path, "print('trained from an event')\n"),
                               tmp_path / "output")
    del request["TrainingJobName"]
    request["Environment"] = {"RUN": "placeholder"}
    # The template is the request; the event supplies the job's name and an environment value.
    template = json.dumps({**request, "TrainingJobName": "JOB", "Environment": {"RUN": "RUN"}})
    template = template.replace('"JOB"', "<job>").replace('"RUN": "RUN"', '"RUN": "<run>"')
    rule(events, name, "Start")
    events.put_targets(Rule=name, Targets=[{
        "Id": "train", "Arn": "arn:aws:sagemaker:us-east-1:000000000000:sagewatch-target/CreateTrainingJob",
        "InputTransformer": {"InputPathsMap": {"job": "$.detail.job", "run": "$.detail.run"},
                             "InputTemplate": template}}])
    job = f"from-event-{unique}"
    put_event(events, "Start", {"job": job, "run": "r-1"})
    wait_for(lambda: sagemaker.list_training_jobs(NameContains=job)["TrainingJobSummaries"], bool, 60)
    described = wait_training(sagemaker, job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["Environment"] == {"RUN": "r-1"}


def test_a_stop_job_target_stops_the_job_the_event_names(events, sagemaker, logs, tmp_path, unique):
    job = f"long-{unique}"
    script = quick_script(tmp_path, "import time\nfor i in range(3000):\n    print(i, flush=True)\n    time.sleep(0.1)\n")
    sagemaker.create_training_job(**training_request(job, script, tmp_path / "output"))
    wait_for(lambda: sagemaker.describe_training_job(TrainingJobName=job),
             lambda r: r["SecondaryStatus"] == "Training", 60)
    # Running for sure (its agent reports), as test_sagemaker_jobs' own stop test waits.
    wait_for(lambda: streams_of(logs, "/aws/sagemaker/TrainingJobs", job), bool, 60)
    name = f"stop-job-{unique}"
    rule(events, name, "Stop")
    events.put_targets(Rule=name, Targets=[{
        "Id": "stop", "Arn": "arn:aws:sagemaker:us-east-1:000000000000:sagewatch-target/StopJob",
        "InputTransformer": {"InputPathsMap": {"job": "$.detail.job"},
                             "InputTemplate": '{"TrainingJobName": <job>}'}}])
    put_event(events, "Stop", {"job": job})
    described = wait_training(sagemaker, job)
    assert described["TrainingJobStatus"] == "Stopped", (described.get("FailureReason"), described["SecondaryStatusTransitions"])


# -- PutTargets refusals ------------------------------------------------------------------------------------


def refusal(events, name: str, target: dict) -> str:
    with pytest.raises(ClientError) as caught:
        events.put_targets(Rule=name, Targets=[target])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return caught.value.response["Error"]["Message"]


def test_put_targets_refuses_what_cannot_be_delivered(events, unique):
    name = f"refusals-{unique}"
    rule(events, name, "Nothing")
    topic = "arn:aws:sns:us-east-1:000000000000:t"
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    assert refusal(events, name, {"Id": "t", "Arn": lambda_arn}) == \
        f"Parameter {lambda_arn} is not valid. Reason: Provided Arn is not in correct format."
    assert refusal(events, name, {"Id": "t", "Arn": "arn:aws:sagemaker:us-east-1:000000000000:sagewatch-target/Nope"})
    assert refusal(events, name, {"Id": "t", "Arn": topic, "HttpParameters": {"HeaderParameters": {"a": "b"}}}) == \
        "Parameter(s) HttpParameters not supported for target: t."
    assert refusal(events, name, {"Id": "t", "Arn": topic, "DeadLetterConfig": {"Arn": lambda_arn}}) == \
        "lambda is not supported as a dead letter resource"
    assert refusal(events, name, {"Id": "t", "Arn": topic, "InputTransformer": {
        "InputPathsMap": {"a": "$.detail.a"}, "InputTemplate": '"<a> and <b>"'}}) == \
        "InputTemplate for target t contains invalid placeholder b."
    assert refusal(events, name, {"Id": "t", "Arn": topic, "Input": "env:dev"}) == \
        'JSON syntax error in input for target t: [Source: (String)"env:dev"; line: 1, column: 4]'
    assert events.list_targets_by_rule(Rule=name)["Targets"] == []


# -- metrics ---------------------------------------------------------------------------------------------------


def test_deliveries_show_in_aws_events_metrics(events, sns, cloudwatch, unique):
    with webhook() as hook:
        topic = subscribed_topic(sns, hook, f"metered-{unique}")
        name = f"metered-{unique}"
        rule(events, name, "Metered")
        events.put_targets(Rule=name, Targets=[{"Id": "topic", "Arn": topic}])
        for n in range(3):
            put_event(events, "Metered", {"n": n})
        hook.wait_count(of_type("Notification"), 3)

    def sums() -> dict[str, float]:
        found = {}
        for metric in ("TriggeredRules", "Invocations", "InvocationAttempts", "SuccessfulInvocationAttempts"):
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/Events", MetricName=metric, Dimensions=[{"Name": "RuleName", "Value": name}],
                StartTime=time.time() - 600, EndTime=time.time() + 60, Period=60, Statistics=["Sum"])["Datapoints"]
            found[metric] = sum(p["Sum"] for p in points)
        return found

    # Published every 10 seconds (best effort, as AWS's): waited for, not timed.
    assert wait_for(sums, lambda s: all(v == 3 for v in s.values()), 60) == {
        "TriggeredRules": 3, "Invocations": 3, "InvocationAttempts": 3, "SuccessfulInvocationAttempts": 3}

"""EventBridge connections and API destinations through boto3 (and the aws CLI) against a real
server: every operation, every error, OAuth against a real token endpoint started by the test
(tests/token_endpoint.py), and the records surviving kill -9.

Expected answers marked "recorded" are AWS's own, from localstack's AWS-recorded
``tests/aws/services/events/test_api_destinations_and_connection.snapshot.json``.
"""

from __future__ import annotations

import re
import time

import pytest
from botocore.exceptions import ClientError

from ..server import ServerProcess, make_client
from ..token_endpoint import TokenEndpoint

BASIC = {"BasicAuthParameters": {"Username": "user", "Password": "pass"}}
API_KEY = {"ApiKeyAuthParameters": {"ApiKeyName": "ApiKey", "ApiKeyValue": "secret"}}
SECRET_ARN = r"arn:aws:secretsmanager:us-east-1:\d{12}:secret:events!connection/%s/[0-9a-f-]{36}-[A-Za-z0-9]{6}"


@pytest.fixture(scope="module")
def events(server):
    return make_client("events", server.endpoint)


@pytest.fixture(scope="module")
def raw_events(server):
    """boto3 with its own checks off: the server's validation answers."""
    return make_client("events", server.endpoint, parameter_validation=False)


@pytest.fixture
def token_endpoint():
    endpoint = TokenEndpoint("client-id", "client-secret")
    yield endpoint
    endpoint.close()


def oauth(endpoint: TokenEndpoint, secret: str | None = None) -> dict:
    return {"OAuthParameters": {
        "ClientParameters": {"ClientID": endpoint.client_id, "ClientSecret": secret or endpoint.client_secret},
        "AuthorizationEndpoint": endpoint.url, "HttpMethod": "POST"}}


def error_of(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return {"Code": response["Error"]["Code"], "Message": response["Error"]["Message"],
            "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


def wait_for_state(events, name: str, state: str, bound: float = 30.0) -> dict:
    deadline = time.monotonic() + bound
    while (found := events.describe_connection(Name=name))["ConnectionState"] != state:
        assert time.monotonic() < deadline, f"{name} stayed {found['ConnectionState']}"
        time.sleep(0.02)
    return found


def not_found(name: str) -> dict:
    # recorded (test_delete_connection: describe-deleted-connection)
    return {"Code": "ResourceNotFoundException", "Status": 400,
            "Message": f"Failed to describe the connection(s). Connection '{name}' does not exist."}


# -- connections -----------------------------------------------------------------------------------

def test_an_api_key_connection_is_authorized_and_described_without_its_key(events, unique):
    name = f"key-{unique}"
    created = events.create_connection(Name=name, AuthorizationType="API_KEY",
                                       AuthParameters={**API_KEY, "InvocationHttpParameters": {}})
    assert created["ConnectionState"] == "AUTHORIZED"  # recorded (test_create_connection)
    assert re.fullmatch(rf"arn:aws:events:us-east-1:\d{{12}}:connection/{name}/[0-9a-f-]{{36}}",
                        created["ConnectionArn"])
    described = events.describe_connection(Name=name)
    described.pop("ResponseMetadata")
    # recorded (test_create_connection: describe-connection), times and ARNs aside
    assert described.pop("AuthParameters") == {"ApiKeyAuthParameters": {"ApiKeyName": "ApiKey"},
                                                "InvocationHttpParameters": {}}
    assert re.fullmatch(SECRET_ARN % name, described.pop("SecretArn"))
    assert set(described) == {"AuthorizationType", "ConnectionArn", "ConnectionState", "CreationTime",
                              "LastAuthorizedTime", "LastModifiedTime", "Name"}
    assert (described["AuthorizationType"], described["ConnectionState"]) == ("API_KEY", "AUTHORIZED")
    assert "secret" not in repr(events.list_connections(NamePrefix=name))


def test_a_basic_connection_updates_its_password_and_is_described_as_recorded(events, unique):
    name = f"basic-{unique}"
    events.create_connection(Name=name, AuthorizationType="BASIC", Description="hooks",
                             AuthParameters={**BASIC, "InvocationHttpParameters": {}})
    updated = events.update_connection(Name=name, AuthorizationType="BASIC", AuthParameters={
        "BasicAuthParameters": {"Username": "new_user", "Password": "new_pass"}, "InvocationHttpParameters": {}})
    # recorded (test_update_connection: update-connection)
    assert updated["ConnectionState"] == "AUTHORIZED"
    assert {"ConnectionArn", "CreationTime", "LastModifiedTime", "LastAuthorizedTime"} <= set(updated)
    described = events.describe_connection(Name=name)
    assert described["AuthParameters"] == {"BasicAuthParameters": {"Username": "new_user"},
                                           "InvocationHttpParameters": {}}
    assert described["Description"] == "hooks"
    # Only the password: the rest is kept.
    events.update_connection(Name=name, AuthParameters={"BasicAuthParameters": {"Password": "p2"}})
    assert events.describe_connection(Name=name)["AuthParameters"]["BasicAuthParameters"] == {"Username": "new_user"}


def test_list_connections_filters_and_pages(events, raw_events, unique):
    for suffix in ("a", "b", "c"):
        events.create_connection(Name=f"list-{unique}-{suffix}", AuthorizationType="BASIC", AuthParameters=BASIC)
    events.deauthorize_connection(Name=f"list-{unique}-b")
    first = events.list_connections(NamePrefix=f"list-{unique}", Limit=2)
    entry = first["Connections"][0]
    # recorded (test_list_connections): the entry's members
    assert set(entry) == {"AuthorizationType", "ConnectionArn", "ConnectionState", "CreationTime",
                          "LastAuthorizedTime", "LastModifiedTime", "Name"}
    rest = events.list_connections(NamePrefix=f"list-{unique}", Limit=2, NextToken=first["NextToken"])
    assert [c["Name"] for c in first["Connections"] + rest["Connections"]] == [
        f"list-{unique}-a", f"list-{unique}-b", f"list-{unique}-c"]
    assert "NextToken" not in rest
    deauthorized = events.list_connections(NamePrefix=f"list-{unique}", ConnectionState="DEAUTHORIZED")
    assert [c["Name"] for c in deauthorized["Connections"]] == [f"list-{unique}-b"]
    assert error_of(raw_events.list_connections, NextToken="not-a-token")["Code"] == "ValidationException"


def test_deauthorize_then_delete(events, unique):
    name = f"gone-{unique}"
    created = events.create_connection(Name=name, AuthorizationType="BASIC", AuthParameters=BASIC)
    answer = events.deauthorize_connection(Name=name)
    assert (answer["ConnectionArn"], answer["ConnectionState"]) == (created["ConnectionArn"], "DEAUTHORIZING")
    described = events.describe_connection(Name=name)
    assert described["ConnectionState"] == "DEAUTHORIZED"
    assert "AuthParameters" not in described and "SecretArn" not in described
    deleted = events.delete_connection(Name=name)
    assert deleted["ConnectionState"] == "DELETING"  # recorded (test_delete_connection)
    assert error_of(events.describe_connection, Name=name) == not_found(name)


@pytest.mark.parametrize("operation", ["describe_connection", "delete_connection", "deauthorize_connection",
                                       "update_connection"])
def test_a_missing_connection_is_not_found(events, unique, operation):
    assert error_of(getattr(events, operation), Name=f"nobody-{unique}") == not_found(f"nobody-{unique}")


def test_a_taken_name_is_refused(events, unique):
    events.create_connection(Name=f"twice-{unique}", AuthorizationType="BASIC", AuthParameters=BASIC)
    error = error_of(events.create_connection, Name=f"twice-{unique}", AuthorizationType="BASIC",
                     AuthParameters=BASIC)
    assert (error["Code"], error["Status"]) == ("ResourceAlreadyExistsException", 400)


def test_invalid_connections_get_aws_messages(raw_events, unique):
    # recorded (test_create_connection_invalid_parameters)
    assert error_of(raw_events.create_connection, Name=f"bad-{unique}", AuthorizationType="INVALID_AUTH_TYPE",
                    AuthParameters={}) == {
        "Code": "ValidationException", "Status": 400,
        "Message": "1 validation error detected: Value 'INVALID_AUTH_TYPE' at 'authorizationType' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]"}
    # recorded (test_create_connection_name_validation)
    assert error_of(raw_events.create_connection, Name="Invalid Name With Spaces!", AuthorizationType="API_KEY",
                    AuthParameters=API_KEY) == {
        "Code": "ValidationException", "Status": 400,
        "Message": "1 validation error detected: Value 'Invalid Name With Spaces!' at 'name' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"}
    # sagewatch's wording: the block of the type is missing, or another type's is given
    assert error_of(raw_events.create_connection, Name=f"bad-{unique}", AuthorizationType="BASIC",
                    AuthParameters=API_KEY) == {
        "Code": "ValidationException", "Status": 400,
        "Message": "ApiKeyAuthParameters cannot be used with AuthorizationType BASIC."}
    assert error_of(raw_events.create_connection, Name=f"bad-{unique}", AuthorizationType="API_KEY",
                    AuthParameters={"InvocationHttpParameters": {}})["Message"] == (
        "ApiKeyAuthParameters is required for AuthorizationType API_KEY.")
    assert error_of(raw_events.describe_connection, Name=f"bad-{unique}") == not_found(f"bad-{unique}")


# -- OAuth client credentials ----------------------------------------------------------------------

def test_an_oauth_connection_fetches_its_token_from_a_real_endpoint(events, unique, token_endpoint):
    name = f"oauth-{unique}"
    created = events.create_connection(Name=name, AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                                       AuthParameters=oauth(token_endpoint))
    assert created["ConnectionState"] == "AUTHORIZING"  # recorded (test_create_connection_with_auth[2])
    described = wait_for_state(events, name, "AUTHORIZED")
    assert described["AuthParameters"] == {"OAuthParameters": {
        "AuthorizationEndpoint": token_endpoint.url, "ClientParameters": {"ClientID": "client-id"},
        "HttpMethod": "POST"}}
    assert re.fullmatch(SECRET_ARN % name, described["SecretArn"])
    [request] = token_endpoint.requests  # the endpoint checked the client's id and secret
    assert (request.method, request.form) == ("POST", {"grant_type": "client_credentials"})


def test_a_refused_oauth_connection_is_deauthorized_with_a_reason(events, unique, token_endpoint):
    name = f"refused-{unique}"
    arn = events.create_connection(Name=name, AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                                   AuthParameters=oauth(token_endpoint, secret="wrong"))["ConnectionArn"]
    destination = events.create_api_destination(Name=f"refused-{unique}", ConnectionArn=arn, HttpMethod="POST",
                                                InvocationEndpoint="https://example.com/api")
    # recorded (test_api_destinations[auth2]): an OAuth connection's destination starts INACTIVE
    assert destination["ApiDestinationState"] == "INACTIVE"
    described = wait_for_state(events, name, "DEAUTHORIZED")
    assert described["StateReason"] == (
        "The OAuth token could not be fetched: the authorization endpoint answered HTTP 401.")
    listed = events.list_connections(NamePrefix=name)["Connections"]
    assert listed[0]["StateReason"] == described["StateReason"]
    # The right secret authorizes it again, and its destination with it.
    events.update_connection(Name=name, AuthParameters={
        "OAuthParameters": {"ClientParameters": {"ClientSecret": token_endpoint.client_secret}}})
    wait_for_state(events, name, "AUTHORIZED")
    assert events.describe_api_destination(Name=f"refused-{unique}")["ApiDestinationState"] == "ACTIVE"


# -- API destinations ------------------------------------------------------------------------------

def test_an_api_destination_lives_as_recorded(events, unique):
    arn = events.create_connection(Name=f"dest-{unique}", AuthorizationType="BASIC",
                                   AuthParameters=BASIC)["ConnectionArn"]
    name = f"dest-{unique}"
    created = events.create_api_destination(Name=name, ConnectionArn=arn, HttpMethod="POST",
                                            InvocationEndpoint="https://example.com/api",
                                            Description="Test API destination")
    assert created["ApiDestinationState"] == "ACTIVE"
    assert re.fullmatch(rf"arn:aws:events:us-east-1:\d{{12}}:api-destination/{name}/[0-9a-f-]{{36}}",
                        created["ApiDestinationArn"])
    described = events.describe_api_destination(Name=name)
    described.pop("ResponseMetadata")
    # recorded (test_api_destinations[auth0]: describe-api-destination)
    assert {k: v for k, v in described.items() if k not in ("CreationTime", "LastModifiedTime")} == {
        "ApiDestinationArn": created["ApiDestinationArn"], "ApiDestinationState": "ACTIVE", "ConnectionArn": arn,
        "Description": "Test API destination", "HttpMethod": "POST", "InvocationEndpoint": "https://example.com/api",
        "InvocationRateLimitPerSecond": 300, "Name": name}
    [listed] = events.list_api_destinations(NamePrefix=name)["ApiDestinations"]
    assert "Description" not in listed and listed["ConnectionArn"] == arn  # recorded: list-api-destinations
    assert [d["Name"] for d in events.list_api_destinations(ConnectionArn=arn)["ApiDestinations"]] == [name]
    updated = events.update_api_destination(Name=name, ConnectionArn=arn, HttpMethod="PUT",
                                            InvocationEndpoint="https://example.com/api/v2",
                                            Description="Updated API destination", InvocationRateLimitPerSecond=20)
    assert updated["ApiDestinationState"] == "ACTIVE"
    described = events.describe_api_destination(Name=name)
    assert (described["HttpMethod"], described["InvocationEndpoint"], described["Description"],
            described["InvocationRateLimitPerSecond"]) == ("PUT", "https://example.com/api/v2",
                                                          "Updated API destination", 20)
    deleted = events.delete_api_destination(Name=name)
    assert set(deleted) == {"ResponseMetadata"}
    # recorded (test_api_destinations: describe-api-destination-not-found-error)
    assert error_of(events.describe_api_destination, Name=name) == {
        "Code": "ResourceNotFoundException", "Status": 400,
        "Message": f"Failed to describe the api-destination(s). An api-destination '{name}' does not exist."}


def test_api_destination_errors(events, raw_events, unique):
    arn = events.create_connection(Name=f"derr-{unique}", AuthorizationType="BASIC",
                                   AuthParameters=BASIC)["ConnectionArn"]
    # recorded (test_create_api_destination_invalid_parameters): two failures in one message.
    # AWS lists the HttpMethod enum as [HEAD, POST, PATCH, DELETE, PUT, GET, OPTIONS]; the
    # gateway prints the model's order, so only the connectionArn half is compared whole.
    error = error_of(raw_events.create_api_destination, Name=f"derr-{unique}",
                     ConnectionArn="invalid-connection-arn", HttpMethod="INVALID_METHOD",
                     InvocationEndpoint="invalid-endpoint")
    assert (error["Code"], error["Status"]) == ("ValidationException", 400)
    assert error["Message"].startswith(
        "2 validation errors detected: Value 'invalid-connection-arn' at 'connectionArn' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        "^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:connection\\/[\\.\\-_A-Za-z0-9]+\\/[\\-A-Za-z0-9]+$; "
        "Value 'INVALID_METHOD' at 'httpMethod' failed to satisfy constraint: Member must satisfy enum value set: [")
    # recorded (test_create_api_destination_name_validation)
    assert error_of(raw_events.create_api_destination, Name="Invalid Name With Spaces!", ConnectionArn=arn,
                    HttpMethod="POST", InvocationEndpoint="https://example.com/api") == {
        "Code": "ValidationException", "Status": 400,
        "Message": "1 validation error detected: Value 'Invalid Name With Spaces!' at 'name' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"}
    missing = arn.replace(f"connection/derr-{unique}/", f"connection/none-{unique}/")
    assert error_of(events.create_api_destination, Name=f"derr-{unique}", ConnectionArn=missing,
                    HttpMethod="POST", InvocationEndpoint="https://example.com") == not_found(f"none-{unique}")
    assert error_of(events.create_api_destination, Name=f"derr-{unique}", ConnectionArn=arn, HttpMethod="POST",
                    InvocationEndpoint="invalid-endpoint")["Code"] == "ValidationException"
    # http:// is taken: a documented sagewatch extension (AWS takes https only)
    events.create_api_destination(Name=f"derr-{unique}", ConnectionArn=arn, HttpMethod="POST",
                                  InvocationEndpoint="http://127.0.0.1:8080/hook")
    error = error_of(events.create_api_destination, Name=f"derr-{unique}", ConnectionArn=arn, HttpMethod="POST",
                     InvocationEndpoint="https://example.com")
    assert (error["Code"], error["Status"]) == ("ResourceAlreadyExistsException", 400)
    assert error_of(events.update_api_destination, Name=f"derr-{unique}",
                    ConnectionArn=missing) == not_found(f"none-{unique}")
    for operation in (events.update_api_destination, events.delete_api_destination):
        assert error_of(operation, Name=f"none-{unique}")["Message"] == (
            f"Failed to describe the api-destination(s). An api-destination 'none-{unique}' does not exist.")
    assert error_of(raw_events.create_api_destination, Name=f"rate-{unique}", ConnectionArn=arn,
                    HttpMethod="POST", InvocationEndpoint="https://example.com",
                    InvocationRateLimitPerSecond=0)["Code"] == "ValidationException"


def test_the_aws_cli_creates_and_describes_a_connection(aws, unique):
    name = f"cli-{unique}"
    created = aws.json("events", "create-connection", "--name", name, "--authorization-type", "API_KEY",
                       "--auth-parameters",
                       '{"ApiKeyAuthParameters":{"ApiKeyName":"x-api-key","ApiKeyValue":"s3cr3t"}}')
    assert created["ConnectionState"] == "AUTHORIZED"
    described = aws.json("events", "describe-connection", "--name", name)
    assert described["AuthParameters"] == {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key"}}
    assert "s3cr3t" not in repr(described)


def test_connections_and_destinations_survive_kill_9(tmp_path, token_endpoint):
    server = ServerProcess(tmp_path / "data").start()
    try:
        events = make_client("events", server.endpoint)
        arn = events.create_connection(Name="kept", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
        events.create_api_destination(Name="kept", ConnectionArn=arn, HttpMethod="POST",
                                      InvocationEndpoint="https://example.com/hook", InvocationRateLimitPerSecond=7)
        events.create_connection(Name="oauth", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                                 AuthParameters=oauth(token_endpoint))
        wait_for_state(events, "oauth", "AUTHORIZED")
        before = {n: events.describe_connection(Name=n) for n in ("kept", "oauth")}
        server.kill()
        server.start()
        events = make_client("events", server.endpoint)
        for name, described in before.items():
            after = events.describe_connection(Name=name)
            assert {k: after[k] for k in ("ConnectionArn", "ConnectionState", "SecretArn", "AuthParameters")} == {
                k: described[k] for k in ("ConnectionArn", "ConnectionState", "SecretArn", "AuthParameters")}
        destination = events.describe_api_destination(Name="kept")
        assert (destination["ApiDestinationState"], destination["InvocationRateLimitPerSecond"]) == ("ACTIVE", 7)
    finally:
        server.stop()

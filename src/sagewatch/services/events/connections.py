"""EventBridge connections and API destinations: the operations (CreateConnection ...
DeleteApiDestination) as a mixin of ``EventsService``, and what the API destination target needs
of them (``api_destination``, ``authorization``, ``forget_token``, ``invocation_slot``).

A connection says how an API destination's endpoint is authorized: Basic (a user name and
password), an API key (a header and its value), or OAuth client credentials (a token that
EventBridge fetches from an authorization endpoint with the client's id and secret, caches, and
fetches again when it nears its expiry or the endpoint answers 401 or 407) — "Authorization
methods for connections in EventBridge",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-target-connection-auth.html.
The credentials live in sagewatch's database (store/event_connections.py says why) and are never
answered back; SecretArn names the secret AWS would hold, in AWS's shape.

The host class provides ``region``, ``account_id``, ``clock`` (a ``Clock``) and
``connections_store`` (a ``ConnectionStore``); the mixin keeps its own in-memory state (OAuth
tokens, rate limiting) and creates it on first use.

What AWS answers was settled from AWS-recorded responses where they exist: localstack's
``tests/aws/services/events/test_api_destinations_and_connection.snapshot.json`` (recorded
against AWS on 2024-12-06; cited below as "the recorded snapshot"). Where nothing records
AWS's answer, the wording is sagewatch's own and says so.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import secrets
import string
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

from ... import arns
from ...store import Conflict, Gone
from ...store.event_connections import ApiDestination, Connection
from ..errors import AWSError
from ..pagination import InvalidToken, page_token, parse_page_token

log = logging.getLogger(__name__)

AUTHORIZED = "AUTHORIZED"
AUTHORIZING = "AUTHORIZING"
DEAUTHORIZED = "DEAUTHORIZED"
OAUTH = "OAUTH_CLIENT_CREDENTIALS"

# The parameters block each AuthorizationType takes, and the members a complete block has
# (botocore:events CreateConnection*AuthRequestParameters "required").
AUTH_BLOCKS = {
    "BASIC": "BasicAuthParameters",
    "API_KEY": "ApiKeyAuthParameters",
    OAUTH: "OAuthParameters",
}
REQUIRED_MEMBERS = {
    "BasicAuthParameters": ("Username", "Password"),
    "ApiKeyAuthParameters": ("ApiKeyName", "ApiKeyValue"),
    "OAuthParameters": ("ClientParameters", "AuthorizationEndpoint", "HttpMethod"),
}
REQUIRED_CLIENT_MEMBERS = ("ClientID", "ClientSecret")
HTTP_PARAMETER_LISTS = ("HeaderParameters", "QueryStringParameters", "BodyParameters")

# An API destination created without InvocationRateLimitPerSecond gets 300 (the recorded
# snapshot: test_api_destinations, "InvocationRateLimitPerSecond": 300). The model sets only a
# minimum of 1; 300 is AWS's default, adjustable, per-destination quota, so a larger value is
# taken as given.
DEFAULT_INVOCATION_RATE = 300
# ListConnections / ListApiDestinations: Limit is 1..100 (botocore:events LimitMax100); without
# one, a page holds the most a Limit allows (sagewatch's choice: AWS's default is unrecorded).
DEFAULT_PAGE_SIZE = 100
# A token nearing its expiry is fetched anew before a call: "if the token expires within 60
# seconds" (https://docs.amazonaws.cn/eventbridge/latest/userguide/eb-target-connection-auth.md,
# Amazon's Chinese-language copy of the page above, which gives the figure the English page
# leaves out).
TOKEN_REFRESH_MARGIN_SECONDS = 60.0
# "EventBridge requests to an API destination endpoint must have a maximum client execution
# timeout of five seconds" (https://repost.aws/knowledge-center/eventbridge-api-destination-
# target-failure); sagewatch gives the authorization endpoint the same five seconds.
TOKEN_TIMEOUT_SECONDS = 5.0
MAX_TOKEN_RESPONSE_BYTES = 1_048_576  # a token answer is a few hundred bytes: more is not one
MAX_STATE_REASON = 512  # botocore:events ConnectionStateReason max
# Secrets Manager ends a secret's ARN with "-" and six random characters.
_SECRET_SUFFIX_ALPHABET = string.ascii_letters + string.digits


# -- errors ---------------------------------------------------------------------------------------

def connection_not_found(name: str) -> AWSError:
    # The recorded snapshot (test_delete_connection, DescribeConnection of a deleted connection).
    # Every other operation that names a missing connection answers the same (unrecorded).
    return AWSError("ResourceNotFoundException",
                    f"Failed to describe the connection(s). Connection '{name}' does not exist.")


def api_destination_not_found(name: str) -> AWSError:
    # The recorded snapshot (test_api_destinations, DescribeApiDestination after the delete).
    return AWSError("ResourceNotFoundException",
                    f"Failed to describe the api-destination(s). An api-destination '{name}' does not exist.")


def connection_exists(name: str) -> AWSError:
    # The code is the model's (CreateConnection lists ResourceAlreadyExistsException); the
    # message is sagewatch's own, worded as the recorded not-found messages are.
    return AWSError("ResourceAlreadyExistsException", f"Connection '{name}' already exists.")


def api_destination_exists(name: str) -> AWSError:
    return AWSError("ResourceAlreadyExistsException", f"An api-destination '{name}' already exists.")


def invalid(message: str) -> AWSError:
    return AWSError("ValidationException", message)


def invalid_token() -> AWSError:
    return invalid("The NextToken provided is invalid.")  # sagewatch's wording


class ConnectionUnavailable(Exception):
    """A connection cannot authorize a call now (deleted, deauthorized, or its OAuth token could
    not be fetched). The message says why; the API destination call fails with it."""


@dataclass(frozen=True, slots=True)
class Authorization:
    """What a call to an API destination carries for its connection: the authorization header
    and the connection's InvocationHttpParameters (secret values included)."""

    headers: dict[str, str]
    query: dict[str, str]
    body: dict[str, str]


# -- the OAuth client-credentials exchange --------------------------------------------------------

class TokenRefused(Exception):
    """The authorization endpoint gave no token; the message says what it did instead."""


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires: float | None   # clock time; None when the endpoint gave no expires_in
    generation: int         # of the connection's credentials it was fetched with


def fetch_token(oauth: dict, *, timeout: float = TOKEN_TIMEOUT_SECONDS) -> tuple[str, float | None]:
    """(access token, seconds it lives or None) from the connection's authorization endpoint.

    The request: the connection's HttpMethod to its AuthorizationEndpoint, the client id and
    secret as HTTP Basic credentials (RFC 6749 §2.3.1, the client authentication every
    authorization server must accept), and the connection's OAuthHttpParameters as headers,
    query string and form body. RFC 6749 §4.4.2 requires ``grant_type=client_credentials``;
    EventBridge users are told to add it as a body parameter themselves (localstack issue #5729
    quotes such a connection), and sagewatch adds it when the parameters do not (in the body,
    or in the query string of a GET) so that a connection made without it works too.
    The answer must be a 2xx JSON object with an ``access_token`` (RFC 6749 §5.1).
    """
    client = oauth["ClientParameters"]
    http = oauth.get("OAuthHttpParameters") or {}
    method = oauth["HttpMethod"]
    query = [(p["Key"], p.get("Value", "")) for p in http.get("QueryStringParameters", [])]
    form = [(p["Key"], p.get("Value", "")) for p in http.get("BodyParameters", [])]
    if not any(key == "grant_type" for key, _ in query + form):
        (query if method == "GET" else form).append(("grant_type", "client_credentials"))
    url = _with_query(oauth["AuthorizationEndpoint"], query)
    headers = {p["Key"]: p.get("Value", "") for p in http.get("HeaderParameters", [])}
    headers["Authorization"] = _basic(client["ClientID"], client["ClientSecret"])
    data = None
    if method != "GET":
        data = urllib.parse.urlencode(form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read(MAX_TOKEN_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise TokenRefused(f"the authorization endpoint answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise TokenRefused(f"the authorization endpoint could not be reached ({reason})") from None
    try:
        answer = json.loads(payload) if len(payload) <= MAX_TOKEN_RESPONSE_BYTES else None
    except ValueError:
        answer = None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenRefused("the authorization endpoint's answer has no access_token")
    lifetime = answer.get("expires_in")
    if isinstance(lifetime, str) and lifetime.isdigit():  # some servers quote it
        lifetime = int(lifetime)
    if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
        lifetime = None  # no expiry given: kept until an endpoint answers 401 or 407
    return token, lifetime


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return url
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(pairs)


# -- invocation rate ----------------------------------------------------------------------------

class InvocationRateLimiter:
    """InvocationRateLimitPerSecond per API destination, as a reservation: ``slot`` says how long
    a call must wait and counts it as made then, so concurrent callers are spread out rather
    than all told "go now".

    The generic cell rate algorithm (virtual scheduling): each destination has a theoretical
    arrival time; a call conforms when it is at most one second ahead of it, so a destination at
    rate r takes r calls at once after a quiet second, then one every 1/r s. Time is
    ``time.monotonic`` (a duration, not the time of day: clock.py).
    """

    def __init__(self, monotonic=time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._arrival: dict[str, float] = {}

    def slot(self, key: str, rate: int) -> float:
        interval = 1.0 / rate
        burst = 1.0 - interval  # how far ahead of schedule a call may be
        with self._lock:
            now = self._monotonic()
            arrival = max(self._arrival.get(key, now), now)
            wait = max(0.0, arrival - burst - now)
            self._arrival[key] = arrival + interval
            return wait

    def forget(self, key: str) -> None:
        with self._lock:
            self._arrival.pop(key, None)


@dataclass
class _Runtime:
    """The mixin's in-memory state: cached OAuth tokens and the rate limiter."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, Token] = field(default_factory=dict)          # by connection ARN
    fetching: dict[str, threading.Lock] = field(default_factory=dict)  # one fetch at a time
    limiter: InvocationRateLimiter = field(default_factory=InvocationRateLimiter)

    def fetch_lock(self, arn: str) -> threading.Lock:
        with self.lock:
            return self.fetching.setdefault(arn, threading.Lock())


_RUNTIME_CREATION = threading.Lock()


# -- the operations -------------------------------------------------------------------------------

class ConnectionOperations:
    """The connection and API destination operations of EventBridge (mixed into EventsService)."""

    region: str
    account_id: str

    # -- state the mixin keeps ------------------------------------------------------------------

    @property
    def _connection_runtime(self) -> _Runtime:
        runtime = self.__dict__.get("_connection_runtime_state")
        if runtime is None:
            with _RUNTIME_CREATION:
                runtime = self.__dict__.setdefault("_connection_runtime_state", _Runtime())
        return runtime

    # -- connections ----------------------------------------------------------------------------

    def create_connection(self, Name, AuthorizationType, AuthParameters, Description=None,
                          InvocationConnectivityParameters=None, KmsKeyIdentifier=None):
        parameters = _complete_auth(AuthorizationType, copy.deepcopy(AuthParameters))
        now = self.clock.now()
        oauth = AuthorizationType == OAUTH
        connection = Connection(
            name=Name,
            arn=arns.build("events", f"connection/{Name}/{uuid.uuid4()}", self.region, self.account_id),
            authorization_type=AuthorizationType,
            auth_parameters=parameters,
            # Basic and API key connections are authorized at once, OAuth ones once a token was
            # fetched (the recorded snapshot: test_create_connection_with_auth, AUTHORIZED for
            # BASIC and API_KEY, AUTHORIZING for OAUTH_CLIENT_CREDENTIALS).
            state=AUTHORIZING if oauth else AUTHORIZED,
            state_reason=None,
            secret_arn=self._secret_arn(Name),
            description=Description,
            kms_key_identifier=KmsKeyIdentifier,
            invocation_connectivity_parameters=InvocationConnectivityParameters,
            creation_time=now,
            last_modified_time=now,
            # The recorded DescribeConnection shows LastAuthorizedTime for an AUTHORIZING OAuth
            # connection too: the creation time until a token is fetched.
            last_authorized_time=now,
        )
        try:
            self.connections_store.create_connection(connection)
        except Conflict:
            raise connection_exists(Name) from None
        if oauth:
            self._authorize_in_background(connection)
        return {"ConnectionArn": connection.arn, "ConnectionState": connection.state,
                "CreationTime": connection.creation_time, "LastModifiedTime": connection.last_modified_time}

    def describe_connection(self, Name):
        connection = self._connection(Name)
        answer = {
            "ConnectionArn": connection.arn,
            "Name": connection.name,
            "ConnectionState": connection.state,
            "AuthorizationType": connection.authorization_type,
            "CreationTime": connection.creation_time,
            "LastModifiedTime": connection.last_modified_time,
        }
        if connection.auth_parameters:
            answer["AuthParameters"] = _public_auth(connection.auth_parameters)
        optional = {
            "Description": connection.description,
            "StateReason": connection.state_reason,
            "SecretArn": connection.secret_arn,
            "KmsKeyIdentifier": connection.kms_key_identifier,
            "LastAuthorizedTime": connection.last_authorized_time,
        }
        answer.update({key: value for key, value in optional.items() if value is not None})
        return answer

    def list_connections(self, NamePrefix=None, ConnectionState=None, NextToken=None, Limit=None):
        after = self._page_start("connections", NextToken)
        chosen = [c for c in self.connections_store.connections()
                  if c.name.startswith(NamePrefix or "")
                  and (ConnectionState is None or c.state == ConnectionState)
                  and (after is None or c.name > after)]
        page, more = _page(chosen, Limit)
        answer = {"Connections": [_connection_summary(c) for c in page]}
        if more:
            answer["NextToken"] = page_token("connections", page[-1].name)
        return answer

    def update_connection(self, Name, Description=None, AuthorizationType=None, AuthParameters=None,
                          InvocationConnectivityParameters=None, KmsKeyIdentifier=None):
        now = self.clock.now()
        reauthorize = AuthorizationType is not None or any(
            block in (AuthParameters or {}) for block in AUTH_BLOCKS.values())

        def change(connection: Connection) -> None:
            if AuthorizationType is not None or AuthParameters:
                kind, parameters = _updated_auth(connection, AuthorizationType, AuthParameters or {})
                connection.authorization_type = kind
                connection.auth_parameters = parameters
            if reauthorize:
                # New credentials: authorized again at once, or once a token was fetched with
                # them (the recorded snapshot: test_update_connection answers AUTHORIZED for
                # Basic). A deauthorized connection's secret is made anew.
                connection.generation += 1
                connection.state = AUTHORIZING if connection.authorization_type == OAUTH else AUTHORIZED
                connection.state_reason = None
                connection.last_authorized_time = now
                connection.secret_arn = connection.secret_arn or self._secret_arn(Name)
            if Description is not None:
                connection.description = Description
            if KmsKeyIdentifier is not None:
                connection.kms_key_identifier = KmsKeyIdentifier
            if InvocationConnectivityParameters is not None:
                connection.invocation_connectivity_parameters = InvocationConnectivityParameters
            connection.last_modified_time = now

        try:
            connection = self.connections_store.update_connection(Name, change)
        except Gone:
            raise connection_not_found(Name) from None
        if reauthorize:
            self._forget_token_of(connection.arn)
            if connection.state == AUTHORIZING:
                self._authorize_in_background(connection)
        return _state_answer(connection, connection.state)

    def delete_connection(self, Name):
        connection = self.connections_store.delete_connection(Name)
        if connection is None:
            raise connection_not_found(Name)
        self._forget_token_of(connection.arn)
        # AWS answers DELETING and removes the connection soon after (the recorded snapshot:
        # test_delete_connection); sagewatch removes it at once, so the answer's state is the
        # only trace of the transition. API destinations that use it stay, INACTIVE (DeleteConnection
        # lists no error for a connection in use: botocore:events).
        return _state_answer(connection, "DELETING")

    def deauthorize_connection(self, Name):
        now = self.clock.now()

        def change(connection: Connection) -> None:
            # "De-authorizing a connection removes all authorization parameters. Removing
            # authorization parameters removes the secret from the connection, so you can reuse
            # it without having to create a new connection." (eb-target-connection-deauthorize)
            connection.auth_parameters = {}
            connection.secret_arn = None
            connection.state = DEAUTHORIZED
            connection.state_reason = None
            connection.generation += 1
            connection.last_modified_time = now

        try:
            connection = self.connections_store.update_connection(Name, change)
        except Gone:
            raise connection_not_found(Name) from None
        self._forget_token_of(connection.arn)
        # AWS answers DEAUTHORIZING on its way to DEAUTHORIZED; sagewatch gets there at once.
        return _state_answer(connection, "DEAUTHORIZING")

    # -- API destinations -----------------------------------------------------------------------

    def create_api_destination(self, Name, ConnectionArn, InvocationEndpoint, HttpMethod,
                               Description=None, InvocationRateLimitPerSecond=None):
        _check_endpoint("InvocationEndpoint", InvocationEndpoint)
        now = self.clock.now()
        destination = ApiDestination(
            name=Name,
            arn=arns.build("events", f"api-destination/{Name}/{uuid.uuid4()}", self.region, self.account_id),
            connection_arn=ConnectionArn,
            invocation_endpoint=InvocationEndpoint,
            http_method=HttpMethod,
            invocation_rate_limit_per_second=(DEFAULT_INVOCATION_RATE if InvocationRateLimitPerSecond is None
                                              else InvocationRateLimitPerSecond),
            description=Description,
            creation_time=now,
            last_modified_time=now,
        )
        try:
            self.connections_store.create_api_destination(destination)
        except Conflict:
            raise api_destination_exists(Name) from None
        except Gone:
            raise connection_not_found(_name_in_arn(ConnectionArn)) from None
        return self._destination_answer(destination)

    def describe_api_destination(self, Name):
        destination = self.connections_store.api_destination(Name)
        if destination is None:
            raise api_destination_not_found(Name)
        answer = self._destination_summary(destination)
        if destination.description is not None:
            answer["Description"] = destination.description
        return answer

    def list_api_destinations(self, NamePrefix=None, ConnectionArn=None, NextToken=None, Limit=None):
        after = self._page_start("api-destinations", NextToken)
        chosen = [d for d in self.connections_store.api_destinations()
                  if d.name.startswith(NamePrefix or "")
                  and (ConnectionArn is None or d.connection_arn == ConnectionArn)
                  and (after is None or d.name > after)]
        page, more = _page(chosen, Limit)
        # The list's entries leave out Description (the recorded snapshot: list-api-destinations).
        answer = {"ApiDestinations": [self._destination_summary(d) for d in page]}
        if more:
            answer["NextToken"] = page_token("api-destinations", page[-1].name)
        return answer

    def update_api_destination(self, Name, Description=None, ConnectionArn=None, InvocationEndpoint=None,
                               HttpMethod=None, InvocationRateLimitPerSecond=None):
        if InvocationEndpoint is not None:
            _check_endpoint("InvocationEndpoint", InvocationEndpoint)
        now = self.clock.now()

        def change(destination: ApiDestination) -> None:
            if Description is not None:
                destination.description = Description
            if ConnectionArn is not None:
                destination.connection_arn = ConnectionArn
            if InvocationEndpoint is not None:
                destination.invocation_endpoint = InvocationEndpoint
            if HttpMethod is not None:
                destination.http_method = HttpMethod
            if InvocationRateLimitPerSecond is not None:
                destination.invocation_rate_limit_per_second = InvocationRateLimitPerSecond
            destination.last_modified_time = now

        try:
            destination = self.connections_store.update_api_destination(Name, change)
        except Gone as gone:
            missing = gone.args[0] if gone.args else None
            if missing is not None and missing != Name:
                # The connection it would use is gone: the one named, or (after a DeleteConnection
                # left the destination behind) the one it already had.
                raise connection_not_found(_name_in_arn(missing)) from None
            raise api_destination_not_found(Name) from None
        if InvocationRateLimitPerSecond is not None:
            self._connection_runtime.limiter.forget(destination.arn)
        return self._destination_answer(destination)

    def delete_api_destination(self, Name):
        destination = self.connections_store.api_destination(Name)
        if destination is None or not self.connections_store.delete_api_destination(Name):
            raise api_destination_not_found(Name)
        self._connection_runtime.limiter.forget(destination.arn)
        return {}

    # -- what the API destination target uses (Python, not the wire) ------------------------------

    def api_destination(self, arn: str) -> ApiDestination | None:
        return self.connections_store.api_destination_by_arn(arn)

    def authorization(self, connection_arn: str) -> Authorization:
        """The headers, query string and body parameters a call through this connection carries;
        raises ConnectionUnavailable when the connection cannot authorize calls. For OAuth, a
        cached token, or one fetched now (the first call, a token within a minute of its
        expiry, or after ``forget_token``); a token that cannot be fetched deauthorizes the
        connection ("EventBridge de-authorizes a connection if ... For connections using OAuth
        authentication, EventBridge cannot refresh the necessary OAuth token",
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-target-connection-deauthorize.html).
        """
        connection = self.connections_store.connection_by_arn(connection_arn)
        if connection is None:
            raise ConnectionUnavailable(f"Connection {connection_arn} does not exist.")
        if connection.state not in (AUTHORIZED, AUTHORIZING):
            reason = f": {connection.state_reason}" if connection.state_reason else ""
            raise ConnectionUnavailable(f"Connection '{connection.name}' is {connection.state}{reason}")
        parameters = connection.auth_parameters
        invocation = parameters.get("InvocationHttpParameters") or {}
        headers = {p["Key"]: p.get("Value", "") for p in invocation.get("HeaderParameters", [])}
        query = {p["Key"]: p.get("Value", "") for p in invocation.get("QueryStringParameters", [])}
        body = {p["Key"]: p.get("Value", "") for p in invocation.get("BodyParameters", [])}
        # "For Basic and API Key authorization, EventBridge populates the required authorization
        # headers for you" (eb-target-connection-auth): they win over a parameter of that name.
        if connection.authorization_type == "BASIC":
            basic = parameters["BasicAuthParameters"]
            headers["Authorization"] = _basic(basic["Username"], basic["Password"])
        elif connection.authorization_type == "API_KEY":
            key = parameters["ApiKeyAuthParameters"]
            headers[key["ApiKeyName"]] = key["ApiKeyValue"]
        else:
            headers["Authorization"] = f"Bearer {self._oauth_token(connection)}"
        return Authorization(headers, query, body)

    def forget_token(self, connection_arn: str) -> None:
        """The endpoint refused the cached OAuth token (401 or 407): the next ``authorization``
        fetches a new one ("EventBridge refreshes OAuth tokens: When a 401 or 407 response is
        returned", eb-target-connection-auth)."""
        self._forget_token_of(connection_arn)

    def invocation_slot(self, api_destination_arn: str) -> float:
        """Seconds the next call to this API destination waits to keep its
        InvocationRateLimitPerSecond (0: go now); the call is counted as made then."""
        destination = self.connections_store.api_destination_by_arn(api_destination_arn)
        if destination is None:
            return 0.0
        return self._connection_runtime.limiter.slot(destination.arn, destination.invocation_rate_limit_per_second)

    def resume_authorizations(self) -> None:
        """At start-up: fetch tokens for the OAuth connections a previous server left
        AUTHORIZING (it stopped between CreateConnection and the token)."""
        for connection in self.connections_store.connections():
            if connection.state == AUTHORIZING:
                self._authorize_in_background(connection)

    # -- helpers --------------------------------------------------------------------------------

    def _connection(self, name: str) -> Connection:
        connection = self.connections_store.connection(name)
        if connection is None:
            raise connection_not_found(name)
        return connection

    def _secret_arn(self, name: str) -> str:
        # The recorded snapshot's shape: arn:<partition>:secretsmanager:<region>:<account>:
        # secret:events!connection/<name>/<uuid>-<six characters>.
        suffix = "".join(secrets.choice(_SECRET_SUFFIX_ALPHABET) for _ in range(6))
        return arns.build("secretsmanager", f"secret:events!connection/{name}/{uuid.uuid4()}-{suffix}",
                          self.region, self.account_id)

    def _page_start(self, kind: str, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return parse_page_token(kind, token, str)
        except InvalidToken:
            raise invalid_token() from None

    def _destination_state(self, destination: ApiDestination) -> str:
        """ACTIVE while its connection is AUTHORIZED, else INACTIVE (the recorded snapshot: an
        API destination of an AUTHORIZING OAuth connection is INACTIVE; "The API destination is
        in an inactive state and the connection authorization is DEAUTHORIZED", repost.aws
        knowledge-center/eventbridge-api-destination-target-failure)."""
        connection = self.connections_store.connection_by_arn(destination.connection_arn)
        return "ACTIVE" if connection is not None and connection.state == AUTHORIZED else "INACTIVE"

    def _destination_answer(self, destination: ApiDestination) -> dict:
        return {"ApiDestinationArn": destination.arn, "ApiDestinationState": self._destination_state(destination),
                "CreationTime": destination.creation_time, "LastModifiedTime": destination.last_modified_time}

    def _destination_summary(self, destination: ApiDestination) -> dict:
        return {
            "ApiDestinationArn": destination.arn,
            "Name": destination.name,
            "ApiDestinationState": self._destination_state(destination),
            "ConnectionArn": destination.connection_arn,
            "InvocationEndpoint": destination.invocation_endpoint,
            "HttpMethod": destination.http_method,
            "InvocationRateLimitPerSecond": destination.invocation_rate_limit_per_second,
            "CreationTime": destination.creation_time,
            "LastModifiedTime": destination.last_modified_time,
        }

    def _forget_token_of(self, connection_arn: str) -> None:
        runtime = self._connection_runtime
        with runtime.lock:
            runtime.tokens.pop(connection_arn, None)

    def _authorize_in_background(self, connection: Connection) -> None:
        """Fetch the first token of an AUTHORIZING connection on a thread of its own, so that
        CreateConnection answers AUTHORIZING at once as AWS does."""
        def authorize() -> None:
            try:
                self._oauth_token(connection)
            except ConnectionUnavailable as error:
                log.info("connection %s not authorized: %s", connection.name, error)
            except Exception:
                log.exception("authorizing connection %s failed", connection.name)

        threading.Thread(target=authorize, name=f"authorize-{connection.name}", daemon=True).start()

    def _oauth_token(self, connection: Connection) -> str:
        runtime = self._connection_runtime
        with runtime.fetch_lock(connection.arn):  # one fetch per connection at a time
            with runtime.lock:
                cached = runtime.tokens.get(connection.arn)
            if (cached is not None and cached.generation == connection.generation
                    and (cached.expires is None
                         or cached.expires - self.clock.now() > TOKEN_REFRESH_MARGIN_SECONDS)):
                return cached.value
            oauth = connection.auth_parameters["OAuthParameters"]
            try:
                value, lifetime = fetch_token(oauth)
            except TokenRefused as refused:
                reason = f"The OAuth token could not be fetched: {refused}."[:MAX_STATE_REASON]
                self._set_authorization(connection, DEAUTHORIZED, reason)
                raise ConnectionUnavailable(f"Connection '{connection.name}' is DEAUTHORIZED: {reason}") from None
            now = self.clock.now()
            token = Token(value, None if lifetime is None else now + lifetime, connection.generation)
            if self._set_authorization(connection, AUTHORIZED, None):
                with runtime.lock:
                    runtime.tokens[connection.arn] = token
            return value

    def _set_authorization(self, fetched_with: Connection, state: str, reason: str | None) -> bool:
        """Record what a token fetch made of the connection, unless its credentials changed (or
        it was deleted or deauthorized) meanwhile; whether it was recorded. StateReason's
        wording is sagewatch's own (AWS's is unrecorded)."""
        def current(connection: Connection | None) -> bool:
            return (connection is not None and connection.generation == fetched_with.generation
                    and connection.state in (AUTHORIZED, AUTHORIZING))

        if not current(self.connections_store.connection(fetched_with.name)):
            return False  # a stale fetch takes no write transaction
        now = self.clock.now()
        recorded = False

        def change(connection: Connection) -> None:
            nonlocal recorded
            if current(connection):
                recorded = True
                connection.state = state
                connection.state_reason = reason
                if state == AUTHORIZED:
                    connection.last_authorized_time = now

        try:
            self.connections_store.update_connection(fetched_with.name, change)
        except Gone:
            return False
        return recorded


# -- checking and showing parameters --------------------------------------------------------------

def _check_http(parameters: dict) -> None:
    """Each header, query string and body parameter needs its Key and Value: botocore:events
    marks neither required, but a parameter without them cannot be sent (sagewatch's wording)."""
    blocks = [parameters.get("InvocationHttpParameters"),
              (parameters.get("OAuthParameters") or {}).get("OAuthHttpParameters")]
    for block in filter(None, blocks):
        for kind in HTTP_PARAMETER_LISTS:
            for parameter in block.get(kind, []):
                if "Key" not in parameter or "Value" not in parameter:
                    raise invalid(f"Each of {kind} must have a Key and a Value.")


def _complete_auth(kind: str, parameters: dict) -> dict:
    """CreateConnection's AuthParameters, checked: the block of the AuthorizationType, complete,
    and no block of another type (botocore:events marks no block required, since which one is
    depends on the type; the messages are sagewatch's own)."""
    for other_kind, block in AUTH_BLOCKS.items():
        if other_kind != kind and block in parameters:
            raise invalid(f"{block} cannot be used with AuthorizationType {kind}.")
    block = AUTH_BLOCKS[kind]
    if block not in parameters:
        raise invalid(f"{block} is required for AuthorizationType {kind}.")
    _check_block(kind, parameters[block])
    _check_http(parameters)
    return parameters


def _check_block(kind: str, values: dict) -> None:
    block = AUTH_BLOCKS[kind]
    missing = [m for m in REQUIRED_MEMBERS[block] if m not in values]
    if kind == OAUTH and "ClientParameters" in values:
        missing += [f"ClientParameters.{m}" for m in REQUIRED_CLIENT_MEMBERS if m not in values["ClientParameters"]]
    if missing:
        raise invalid(f"{block} for AuthorizationType {kind} must include {', '.join(missing)}.")
    if kind == OAUTH:
        _check_endpoint("AuthorizationEndpoint", values["AuthorizationEndpoint"])


def _updated_auth(connection: Connection, kind: str | None, given: dict) -> tuple[str, dict]:
    """UpdateConnection's AuthorizationType and AuthParameters over the connection's. Members
    given replace those held, within the block of the (new) type: botocore:events makes every
    member of the Update* blocks optional, so a password alone may change. The block must be
    complete afterwards, as CreateConnection's is: a new type, or a deauthorized connection
    (which holds no parameters), needs all of it."""
    kind = kind or connection.authorization_type
    block = AUTH_BLOCKS[kind]
    for other_kind, other in AUTH_BLOCKS.items():
        if other_kind != kind and other in given:
            raise invalid(f"{other} cannot be used with AuthorizationType {kind}.")
    held = copy.deepcopy(connection.auth_parameters)
    values = held.get(block, {}) if kind == connection.authorization_type else {}
    if block in given:
        update = copy.deepcopy(given[block])
        if "ClientParameters" in update:
            update["ClientParameters"] = {**values.get("ClientParameters", {}), **update["ClientParameters"]}
        values = {**values, **update}
    _check_block(kind, values)
    parameters = {key: value for key, value in held.items() if key not in AUTH_BLOCKS.values()}
    parameters[block] = values
    for key in ("InvocationHttpParameters", "ConnectivityParameters"):
        if key in given:
            parameters[key] = copy.deepcopy(given[key])
    _check_http(parameters)
    return kind, parameters


def _check_endpoint(member: str, url: str) -> None:
    """AWS requires an HTTPS endpoint ("API destinations are HTTPS endpoints",
    eb-api-destinations); sagewatch also takes http:// (a documented extension: the webhooks a
    local tool calls are mostly plain HTTP). The message is sagewatch's own."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise invalid(f"{member} must be an https:// (or, in sagewatch, http://) URL: '{url}'.")


def _public_auth(parameters: dict) -> dict:
    """AuthParameters as DescribeConnection shows them: no password, API key value or client
    secret, and no parameter value marked IsValueSecret (the recorded snapshot shows Username,
    ApiKeyName, ClientID, AuthorizationEndpoint and HttpMethod only)."""
    shown = {}
    if "BasicAuthParameters" in parameters:
        shown["BasicAuthParameters"] = {"Username": parameters["BasicAuthParameters"]["Username"]}
    if "ApiKeyAuthParameters" in parameters:
        shown["ApiKeyAuthParameters"] = {"ApiKeyName": parameters["ApiKeyAuthParameters"]["ApiKeyName"]}
    if "OAuthParameters" in parameters:
        oauth = parameters["OAuthParameters"]
        shown["OAuthParameters"] = {
            "ClientParameters": {"ClientID": oauth["ClientParameters"]["ClientID"]},
            "AuthorizationEndpoint": oauth["AuthorizationEndpoint"],
            "HttpMethod": oauth["HttpMethod"],
        }
        if "OAuthHttpParameters" in oauth:
            shown["OAuthParameters"]["OAuthHttpParameters"] = _public_http(oauth["OAuthHttpParameters"])
    if "InvocationHttpParameters" in parameters:
        # Shown when given, {} included (the recorded snapshot: test_create_connection).
        shown["InvocationHttpParameters"] = _public_http(parameters["InvocationHttpParameters"])
    return shown


def _public_http(http: dict) -> dict:
    shown = {}
    for kind in HTTP_PARAMETER_LISTS:
        if kind in http:
            shown[kind] = [_public_parameter(p) for p in http[kind]]
    return shown


def _public_parameter(parameter: dict) -> dict:
    secret = bool(parameter.get("IsValueSecret", False))
    shown = {"Key": parameter["Key"]}
    if not secret and "Value" in parameter:
        shown["Value"] = parameter["Value"]
    shown["IsValueSecret"] = secret
    return shown


def _connection_summary(connection: Connection) -> dict:
    """A ListConnections entry (botocore:events Connection; the recorded list-connections)."""
    summary = {
        "ConnectionArn": connection.arn,
        "Name": connection.name,
        "ConnectionState": connection.state,
        "AuthorizationType": connection.authorization_type,
        "CreationTime": connection.creation_time,
        "LastModifiedTime": connection.last_modified_time,
    }
    if connection.state_reason is not None:
        summary["StateReason"] = connection.state_reason
    if connection.last_authorized_time is not None:
        summary["LastAuthorizedTime"] = connection.last_authorized_time
    return summary


def _state_answer(connection: Connection, state: str) -> dict:
    """Update/Delete/DeauthorizeConnection's answer (botocore:events output shapes)."""
    answer = {"ConnectionArn": connection.arn, "ConnectionState": state,
              "CreationTime": connection.creation_time, "LastModifiedTime": connection.last_modified_time}
    if connection.last_authorized_time is not None:
        answer["LastAuthorizedTime"] = connection.last_authorized_time
    return answer


def _page(items: list, limit: int | None) -> tuple[list, bool]:
    """The first page of ``items`` and whether more follow."""
    size = limit or DEFAULT_PAGE_SIZE
    return items[:size], len(items) > size


def _name_in_arn(arn: str) -> str:
    """The name in ``arn:...:connection/<name>/<uuid>`` (the model's pattern holds it)."""
    resource = arns.parse_or_none(arn)
    parts = resource.resource.split("/") if resource else []
    return parts[1] if len(parts) == 3 else arn

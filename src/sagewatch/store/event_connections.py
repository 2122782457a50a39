"""EventBridge connections and API destinations: their records, and what the EventBridge service
needs of their storage.

A connection holds the credentials an API destination is called with (a Basic password, an API
key, an OAuth client secret). AWS keeps them in a Secrets Manager secret that EventBridge owns;
sagewatch has no Secrets Manager and keeps them in this store, in its database file, in plain
text: it is a local tool, and whoever can read its data directory can read them (said in
docs/compatibility.md, CreateConnection).
The service never answers them back (DescribeConnection shows the public half only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Connection:
    name: str
    arn: str                        # arn:aws:events:<region>:<account>:connection/<name>/<uuid>
    authorization_type: str         # BASIC | API_KEY | OAUTH_CLIENT_CREDENTIALS
    # AuthParameters as given (merged over updates), secrets included; {} once deauthorized.
    auth_parameters: dict
    state: str                      # ConnectionState: AUTHORIZED, AUTHORIZING, DEAUTHORIZED
    state_reason: str | None
    secret_arn: str | None          # the SecretArn DescribeConnection shows; None once deauthorized
    description: str | None
    kms_key_identifier: str | None
    invocation_connectivity_parameters: dict | None
    creation_time: float
    last_modified_time: float
    last_authorized_time: float | None
    # Counts the changes of the credentials: an OAuth token fetched for an older generation is
    # neither cached nor allowed to change the state of the newer one.
    generation: int = 1


@dataclass
class ApiDestination:
    name: str
    arn: str                        # arn:aws:events:<region>:<account>:api-destination/<name>/<uuid>
    connection_arn: str
    invocation_endpoint: str
    http_method: str
    invocation_rate_limit_per_second: int
    description: str | None
    creation_time: float
    last_modified_time: float


class ConnectionStore:
    # -- connections -----------------------------------------------------------------------------

    def create_connection(self, connection: Connection) -> None:
        """Store a new connection; raises store.Conflict when the name is taken."""
        ...

    def connection(self, name: str) -> Connection | None: ...

    def connection_by_arn(self, arn: str) -> Connection | None: ...

    def connections(self) -> list[Connection]:
        """Every connection, in name order (the service filters and pages)."""
        ...

    def update_connection(self, name: str, change: Callable[[Connection], None]) -> Connection:
        """Read the connection, apply ``change`` and write it back in one write transaction;
        returns the new record. Raises store.Gone when there is no such connection."""
        ...

    def delete_connection(self, name: str) -> Connection | None:
        """Remove the connection; the record removed, or None when there was none."""
        ...

    # -- API destinations ------------------------------------------------------------------------

    def create_api_destination(self, destination: ApiDestination) -> None:
        """Store a new API destination; raises store.Conflict when the name is taken and
        store.Gone when its connection does not exist (checked in the same transaction)."""
        ...

    def api_destination(self, name: str) -> ApiDestination | None: ...

    def api_destination_by_arn(self, arn: str) -> ApiDestination | None: ...

    def api_destinations(self) -> list[ApiDestination]:
        """Every API destination, in name order."""
        ...

    def update_api_destination(self, name: str, change: Callable[[ApiDestination], None]) -> ApiDestination:
        """Read, change and write back in one write transaction. Raises store.Gone when there is
        no such API destination, or when the changed record names a connection that does not
        exist."""
        ...

    def delete_api_destination(self, name: str) -> bool:
        """Remove the API destination; whether there was one."""
        ...

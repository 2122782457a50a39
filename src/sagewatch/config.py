"""Server settings: where data lives, where to listen, which account and region to present, and
how jobs run on this machine.

Settings come from, lowest first: the defaults below, a TOML file (``--config`` or
``SAGEWATCH_CONFIG``), ``SAGEWATCH_*`` environment variables, then the command line. The file's
top-level keys are ``Settings`` fields; its ``[jobs]`` table is ``JobSettings`` (docs/jobs.md
shows a complete file) and its ``[smtp]`` table ``SmtpSettings`` (docs/notifications.md). An unknown key is an error, so a misspelt setting never passes silently.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

RUNNERS = ("process", "docker")
SMTP_SECURITY = ("starttls", "tls", "none")
# Each security's usual port: submission with STARTTLS (RFC 6409), implicit TLS (RFC 8314), plain SMTP.
SMTP_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class ConfigError(ValueError):
    """A configuration file or variable that cannot be used; the message says which and why."""


@dataclass(slots=True)
class CapacitySettings:
    """What this machine offers jobs, where detection is not wanted (jobs/capacity.py)."""

    cpus: int | None = None            # None: os.cpu_count()
    memory_gib: float | None = None    # None: physical memory
    gpus: list[int] | None = None      # None: NVML / nvidia-smi; [] hides every GPU from jobs


@dataclass(slots=True)
class JobSettings:
    runner: str = "process"            # "process" | "docker" (jobs/runners)
    # The interpreter script-mode jobs and host-mapped ``python`` commands run with.
    python: str = sys.executable
    # reference §3.1 / §4.3: SIGTERM, then SIGKILL 120 seconds later.
    stop_grace_seconds: float = 120.0
    work_dir: Path | None = None       # None: <data_dir>/jobs
    # "auto": a private /opt/ml per instance where the machine allows it (jobs/namespace.py);
    # "true": required (fail at start if impossible); "false": never.
    private_opt_ml: str = "auto"
    capacity: CapacitySettings = field(default_factory=CapacitySettings)
    # ml.* type -> {"vcpus", "memory_gib", "gpus"}: replaces or adds rows of jobs/capacity.py's table.
    instance_types: dict[str, dict] = field(default_factory=dict)
    # image glob -> a command (list of strings) or "host" (jobs/images.py). Consulted before the
    # built-in mappings, in file order.
    images: dict[str, list[str] | str] = field(default_factory=dict)
    # S3 for channels, inputs and outputs (jobs/data.py). None: boto3's own resolution
    # (AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS).
    s3_endpoint_url: str | None = None
    docker: str | None = None          # the docker CLI (None: found on PATH)


@dataclass(slots=True)
class SmtpSettings:
    """The mail server SNS email and email-json subscriptions are delivered through
    (services/sns/delivery.py). No host: email is not configured, and email deliveries fail
    with a reason saying so."""

    host: str | None = None
    port: int | None = None            # None: the security's usual port (SMTP_DEFAULT_PORTS)
    security: str = "starttls"         # "starttls" | "tls" (implicit TLS) | "none"
    username: str | None = None        # set: log in (after STARTTLS / over TLS)
    password: str | None = None
    # The From header. A topic's DisplayName, when it has one, replaces the display name, as
    # AWS's emails come "From: <DisplayName> <no-reply@sns.amazonaws.com>".
    sender: str = "AWS Notifications <no-reply@localhost>"
    # CA certificates (a PEM file) that the server's certificate is checked against, for a mail
    # server whose certificate no system CA signed. None: the system's CAs.
    ca_file: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.host)

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else SMTP_DEFAULT_PORTS[self.security]


@dataclass(slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4599
    data_dir: Path = Path("./sagewatch-data")
    region: str = "us-east-1"
    # AWS account ids are 12 digits; this one is what every ARN sagewatch writes carries.
    account_id: str = "000000000000"
    retention_sweep_seconds: float = 60.0
    compaction_seconds: float = 5.0
    jobs: JobSettings = field(default_factory=JobSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    # The base URL people and endpoints reach this server at: in SNS's SubscribeURL,
    # UnsubscribeURL, SigningCertURL and the links of emails. None: ``public_base_url``'s default.
    public_url: str | None = None

    @property
    def public_base_url(self) -> str:
        """``public_url`` without a trailing slash, or this server's own address when it is not
        set: http://<host>:<port>, over loopback when the server listens on every address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "sagewatch.db"

    @property
    def jobs_dir(self) -> Path:
        """Where each job's instances get their /opt/ml trees and agent state."""
        return self.jobs.work_dir if self.jobs.work_dir is not None else self.data_dir / "jobs"


# -- reading values ------------------------------------------------------------------------------

def _number(where: str, value, kind):
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    try:
        converted = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if converted < 0:
        raise ConfigError(f"{where}: must not be negative, got {value!r}")
    return converted


def _text(where: str, value) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def _gpus(where: str, value) -> list[int]:
    """A list of GPU indices, a count (GPUs 0..n-1), or "0,1" / "" from an environment variable."""
    if isinstance(value, str):
        value = [part for part in value.replace(" ", "").split(",") if part]
        return [_number(where, part, int) for part in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return list(range(_number(where, value, int)))
    if isinstance(value, list):
        return [_number(where, part, int) for part in value]
    raise ConfigError(f"{where}: expected a list of GPU indices or a count, got {value!r}")


def _unknown(where: str, table: Mapping, known) -> None:
    extra = sorted(set(table) - set(known))
    if extra:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(extra)}; "
                          f"known: {', '.join(sorted(known))}")


def _apply_capacity(capacity: CapacitySettings, table: Mapping, where: str) -> None:
    _unknown(where, table, ("cpus", "memory_gib", "gpus"))
    if "cpus" in table:
        capacity.cpus = _number(f"{where}.cpus", table["cpus"], int)
        if capacity.cpus < 1:
            raise ConfigError(f"{where}.cpus: at least 1")
    if "memory_gib" in table:
        capacity.memory_gib = _number(f"{where}.memory_gib", table["memory_gib"], float)
    if "gpus" in table:
        capacity.gpus = _gpus(f"{where}.gpus", table["gpus"])


def _instance_types(table, where: str) -> dict[str, dict]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table of instance types")
    rows = {}
    for name, row in table.items():
        here = f"{where}.{name}"
        if not isinstance(row, Mapping):
            raise ConfigError(f"{here}: expected a table with vcpus, memory_gib, gpus")
        _unknown(here, row, ("vcpus", "memory_gib", "gpus"))
        rows[name] = {"vcpus": _number(f"{here}.vcpus", row.get("vcpus", 1), int),
                      "memory_gib": _number(f"{here}.memory_gib", row.get("memory_gib", 0), float),
                      "gpus": _number(f"{here}.gpus", row.get("gpus", 0), int)}
    return rows


def _images(table, where: str) -> dict[str, list[str] | str]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table of image globs")
    mapping: dict[str, list[str] | str] = {}
    for pattern, target in table.items():
        if target == "host":
            mapping[pattern] = "host"
        elif isinstance(target, list) and target and all(isinstance(a, str) for a in target):
            mapping[pattern] = list(target)
        else:
            raise ConfigError(f'{where}."{pattern}": expected a command (a list of strings) or "host"')
    return mapping


def _apply_jobs(jobs: JobSettings, table: Mapping, where: str = "jobs") -> None:
    known = {f.name for f in fields(JobSettings)}
    _unknown(where, table, known)
    for key, value in table.items():
        here = f"{where}.{key}"
        if key == "runner":
            if value not in RUNNERS:
                raise ConfigError(f"{here}: one of {', '.join(RUNNERS)}, got {value!r}")
            jobs.runner = value
        elif key == "python":
            jobs.python = _text(here, value)
        elif key == "stop_grace_seconds":
            jobs.stop_grace_seconds = _number(here, value, float)
        elif key == "work_dir":
            jobs.work_dir = Path(_text(here, value))
        elif key == "private_opt_ml":
            text = str(value).lower()
            if text not in ("auto", "true", "false"):
                raise ConfigError(f"{here}: auto, true or false, got {value!r}")
            jobs.private_opt_ml = text
        elif key == "capacity":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{here}: expected a table")
            _apply_capacity(jobs.capacity, value, here)
        elif key == "instance_types":
            jobs.instance_types = _instance_types(value, here)
        elif key == "images":
            jobs.images = _images(value, here)
        elif key == "s3_endpoint_url":
            jobs.s3_endpoint_url = _text(here, value) or None
        elif key == "docker":
            jobs.docker = _text(here, value)


def _apply_smtp(smtp: SmtpSettings, table: Mapping, where: str = "smtp") -> None:
    known = {f.name for f in fields(SmtpSettings)}
    _unknown(where, table, known)
    for key, value in table.items():
        here = f"{where}.{key}"
        if key == "port":
            port = _number(here, value, int)
            if not 0 < port < 65536:
                raise ConfigError(f"{here}: a port from 1 to 65535, got {value!r}")
            smtp.port = port
        elif key == "security":
            text = _text(here, value).lower()
            if text not in SMTP_SECURITY:
                raise ConfigError(f"{here}: one of {', '.join(SMTP_SECURITY)}, got {value!r}")
            smtp.security = text
        elif key == "sender":
            if not _text(here, value).strip():
                raise ConfigError(f"{here}: an email address, got {value!r}")
            smtp.sender = value
        else:  # host, username, password, ca_file: text, empty meaning unset
            setattr(smtp, key, _text(here, value) or None)


def _public_url(where: str, value) -> str | None:
    text = _text(where, value).strip()
    if not text:
        return None
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: an http:// or https:// URL, got {value!r}")
    return text


_SERVER_CONVERTERS = {
    "public_url": _public_url,
    "host": _text, "region": _text, "account_id": _text,
    "port": lambda where, v: _number(where, v, int),
    "data_dir": lambda where, v: Path(_text(where, v)),
    "retention_sweep_seconds": lambda where, v: _number(where, v, float),
    "compaction_seconds": lambda where, v: _number(where, v, float),
}


def _apply(settings: Settings, table: Mapping, where: str) -> None:
    _unknown(where, table, [*_SERVER_CONVERTERS, "jobs", "smtp"])
    for key, value in table.items():
        if key == "jobs":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: jobs must be a table")
            _apply_jobs(settings.jobs, value)
        elif key == "smtp":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: smtp must be a table")
            _apply_smtp(settings.smtp, value)
        else:
            setattr(settings, key, _SERVER_CONVERTERS[key](f"{where}: {key}", value))


# Environment variables: SAGEWATCH_<FIELD> for server fields, SAGEWATCH_JOBS_<FIELD> for jobs,
# SAGEWATCH_SMTP_<FIELD> for the mail server (SAGEWATCH_SMTP_HOST, _PORT, _SECURITY, ...).
_JOB_VARIABLES = {
    "SAGEWATCH_JOBS_RUNNER": ("runner",), "SAGEWATCH_JOBS_PYTHON": ("python",),
    "SAGEWATCH_JOBS_STOP_GRACE_SECONDS": ("stop_grace_seconds",),
    "SAGEWATCH_JOBS_WORK_DIR": ("work_dir",), "SAGEWATCH_JOBS_PRIVATE_OPT_ML": ("private_opt_ml",),
    "SAGEWATCH_JOBS_S3_ENDPOINT_URL": ("s3_endpoint_url",), "SAGEWATCH_JOBS_DOCKER": ("docker",),
    "SAGEWATCH_JOBS_CPUS": ("capacity", "cpus"), "SAGEWATCH_JOBS_MEMORY_GIB": ("capacity", "memory_gib"),
    "SAGEWATCH_JOBS_GPUS": ("capacity", "gpus"),
}


def _from_environment(settings: Settings, environ: Mapping[str, str]) -> None:
    server = {key: environ[f"SAGEWATCH_{key.upper()}"] for key in _SERVER_CONVERTERS
              if f"SAGEWATCH_{key.upper()}" in environ}
    _apply(settings, server, "environment")
    jobs: dict = {}
    for variable, path in _JOB_VARIABLES.items():
        if variable in environ:
            if len(path) == 1:
                jobs[path[0]] = environ[variable]
            else:
                jobs.setdefault(path[0], {})[path[1]] = environ[variable]
    _apply_jobs(settings.jobs, jobs, "environment SAGEWATCH_JOBS_*")
    smtp = {key: environ[f"SAGEWATCH_SMTP_{key.upper()}"] for key in (f.name for f in fields(SmtpSettings))
            if f"SAGEWATCH_SMTP_{key.upper()}" in environ}
    _apply_smtp(settings.smtp, smtp, "environment SAGEWATCH_SMTP_*")


def read_config_file(path: Path) -> dict:
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration file ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None


def load_settings(config_file: Path | str | None = None, environ: Mapping[str, str] | None = None,
                  **overrides) -> Settings:
    """Defaults, then the file (``config_file`` or $SAGEWATCH_CONFIG), then SAGEWATCH_* variables,
    then ``overrides`` (the command line's explicit options: Settings fields, or ``jobs``)."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    path = config_file or environ.get("SAGEWATCH_CONFIG")
    if path:
        _apply(settings, read_config_file(Path(path)), str(path))
    _from_environment(settings, environ)
    for key, value in overrides.items():
        if not hasattr(settings, key):
            raise ConfigError(f"no setting named {key}")
        setattr(settings, key, value)
    return settings

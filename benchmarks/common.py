"""Shared benchmark machinery: the two servers, RSS sampling, the machine description, the results
table and the results files.

Every suite (``logs_bench.py``, later ``cloudwatch_bench.py``) builds a list of ``Row`` and hands
it to ``report()``; nothing here knows about any AWS service.
"""

from __future__ import annotations

import argparse

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"

# The server is started as ``python -m sagewatch``: make the checkout importable whether or not
# it is installed (``make bench`` installs it; a bare venv may not).
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p
)
from tests.server import CREDENTIALS, ServerProcess, free_port, make_client, wait_until_serving  # noqa: E402

os.environ.update(CREDENTIALS)


def log(message: str) -> None:
    """Progress goes to stderr so that stdout is only the table."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- servers -----------------------------------------------------------------------------------


class Sagewatch:
    """A sagewatch server on a free loopback port with its own temporary data directory."""

    name = "sagewatch"

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="sagewatch-bench-"))
        self.server = ServerProcess(self.tmp / "data")

    def __enter__(self) -> "Sagewatch":
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.server.data_dir.glob("*") if p.is_file())


class Moto:
    """moto's standalone server (``python -m moto.server``) on a free loopback port."""

    name = "moto"

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="moto-bench-"))
        self.log_path = self.tmp / "moto.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def __enter__(self) -> "Moto":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT,
        )
        wait_until_serving(self.process, f"{self.endpoint}/moto-api/data.json", "moto",
                           self.log_path, timeout=60)
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def boto3_client(service: str, endpoint: str):
    # moto can take minutes for one FilterLogEvents page over a million events.
    return make_client(service, endpoint, read_timeout=900, connect_timeout=10)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children."""
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


class RssSampler:
    """Samples a process's RSS every ``interval`` seconds in a thread; ``peak`` is the maximum."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic() - start, rss_bytes(self.pid)))
            except psutil.NoSuchProcess:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)


# -- machine -------------------------------------------------------------------------------------

_PACKAGES = (
    "sagewatch", "starlette", "uvicorn", "uvloop", "httptools", "orjson", "cbor2", "numpy",
    "typer", "botocore", "boto3", "moto", "werkzeug", "flask", "psutil",
)


def _cpu_model() -> str:
    """The model name, plus family/model/stepping, clock and whether it is a virtual machine."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if ":" in line:
                key, value = (part.strip() for part in line.split(":", 1))
                fields.setdefault(key, value)
    except OSError:
        return platform.processor() or "unknown"
    model = fields.get("model name", "unknown")
    extra = [f"family {fields['cpu family']} model {fields['model']} stepping {fields.get('stepping', '?')}"
             if "cpu family" in fields and "model" in fields else ""]
    if "cpu MHz" in fields:
        extra.append(f"{float(fields['cpu MHz']):.0f} MHz")
    if "hypervisor" in fields.get("flags", "").split():
        extra.append("virtual machine")
    extra = [e for e in extra if e]
    return f"{model} ({', '.join(extra)})" if extra else model


def _sagewatch_version() -> str:
    try:
        return importlib.metadata.version("sagewatch")
    except importlib.metadata.PackageNotFoundError:
        import tomllib

        version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
        return f"{version} (checkout, not installed)"


def _git_revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_description() -> dict:
    versions = {"sagewatch": _sagewatch_version()}
    for package in _PACKAGES[1:]:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    memory = psutil.virtual_memory().total
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gib": round(memory / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "git_revision": _git_revision(),
        "packages": versions,
    }


def describe_machine_markdown(machine: dict) -> str:
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    return (
        f"- CPU: {machine['cpu_model']}, {machine['logical_cores']} logical cores "
        f"({machine['physical_cores']} physical)\n"
        f"- RAM: {machine['ram_gib']} GiB; OS: {machine['os']}\n"
        f"- Python {machine['python']}, SQLite {machine['sqlite']}\n"
        f"- sagewatch checkout: {machine['git_revision']}\n"
        f"- Packages: {packages}\n"
    )


# -- results -------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table. ``sagewatch``/``moto`` are the raw numbers in ``unit``;
    ``higher_is_better`` decides the ratio's direction (ratio > 1 always means sagewatch wins)."""

    workload: str
    unit: str
    sagewatch: float | None
    moto: float | None = None
    higher_is_better: bool = True
    target: str = ""              # e.g. ">= 2x moto", ">= 200,000", "<= 300"
    target_kind: str = ""         # "ratio" | "min" | "max" | ""
    target_value: float | None = None
    comparable: bool = True       # False: moto answered something else (see note)
    note: str = ""
    moto_display: str = ""        # shown instead of moto's number when it has none ("never")

    @property
    def ratio(self) -> float | None:
        if self.sagewatch is None or self.moto is None or not self.sagewatch or not self.moto:
            return None
        return self.sagewatch / self.moto if self.higher_is_better else self.moto / self.sagewatch

    @property
    def met(self) -> bool | None:
        if self.target_kind == "ratio":
            if not self.comparable or self.ratio is None:
                return None
            return self.ratio >= self.target_value
        if self.target_kind == "min":
            return self.sagewatch is not None and self.sagewatch >= self.target_value
        if self.target_kind == "max":
            return self.sagewatch is not None and self.sagewatch <= self.target_value
        return None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}"


def table_lines(rows: list[Row]) -> list[str]:
    header = ("workload", "sagewatch", "moto", "ratio", "target", "met?")
    cells = []
    for row in rows:
        ratio = "-" if row.ratio is None else f"{row.ratio:,.1f}x"
        if row.ratio is not None and not row.comparable:
            ratio += " (*)"
        met = {True: "yes", False: "NO", None: "n/a" if row.target else ""}[row.met]
        cells.append((row.workload, _number(row.sagewatch, row.unit),
                      _number(row.moto, row.unit) if row.moto is not None else (row.moto_display or "-"),
                      ratio, row.target, met))
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(cell, widths)) + " |" for cell in cells]
    notes = [f"- {row.workload}: {row.note}" for row in rows if row.note]
    return [line, rule, *body, *([""] + notes if notes else [])]


def report(suite: str, rows: list[Row], parameters: dict, machine: dict, started: float,
           details: dict | None = None, save: bool = True) -> None:
    lines = table_lines(rows)
    print()
    print(f"## {suite}")
    print()
    print("\n".join(lines))
    print()
    if not save:
        return
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().astimezone()
    data = {
        "suite": suite,
        "date": stamp.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "machine": machine,
        "parameters": parameters,
        "rows": [row.as_dict() for row in rows],
        "details": details or {},
    }
    json_path = RESULTS_DIR / f"{stamp:%Y-%m-%d}-{suite}.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    markdown = (
        f"# {suite} benchmark, {stamp:%Y-%m-%d %H:%M %Z}\n\n"
        f"Produced by `python benchmarks/run.py {suite}` in {data['duration_s']:.0f} s; "
        f"raw numbers in `{json_path.name}`. What each row measures: `benchmarks/README.md`.\n\n"
        f"## Machine\n\n{describe_machine_markdown(machine)}\n"
        f"## Parameters\n\n"
        + "".join(f"- {k}: {v}\n" for k, v in parameters.items())
        + "\n## Results\n\n" + "\n".join(lines) + "\n"
    )
    (RESULTS_DIR / f"latest-{suite}.md").write_text(markdown)
    log(f"wrote {json_path.relative_to(ROOT)} and {(RESULTS_DIR / f'latest-{suite}.md').relative_to(ROOT)}")


def suite_arguments(description: str) -> argparse.ArgumentParser:
    """The options every standalone suite takes; a suite adds its own sizes."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (results not saved)")
    parser.add_argument("--no-save", action="store_true")
    return parser


def run_standalone(name: str, run, parser, argv: list[str] | None = None) -> int:
    """Run one suite as a script: measure, print and save its table; non-zero if it broke."""
    args = parser.parse_args(argv)
    started = time.monotonic()
    machine = machine_description()
    rows, info = run(vars(args))
    report(name, rows, info["parameters"], machine, started, details=info["details"],
           save=not (args.quick or args.no_save))
    return 1 if info["broken"] else 0

"""The state directory: what the agent tells whoever watches it (the job controller).

- ``agent.json``, written once the command has started:
  ``{"agent_pid", "child_pid", "child_pgid", "started"}`` (``started``: epoch seconds).
- ``exit.json``, written only after every captured line was delivered, so its presence means
  "this instance finished and all its output is readable":
  ``{"exit_code": int|None, "signal": int|None, "ended": float}`` (``ended``: when the command
  exited, epoch seconds), plus ``"error"`` when the command could not be started at all, and
  ``"delivery"``, the agent's counts (events, requests, retries, ...), for diagnosis.
- ``spool/``: log events waiting for the server (spool.py).

Both files are written to a temporary name, flushed to disk and renamed, so a reader sees a
whole file or none.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

AGENT_FILE = "agent.json"
EXIT_FILE = "exit.json"
SPOOL_DIR = "spool"


class StateDir:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    @property
    def spool(self) -> Path:
        return self.path / SPOOL_DIR

    def write_agent(self, agent_pid: int, child_pid: int, child_pgid: int, started: float) -> None:
        self._write(AGENT_FILE, {"agent_pid": agent_pid, "child_pid": child_pid,
                                 "child_pgid": child_pgid, "started": started})

    def write_exit(self, exit_code: int | None, signal: int | None, ended: float, **more) -> None:
        self._write(EXIT_FILE, {"exit_code": exit_code, "signal": signal, "ended": ended, **more})

    def _write(self, name: str, content: dict) -> None:
        target = self.path / name
        temporary = self.path / f".{name}.{os.getpid()}.tmp"
        with open(temporary, "wb") as file:
            file.write(orjson.dumps(content))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)

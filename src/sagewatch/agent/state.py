"""The state directory: what the agent tells whoever watches it (the job controller).

- ``agent.json``, written once the command has started:
  ``{"agent_pid", "child_pid", "child_pgid", "started"}`` (``started``: epoch seconds).
- ``exit.json``, written only after every captured line was delivered, so its presence means
  "this instance finished and all its output is readable":
  ``{"exit_code": int|None, "signal": int|None, "ended": float}`` (``ended``: when the command
  exited, epoch seconds), plus ``"error"`` when the command could not be started at all, and
  ``"delivery"``, the agent's counts (events, requests, retries, ...), for diagnosis.
- ``spool/``: log events waiting for the server (spool.py).

Only ``os`` and ``json`` here: this module is imported before the command starts.
Both files are written to a temporary name, flushed to disk and renamed, so a reader sees a
whole file or none.
"""

from __future__ import annotations

import json
import os

AGENT_FILE = "agent.json"
EXIT_FILE = "exit.json"
SPOOL_DIR = "spool"


class StateDir:
    def __init__(self, path: str) -> None:
        self.path = str(path)
        os.makedirs(self.path, exist_ok=True)

    @property
    def spool(self) -> str:
        return os.path.join(self.path, SPOOL_DIR)

    def forget_exit(self) -> None:
        """An earlier run's exit.json is not this run's answer."""
        try:
            os.unlink(os.path.join(self.path, EXIT_FILE))
        except FileNotFoundError:
            pass

    def write_agent(self, agent_pid: int, child_pid: int, child_pgid: int, started: float) -> None:
        self._write(AGENT_FILE, {"agent_pid": agent_pid, "child_pid": child_pid,
                                 "child_pgid": child_pgid, "started": started})

    def write_exit(self, exit_code: int | None, signal: int | None, ended: float, **more) -> None:
        self._write(EXIT_FILE, {"exit_code": exit_code, "signal": signal, "ended": ended, **more})

    def _write(self, name: str, content: dict) -> None:
        target = os.path.join(self.path, name)
        temporary = os.path.join(self.path, f".{name}.{os.getpid()}.tmp")
        with open(temporary, "w") as file:
            json.dump(content, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)

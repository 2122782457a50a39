"""The reader: drains the command's output pipe into the line assembler, cheaply.

A command that prints and flushes line by line would wake a naive reader once per line (10,000
wake-ups a second at 10,000 lines/s, several percent of a core in Python alone; at 100 reads a
second the reader alone still took 1.4 % of a core, measured). This reader
sleeps ``COALESCE_SECONDS`` after each read that did not fill its buffer, so the pipe (enlarged
to 1 MiB, process.py) collects what the command prints meanwhile and one read takes it all: at most
about fifty reads a second whatever the rate, for at most 20 ms of added delay. The command
never waits for this: it blocks only when the pipe is full, which at 1 MiB per 20 ms is
50 MB/s.

After the command has exited (``command_exited``), the pipe is read until end of file: every
byte the command wrote before dying is still in it. A descendant that escaped the process group
(setsid) and kept the pipe open would keep it from ending, so the reader also stops once the
pipe has been idle for ``IDLE_AFTER_EXIT_SECONDS`` after the exit; whatever the command itself
wrote was readable at once by then.
"""

from __future__ import annotations

import os
import select
import threading
import time
import traceback

from .capture import LineAssembler

READ_BYTES = 1024 * 1024
COALESCE_SECONDS = 0.02
IDLE_AFTER_EXIT_SECONDS = 1.0


class Reader(threading.Thread):
    def __init__(self, fd: int, assembler: LineAssembler) -> None:
        super().__init__(name="sagewatch-agent-reader", daemon=True)
        self.fd = fd
        self.assembler = assembler
        self.exited_at: float | None = None   # monotonic time the command exited
        self.bytes_read = 0
        self.error: str | None = None         # a bug of the agent's, for exit.json

    def command_exited(self) -> None:
        self.exited_at = time.monotonic()

    def run(self) -> None:
        assembler = self.assembler
        poller = select.poll()
        poller.register(self.fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        last_data = time.monotonic()
        try:
            while True:
                progress_due = assembler.tick(time.time())
                timeout = None
                if progress_due is not None:
                    timeout = max(0.0, progress_due - time.time())
                if self.exited_at is not None:
                    idle_left = max(self.exited_at, last_data) + IDLE_AFTER_EXIT_SECONDS - time.monotonic()
                    if idle_left <= 0:
                        break
                    timeout = idle_left if timeout is None else min(timeout, idle_left)
                elif timeout is None or timeout > 0.2:
                    # Wake now and then to notice the command's exit (command_exited).
                    timeout = 0.2
                if not poller.poll(timeout * 1000):
                    continue
                data = os.read(self.fd, READ_BYTES)
                if not data:
                    break
                self.bytes_read += len(data)
                last_data = time.monotonic()
                assembler.feed(data, time.time())
                if len(data) < READ_BYTES:
                    time.sleep(COALESCE_SECONDS)
            assembler.finish(time.time())
        except Exception as error:  # noqa: BLE001 - a bug here must show, not pass for success
            self.error = f"{type(error).__name__}: {error}"
            traceback.print_exc()
        finally:
            os.close(self.fd)

"""The command: started in its own process group, stopped the way SageMaker stops a container.

- The command gets stdin from /dev/null (a SageMaker container has no input stream), stdout
  and stderr on one pipe (capture.py), the agent's environment and working directory, and its
  own process group, so that one signal reaches it and all its descendants.
- ``PYTHONUNBUFFERED=1`` is added to the environment unless it is already set: through a pipe,
  Python buffers stdout in 8 KB blocks and a line could wait minutes to be seen. SageMaker's
  own container examples set it for that reason ("PYTHONUNBUFFERED keeps Python from buffering
  our standard output stream, which means that logs can be delivered to the user quickly",
  amazon-sagemaker-examples ``scikit_bring_your_own/container/Dockerfile``).
- Stop (``stop``): SIGTERM to the group, SIGKILL to the group ``grace`` seconds later if the
  command is still running (aws-behaviour.md §4.3 and §0 item 5: SIGTERM, SIGKILL after 120 s).
- When the command exits, whatever is left of its group is killed (SIGKILL): a container's
  processes all end with its main process, since the kernel kills every process of a PID
  namespace when its init exits (pid_namespaces(7)). The command is observed exiting without
  being reaped (``waitid(WNOWAIT)``), so its process-group id cannot be reused by another
  process before that signal is sent.
"""

from __future__ import annotations

import os
import signal
import threading
import time

PIPE_BYTES = 1024 * 1024


class ExitStatus:
    """How the command ended. (Not a dataclass: importing dataclasses delays the command.)"""

    def __init__(self, exit_code: int | None, signal: int | None, ended: float) -> None:
        self.exit_code = exit_code     # None when a signal ended it
        self.signal = signal
        self.ended = ended             # epoch seconds

    @property
    def agent_exit_code(self) -> int:
        """The agent's own exit status mirrors the command's, as a shell reports it."""
        return self.exit_code if self.signal is None else 128 + self.signal


class Command:
    def __init__(self, argv: list[str], stop_grace: float) -> None:
        self.argv = argv
        self.stop_grace = stop_grace
        self.pid: int | None = None
        self.started: float | None = None
        self.exited = threading.Event()
        self._kill_timer: threading.Timer | None = None
        # Reentrant: the SIGTERM handler (stop) runs on the main thread, maybe inside wait().
        self._lock = threading.RLock()

    def start(self) -> int:
        """Start the command; the read end of its output pipe. OSError if it cannot run.

        posix_spawn (vfork and exec in the C library), not subprocess: importing subprocess
        alone costs several milliseconds of the command's start. The descriptors Python opens
        are not inheritable (PEP 446), so the command gets exactly the three it is given."""
        read_fd, write_fd = os.pipe()
        enlarge_pipe(write_fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        try:
            self.pid = os.posix_spawnp(self.argv[0], self.argv, env, setpgroup=0, file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, write_fd, 1),
                (os.POSIX_SPAWN_DUP2, write_fd, 2),
            ])
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
            os.close(devnull)
        self.started = time.time()
        return read_fd

    def stop(self) -> None:
        """SIGTERM to the group now, SIGKILL after the grace period (once, however often asked)."""
        with self._lock:
            if self.pid is None or self.exited.is_set():
                return
            self._signal_group(signal.SIGTERM)
            if self._kill_timer is None:
                self._kill_timer = threading.Timer(self.stop_grace, self._kill_if_running)
                self._kill_timer.daemon = True
                self._kill_timer.start()

    def wait(self) -> ExitStatus:
        """Block until the command exits; then kill what is left of its group and reap it."""
        os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        ended = time.time()
        with self._lock:
            self.exited.set()
            if self._kill_timer is not None:
                self._kill_timer.cancel()
            self._signal_group(signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        if os.WIFSIGNALED(status):
            return ExitStatus(None, os.WTERMSIG(status), ended)
        return ExitStatus(os.WEXITSTATUS(status), None, ended)

    def _kill_if_running(self) -> None:
        with self._lock:
            if not self.exited.is_set():
                self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass


def enlarge_pipe(fd: int, size: int = PIPE_BYTES) -> None:
    """Ask for a larger pipe buffer (Linux; up to /proc/sys/fs/pipe-max-size, 1 MiB by default,
    for an unprivileged process), so that a burst waits in the pipe rather than in the command;
    the default 64 KiB works too, only with more wake-ups of the reader."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (AttributeError, OSError):  # not Linux (no F_SETPIPE_SZ), or above pipe-max-size
        pass

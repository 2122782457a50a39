"""``python -m sagewatch.agent [options] -- <command ...>``: see the package docstring.

Order matters for a fast start: the command is started before anything slow is imported
(http.client, psutil). The agent then runs until the command has exited and everything it
printed has been delivered, writes exit.json, and exits with the command's status.

Signals: SIGTERM stops the command (SIGTERM to its process group, SIGKILL after --stop-grace),
never the delivery. An agent whose command has ended but whose server is unreachable keeps its
undelivered lines (in memory, then spooled under --state-dir) and retries until the server is
back — that is how a job survives a server restart. To give those lines up, SIGKILL the agent.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

from .process import Command
from .state import StateDir

DEFAULT_STOP_GRACE_SECONDS = 120.0  # SIGKILL 120 s after SIGTERM (aws-behaviour.md §4.3)


def parse_args(argv: list[str]) -> argparse.Namespace:
    if "--" not in argv:
        raise SystemExit("usage: python -m sagewatch.agent [options] -- <command ...>")
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(prog="python -m sagewatch.agent",
                                     description="Run a command; ship its output and resource use.")
    parser.add_argument("--endpoint", required=True, help="the sagewatch server URL")
    parser.add_argument("--region", required=True)
    parser.add_argument("--log-group", required=True)
    parser.add_argument("--log-stream", required=True)
    parser.add_argument("--metric-namespace", required=True)
    parser.add_argument("--host", required=True, help="the Host dimension of the metrics")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--stop-grace", type=float, default=DEFAULT_STOP_GRACE_SECONDS,
                        help="seconds between SIGTERM and SIGKILL when stopped (default 120)")
    parser.add_argument("--gpus", default="", help="NVML indices of the instance's GPUs: 0,1")
    parser.add_argument("--disk-path", default=None,
                        help="a directory on the file system DiskUtilization measures (default: cwd)")
    parser.add_argument("--sample-pid", type=int, default=None,
                        help="sample CPU and memory of this process's tree instead of the command's "
                             "(a container's main process, whose output the command only relays)")
    args = parser.parse_args(options)
    if not command:
        parser.error("no command after --")
    args.command = command
    try:
        args.gpus = [int(i) for i in args.gpus.split(",") if i.strip()]
    except ValueError:
        parser.error(f"--gpus: not a list of indices: {args.gpus!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    state = StateDir(args.state_dir)
    state.forget_exit()

    command = Command(args.command, args.stop_grace)
    stop_asked = threading.Event()

    def on_stop_signal(signum, frame):
        stop_asked.set()
        command.stop()

    signal.signal(signal.SIGTERM, on_stop_signal)
    signal.signal(signal.SIGINT, on_stop_signal)
    try:
        read_fd = command.start()
    except OSError as error:
        # Not found (127) or not executable (126), as a shell reports it. No output, so no
        # stream: on SageMaker too, a container that never started has no logs (§1).
        code = 126 if isinstance(error, PermissionError) else 127
        print(f"sagewatch-agent: cannot run {args.command[0]!r}: {error}", file=sys.stderr, flush=True)
        state.write_exit(code, None, time.time(), error=f"{type(error).__name__}: {error}")
        return code
    if stop_asked.is_set():  # asked before the command existed
        command.stop()
    state.write_agent(os.getpid(), command.pid, command.pid, command.started)

    # Only now what takes time to import.
    from .capture import LineAssembler
    from .delivery import Delivery
    from .reader import Reader
    from .spool import Outbox
    from .telemetry import MetricSamples, Telemetry
    from .wire import Client

    wake = threading.Event()
    outbox = Outbox(state.spool, wake)
    reader = Reader(read_fd, LineAssembler(outbox.put))
    reader.start()
    metrics = MetricSamples(wake)
    delivery = Delivery(
        Client(args.endpoint, args.region), outbox, metrics,
        log_group=args.log_group, log_stream=args.log_stream,
        metric_namespace=args.metric_namespace, metric_host=args.host, wake=wake,
    )
    delivery.start()
    telemetry = Telemetry(args.sample_pid or command.pid, metrics, args.disk_path or os.getcwd(),
                          args.gpus, root_is_child=args.sample_pid is None)
    telemetry.start()

    status = command.wait()
    telemetry.stop()
    reader.command_exited()
    reader.join()
    outbox.close()
    telemetry.join()
    metrics.close()
    delivery.join()
    problems = {"agent_error": reader.error} if reader.error else {}
    state.write_exit(status.exit_code, status.signal, status.ended, **problems,
                     delivery={**delivery.stats, "lines": reader.assembler.lines,
                               "bytes_read": reader.bytes_read, "spilled_runs": outbox.spilled_runs,
                               "samples_dropped": metrics.dropped})
    return status.agent_exit_code


if __name__ == "__main__":
    sys.exit(main())

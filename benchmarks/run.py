"""Run the sagewatch benchmarks side by side with moto's server.

    python benchmarks/run.py [logs|cloudwatch|jobs|agent|events|notify|sns_fanout|all] [--quick] [--no-moto]
                             [--no-save] [...]

Each suite is a module ``benchmarks/<suite>_bench.py`` with ``NAME`` and
``run(options) -> (rows, info)``; a suite whose module does not exist yet is skipped by ``all``.
Prints one table per suite and writes ``benchmarks/results/<date>-<suite>.json`` and
``benchmarks/results/latest-<suite>.md``. These are benchmarks, not tests: nothing fails on a
missed target (the table says ``NO``); the exit status is non-zero only if a workload broke
(a wrong match count, a rejected request, a server that did not start).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import log, machine_description, report  # noqa: E402

SUITES = ("logs", "cloudwatch", "jobs", "agent", "events", "notify", "sns_fanout")


def _available(suite: str) -> bool:
    return importlib.util.find_spec(f"{suite}_bench") is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", nargs="?", default="all", choices=(*SUITES, "all"))
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, to check that the benchmark itself works (results not saved)")
    parser.add_argument("--no-moto", action="store_true", help="sagewatch only")
    parser.add_argument("--no-save", action="store_true", help="print the table, write no files")
    parser.add_argument("--events", type=int, help="events in the boto3 workloads (default 1,000,000)")
    parser.add_argument("--streams", type=int, help="streams the boto3 events are spread over (default 4)")
    parser.add_argument("--raw-events", type=int, help="events in the raw ingest (default 5,000,000)")
    parser.add_argument("--sagewatch-repeats", type=int, help="FilterLogEvents runs on sagewatch (median)")
    parser.add_argument("--moto-repeats", type=int, help="FilterLogEvents runs on moto (median)")
    parser.add_argument("--moto-filter-budget-s", type=float,
                        help="stop paging one moto FilterLogEvents after this many seconds")
    cloudwatch = parser.add_argument_group("cloudwatch suite")
    cloudwatch.add_argument("--put-scale", type=float,
                            help="multiply every PutMetricData request count (default 1.0)")
    cloudwatch.add_argument("--moto-put-budget-s", type=float,
                            help="stop sending one PutMetricData cell to moto after this many seconds")
    cloudwatch.add_argument("--datapoints", type=int,
                            help="datapoints of the GetMetricData metric (default 1,000,000)")
    cloudwatch.add_argument("--put-repeats", type=int,
                            help="runs of each PutMetricData cell on sagewatch (median; default 3)")
    cloudwatch.add_argument("--gmd-repeats", type=int, help="GetMetricData runs on sagewatch (median)")
    cloudwatch.add_argument("--moto-gmd-budget-s", type=float,
                            help="longest wait for one moto GetMetricData")
    cloudwatch.add_argument("--alarms", type=int, help="alarms in the alarm-latency workload (default 100)")
    events = parser.add_argument_group("events, notify and sns_fanout suites")
    events.add_argument("--rules", type=int, help="events: rules on the bus (default 1,000)")
    events.add_argument("--moto-events", type=int, help="events: events sent to moto (default 1,000)")
    events.add_argument("--samples", type=int, help="notify: breaching puts measured (default 100)")
    events.add_argument("--subscribers", type=int, help="sns_fanout: http subscribers (default 100)")
    events.add_argument("--publishes", type=int, help="sns_fanout: measured publishes on sagewatch (default 100)")
    args = parser.parse_args(argv)

    if args.suite == "all":
        suites = [s for s in SUITES if _available(s)]
        skipped = [s for s in SUITES if s not in suites]
        if skipped:
            log(f"not written yet, skipped: {', '.join(skipped)}")
    elif not _available(args.suite):
        parser.error(f"the {args.suite} suite is not written yet (benchmarks/{args.suite}_bench.py)")
    else:
        suites = [args.suite]

    options = {k: v for k, v in vars(args).items() if k != "suite"}
    machine = machine_description()
    log(f"{machine['cpu_model']}, {machine['logical_cores']} cores, {machine['ram_gib']} GiB, "
        f"Python {machine['python']}")
    broken = False
    for suite in suites:
        module = importlib.import_module(f"{suite}_bench")
        started = time.monotonic()
        rows, info = module.run(options)
        parameters = dict(info["parameters"])
        if args.quick:
            parameters["mode"] = "--quick (small sizes; not a result)"
        if args.no_moto:
            parameters["moto"] = "not run (--no-moto)"
        report(module.NAME, rows, parameters, machine, started, details=info.get("details"),
               save=not (args.no_save or args.quick))
        # A suite whose workload broke (lines lost, a wrong count) says so in ``info``, after its
        # table was printed and saved.
        broken = broken or bool(info.get("broken"))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

"""Crash safety at scale, bounded: a few cycles of the kill -9 soak (benchmarks/soak_crash.py).

Each cycle runs concurrent PutLogEvents, PutMetricData and resource writers (log groups, streams,
tags, alarms) against a real server, kills it with SIGKILL 0.2-0.5 s after they start, restarts it
on the same data and checks every request by its fate: acknowledged ones are wholly visible,
ones in flight at the kill wholly visible or wholly absent, ones never sent absent. The last
cycle reads back everything written since the start. The long soak is the same code:

    python benchmarks/soak_crash.py --cycles 200
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SOAK_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "soak_crash.py"


def load_soak():
    spec = importlib.util.spec_from_file_location("soak_crash", SOAK_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_kill_9_cycles_lose_nothing_and_half_write_nothing(tmp_path):
    soak = load_soak()
    # Kills no sooner than 0.2 s in, so that the writers are busy: with 8 of them, a cycle in
    # which none is mid-request at the kill is rare, and 4 such cycles in a row rarer still.
    settings = soak.Settings(cycles=4, seconds_per_cycle=0.5, min_kill_delay=0.2, long_cycle_every=0,
                             full_check_every=4, seed=20240610)
    lines: list[str] = []
    runner = soak.Soak(tmp_path / "data", settings, out=lines.append)
    figures = runner.run()

    report = soak.summary(figures) + "\n" + "\n".join(lines)
    assert figures.problems == [], report
    for counter in soak.Figures.FAILURES:
        assert getattr(figures, counter) == 0, report
    assert figures.cycles == settings.cycles
    # The workload really ran, and every kill cut requests off: each writer ends each cycle
    # with exactly one request that got no answer.
    assert figures.events_acknowledged > 0 and figures.datums_acknowledged > 0, report
    assert figures.in_flight + figures.never_sent == settings.cycles * len(runner.writers), report
    assert figures.in_flight > 0, report

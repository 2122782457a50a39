"""The model-driven fuzzer: whatever a client sends, sagewatch answers as AWS would, never with a
server error.

Every operation of every service, on every protocol its model lists (tests/fuzz/generate.py),
gets valid, boundary, invalid and mangled requests over raw HTTP, and every answer is judged by
tests/fuzz/oracle.py: below 500 except the documented 501 NotImplemented, an error body an SDK
can read, no hang, no dropped connection, no traceback in the server's log. At the end the
server must still answer and hold no more memory than its caches account for.

It runs against a server of its own, so that the thousands of groups, alarms, metrics and jobs
it makes never meet another test's listings. What valid requests find on it (tests/fuzz/seeds.py)
includes SageMaker jobs; the jobs the fuzz makes itself fail before they start (no image maps),
and ``test_every_job_ends`` stops whatever runs, so that no job's agent outlives the run. ``make test`` sends about 3,000 requests, the same
ones each run (Hypothesis derandomized), and shrinks a failure to a small request.
``SAGEWATCH_FUZZ_REQUESTS=200000`` is a long run: the random requests scale with the number
(the full sweeps add a few thousand, whatever it is), are drawn afresh each run, and the run
goes on past failures to report every distinct one (``SAGEWATCH_FUZZ_SEED=<n>`` replays one).
A summary line is printed at the end of the module, and the counts go to the run's figures.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from .. import figures
from ..fuzz.generate import (
    FRAMINGS,
    PROTOCOL_IDS,
    FuzzRequest,
    RequestStrategies,
    Target,
    protocols_of,
    service_model,
    sweep,
    targets,
    wire,
)
from ..fuzz.oracle import (
    Answer,
    Connection,
    ServerWatch,
    Tally,
    Unanswered,
    all_models_listed,
    problems,
    unsupported_operations,
)
from ..fuzz.seeds import JOBS_END_WITHIN_S, Seeds
from ..server import ServerProcess

SERVICES = ("logs", "cloudwatch", "sagemaker", "sts", "sns", "events")
REQUESTS = int(os.environ.get("SAGEWATCH_FUZZ_REQUESTS", "3000"))
LONG_RUN = "SAGEWATCH_FUZZ_REQUESTS" in os.environ
SEED = os.environ.get("SAGEWATCH_FUZZ_SEED")

UNSUPPORTED = unsupported_operations(Path(__file__).resolve().parents[2] / "docs" / "compatibility.md")
SUPPORTED_TARGETS = [t for t in targets(SERVICES) if t.operation not in UNSUPPORTED[t.service]]
UNSUPPORTED_GROUPS = [(s, p) for s in SERVICES for p in protocols_of(service_model(s)) if UNSUPPORTED[s]]
# Each implemented operation first sweeps a hostile value through every member of the requests
# of the corpus AWS accepts (generate.sweep; in `make test` 20 of those requests per corpus
# request, spread over its members), then gets requests drawn at random: half the run's
# requests in all. A tenth check that the other operations answer 501 whatever they are sent.
# A long run also sweeps two requests drawn at random that the server accepted.
EXAMPLES_PER_OPERATION = max(5, REQUESTS // 2 // len(SUPPORTED_TARGETS))
EXAMPLES_PER_UNSUPPORTED_GROUP = max(5, REQUESTS // 10 // len(UNSUPPORTED_GROUPS))
SWEEP_LIMIT = None if LONG_RUN else 20
EXTRA_SWEPT_REQUESTS = 2 if LONG_RUN else 0

# Memory: how much more the server may hold at the end than once a quarter of the run is done
# (every operation's checks compiled by then), as resident anonymous memory (RssAnon: SQLite
# reads pages through mmap, file pages that do not count). What may fill up meanwhile: the
# decoded-log-block cache, at most 48 MiB (store/sqlite/logs.py); the rest is allocator slack
# and the pages SQLite writes, allowed as much again. Measured: 4 to 14 MiB over 3,000 requests,
# 13 MiB over 30,000. So a leak shows from about 40 KB a request in `make test`, and from 0.5 KB
# in a run of 200,000.
MEMORY_GROWTH_BOUND_KIB = 96 * 1024


# -- the campaign ------------------------------------------------------------------------------


class Campaign:
    """The fuzz server, one connection to it, what exists on it, the strategies and the tally."""

    def __init__(self, server: ServerProcess, failures_dir: Path, work_dir: Path) -> None:
        self.failures_dir = failures_dir  # each distinct failure's request, as raw HTTP
        self.watch = ServerWatch(server.process.pid, server.log_path)
        self.connection = Connection("127.0.0.1", server.port)
        self.seeds = Seeds(server, SERVICES, work_dir)
        self.corpus = self.seeds.corpus()
        self.tally = Tally()
        self._strategies: dict[tuple[str, str], RequestStrategies] = {}
        self._requests: dict[Target, st.SearchStrategy] = {}
        # Memory once a quarter of the run is done: every operation's checks compiled, caches warm.
        self.baseline_after = REQUESTS // 4
        self.baseline_kib: int | None = None
        self.memory_note = ""  # set by the last test

    def requests(self, target: Target) -> st.SearchStrategy[FuzzRequest]:
        if target not in self._requests:
            key = (target.service, target.protocol)
            if key not in self._strategies:
                self._strategies[key] = RequestStrategies(target.service, target.protocol,
                                                          self.seeds.known[target.service],
                                                          self.corpus[target.service])
            self._requests[target] = self._strategies[key].for_operation(target.operation)
        return self._requests[target]

    def check(self, request: FuzzRequest) -> Answer | None:
        """Send one request and judge the answer: a failure raises AssertionError in the bounded
        run and is noted in the long one (None: no answer came)."""
        target = request.target
        try:
            answer = self.connection.send(request)
        except Unanswered as unanswered:
            self.tally.record(target, None)
            found = [str(unanswered)] + ([] if self.watch.alive() else ["the server died"])
            self._fail(request, found, self.watch.new_log())
            return None
        self.tally.record(target, answer.status)
        if self.baseline_kib is None and self.tally.sent >= self.baseline_after:
            self.baseline_kib = self.watch.anonymous_kib()
        found = problems(request, answer, UNSUPPORTED[target.service])
        log = self.watch.new_log()
        if "Traceback" in log:
            found.append("the server logged a traceback")
        if found:
            self._fail(request, found, log, answer)
        return answer

    def distinct_failures_since(self, mark: int) -> str:
        """The reports of every distinct failure found since the tally had ``mark`` of them ("":
        none). A long run goes on past failures and fails the test at its end, with all of them."""
        return "\n\n".join(list(self.tally.failures.values())[mark:])

    def _fail(self, request: FuzzRequest, found: list[str], log: str, answer: Answer | None = None) -> None:
        where = ServerWatch.last_failure(log) or "no traceback"
        detail = f"\n  answer: {answer.status} {answer.body[:400]!r}" if answer is not None else ""
        report = f"{'; '.join(found)}\n  server: {where}\n{request.describe()}{detail}"
        key = f"{request.target.service}/{PROTOCOL_IDS[request.target.protocol]}: {'; '.join(found)} | {where}"
        if self.tally.failure(key, report):
            saved = self.failures_dir / f"{len(self.tally.failures):03d}-{request.target.id}.http"
            saved.write_bytes(request.raw())
            report += f"\n  request saved as {saved}"
            self.tally.failures[key] = report
        if not LONG_RUN:
            raise AssertionError(report)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, pytestconfig):
    all_models_listed(UNSUPPORTED, SERVICES)
    server = ServerProcess(tmp_path_factory.mktemp("fuzz") / "data").start()
    run = Campaign(server, tmp_path_factory.mktemp("fuzz-failures"), tmp_path_factory.mktemp("fuzz-seeds"))
    try:
        yield run
    finally:
        # Jobs' agents outlive their server: none may be left running (test_every_job_ends
        # checks that they end; this is for a run that failed before it).
        run.seeds.close()
        run.connection.close()
        server.stop()
    for (service, protocol, group), count in run.tally.statuses.items():
        figures.record(f"fuzz {service}/{PROTOCOL_IDS[protocol]}: requests", count)
        if group != "2xx":
            figures.record(f"fuzz {service}/{PROTOCOL_IDS[protocol]}: {group}", count)
    figures.record("fuzz: distinct failures", len(run.tally.failures))
    # Printed past pytest's capture, so that every run shows it.
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + run.tally.summary() + (f"; {run.memory_note}" if run.memory_note else ""))
        for key in run.tally.failures:
            print(f"  {key}")
        if run.tally.failures:
            print(f"  (their requests, as raw HTTP: {run.failures_dir})")


def _fuzz(campaign: Campaign, strategy: st.SearchStrategy, examples: int, also=None) -> None:
    """Send ``examples`` requests drawn from ``strategy`` through the oracle, and each answer
    through ``also(request, answer)`` if given."""

    @settings(max_examples=examples, deadline=None, database=None, derandomize=not LONG_RUN and SEED is None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(strategy)
    def fuzz(request):
        answer = campaign.check(request)
        if also is not None and answer is not None:
            also(request, answer)

    if SEED is not None:
        fuzz = seed(int(SEED))(fuzz)
    fuzz()




# -- the fuzz ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", SUPPORTED_TARGETS, ids=lambda t: t.id)
def test_supported_operation_answers_every_request(campaign, target):
    mark = len(campaign.tally.failures)
    sound = campaign.corpus[target.service].get(target.operation, [])
    for tree in sound:  # what AWS accepts, the server accepts
        campaign.seeds.restore(target.service)
        base = wire(target, tree, FRAMINGS[target.protocol][0])
        answer = campaign.check(replace(base, mode="corpus"))
        assert answer is None or answer.status == 200, f"a request AWS accepts was refused: {base.describe()}"
        _sweep(campaign, target, tree)
    campaign.seeds.restore(target.service)
    accepted = []

    def keep_accepted(request, answer):
        if request.mode in ("valid", "boundary") and answer.status == 200:
            accepted.append(request.tree)

    _fuzz(campaign, campaign.requests(target), EXAMPLES_PER_OPERATION, also=keep_accepted)
    # Requests drawn at random that the server accepted: further bases for a long run's sweep.
    for tree in accepted[:EXTRA_SWEPT_REQUESTS]:
        _sweep(campaign, target, tree)
    found = campaign.distinct_failures_since(mark)
    assert not found, found


def _sweep(campaign: Campaign, target: Target, tree: dict) -> None:
    swept = sweep(target, tree)
    if SWEEP_LIMIT is not None and len(swept) > SWEEP_LIMIT:
        swept = swept[::math.ceil(len(swept) / SWEEP_LIMIT)]  # spread over the members
    for request in swept:
        campaign.check(request)


@pytest.mark.parametrize("service, protocol", UNSUPPORTED_GROUPS, ids=lambda v: v)
def test_unsupported_operations_answer_501_not_implemented(campaign, service, protocol):
    mark = len(campaign.tally.failures)
    operations = sorted(UNSUPPORTED[service])
    strategy = st.sampled_from(operations).flatmap(lambda op: campaign.requests(Target(service, protocol, op)))

    def reached_operation_is_not_implemented(request, answer):
        # The operation is named by a header or the path (JSON, CBOR) or the form (query): a
        # request with its framing intact reaches it, whatever its body, and is told it is not
        # implemented before anything reads the body.
        if request.mode != "mangled":
            assert answer.status == 501, request.describe()

    _fuzz(campaign, strategy, EXAMPLES_PER_UNSUPPORTED_GROUP, also=reached_operation_is_not_implemented)
    found = campaign.distinct_failures_since(mark)
    assert not found, found


def test_every_job_ends(campaign):
    """The fuzz's SageMaker jobs end: those it made with valid requests of its own failed at
    once (no image maps), and a stop ends the rest (the seeds' sleeping jobs, and any other a
    request got running), none left behind for its agent to outlive the server."""
    left = campaign.seeds.close().get("sagemaker")
    assert not left, f"jobs still running {JOBS_END_WITHIN_S} s after a stop: {left}"
    assert not campaign.watch.new_log().count("Traceback")


def test_server_still_answers_and_memory_is_flat(campaign):
    """Last in the module: after every request above, the server runs, answers, and holds no
    more memory than its bounded caches explain."""
    assert campaign.watch.alive()
    health = FuzzRequest(SUPPORTED_TARGETS[0], "health", "GET", "/_sagewatch/health", {}, b"")
    assert campaign.connection.send(health).status == 200
    now_kib = campaign.watch.anonymous_kib()
    baseline = campaign.baseline_kib if campaign.baseline_kib is not None else now_kib
    campaign.memory_note = (f"server RssAnon {baseline // 1024} MiB after {campaign.baseline_after} requests, "
                            f"{now_kib // 1024} MiB after {campaign.tally.sent}")
    assert now_kib - baseline <= MEMORY_GROWTH_BOUND_KIB, campaign.memory_note

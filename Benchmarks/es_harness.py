"""What the `eventsourcing` library's performance cases need from a benchmark script:
a test case class around a recorder factory, the rate a case prints, and the medians of
both cases over several runs. Shared by es_cases.py and postgres_cases.py.
"""

import contextlib
import io
import re
import statistics
from typing import Any, Callable

from eventsourcing.tests import persistence as cases


def case_for(make: Callable[[], Any]) -> type:
    class Case(cases.ApplicationRecorderTestCase):  # type: ignore[misc]
        def create_recorder(self) -> Any:
            return make()

    return Case


def rate(case: type, method: str, pattern: str) -> float:
    out = io.StringIO()
    test = case(method)
    with contextlib.redirect_stdout(out):
        getattr(test, method)()
    found = re.search(pattern, out.getvalue())
    if found is None:
        raise SystemExit(f"no rate in the output of {method}: {out.getvalue()!r}")
    return float(found.group(1))


def medians(peers: dict[str, type], runs: int) -> dict[str, dict[str, float]]:
    """Per peer, the medians over `runs` of the concurrent case and the one-thread case."""
    rows: dict[str, dict[str, float]] = {}
    for name, case in peers.items():
        concurrent, single = [], []
        for _ in range(runs):
            concurrent.append(rate(case, "test_concurrent_throughput", r"Rate: (\d+) inserts per second"))
            single.append(rate(case, "test_performance", r"(\d+) inserts per second"))
        rows[name] = {"concurrent": statistics.median(concurrent), "single": statistics.median(single)}
    return rows

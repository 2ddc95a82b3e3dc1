"""What the `eventsourcing` library's performance cases need from a benchmark script:
a test case class around a recorder factory, and the rate a case prints. Shared by
es_cases.py and postgres_cases.py.
"""

import contextlib
import io
import re
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

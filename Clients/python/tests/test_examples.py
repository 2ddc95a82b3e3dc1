"""The runnable examples, run as a user would: separate processes against a real daemon."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import logbook_client
from logbook_client import EventData

from conftest import Daemon

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_projection_worker_totals_orders_per_customer(daemon):
    with logbook_client.Client(daemon.socket_path) as client:
        for index, (customer, total) in enumerate([("c-1", 10), ("c-2", 5), ("c-1", 7)]):
            client.append(f"order-{index}", [EventData.json("OrderPlaced", {"customer": customer, "total": total})])
        client.append("user-1", [EventData.json("UserCreated", {"name": "not an order"})])
    worker = subprocess.run(
        [sys.executable, str(EXAMPLES / "projection_worker.py"), "--socket", daemon.socket_path, "--stop-after", "3"],
        capture_output=True, text=True, timeout=60,
    )
    assert worker.returncode == 0, worker.stderr
    lines = [json.loads(line) for line in worker.stdout.splitlines()]
    final = {line["customer"]: line["total"] for line in lines}
    assert final == {"c-1": 17.0, "c-2": 5.0}
    with logbook_client.Client(daemon.socket_path) as client:
        info = client.group_info("order-totals")
        assert info.parked == 0


def test_bank_accounts_application_runs_on_logbook(daemon):
    env = dict(os.environ, PERSISTENCE_MODULE="logbook_client.eventsourcing", LOGBOOK_SOCKET=daemon.socket_path)
    app = subprocess.run(
        [sys.executable, str(EXAMPLES / "bank_accounts.py")], capture_output=True, text=True, env=env, timeout=60,
    )
    assert app.returncode == 0, app.stderr
    assert ": 70.00" in app.stdout
    assert "3 notifications" in app.stdout
    with logbook_client.Client(daemon.socket_path) as client:
        types = [event.type for event in client.read(category="BankAccounts.events")]
    assert [t.rsplit(".", 1)[-1] for t in types] == ["Opened", "Credited", "Debited"]


# --- the examples across daemon restarts ---------------------------------------------------


def _append_in_background(socket_path: str, appends: list[tuple[str, EventData]]) -> tuple[threading.Thread, list]:
    """Appends in a thread of its own (one client, which rides out the restarts); the list
    gets each result, or the error that ended the thread."""
    results: list = []

    def run() -> None:
        try:
            with logbook_client.Client(socket_path) as client:
                for stream, event in appends:
                    results.append(client.append(stream, [event]))
        except BaseException as error:  # noqa: BLE001 - the test reports it
            results.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def _wait_for(condition, what: str, seconds: float = 60, details=lambda: "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {details()}")
        time.sleep(0.005)


def test_projection_worker_totals_stay_exact_across_a_sigterm_and_a_sigkill(binaries):
    daemon = Daemon(binaries["logbookd"])
    daemon.start()
    orders = [(f"order-{n % 17}", EventData.json("OrderPlaced", {"customer": f"c-{n % 5}", "total": n + 1}))
              for n in range(150)]  # fmt: skip
    expected: dict[str, float] = {}
    for n in range(150):
        expected[f"c-{n % 5}"] = expected.get(f"c-{n % 5}", 0) + n + 1
    worker = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "projection_worker.py"), "--socket", daemon.socket_path,
         "--stop-after", str(len(orders))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with logbook_client.Client(daemon.socket_path) as client:

            def joined() -> bool:
                try:
                    return client.group_info("order-totals").consumers == 1
                except logbook_client.NotFound:
                    return False

            _wait_for(joined, "the worker to join its group")  # its first connection fails fast
        appender, results = _append_in_background(daemon.socket_path, orders)
        for sig, after in ((signal.SIGTERM, 50), (signal.SIGKILL, 100)):
            _wait_for(lambda: len(results) >= after, f"{after} appends")
            daemon.restart(sig)
        appender.join(60)
        assert all(isinstance(r, logbook_client.AppendResult) for r in results) and len(results) == 150, results[-1:]
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        final = {}
        for line in out.splitlines():
            record = json.loads(line)
            final[record["customer"]] = record["total"]
        assert final == expected
        assert "reconnected to logbookd" in err  # the worker's log (logging, info)
        with logbook_client.Client(daemon.socket_path) as client:
            assert client.group_info("order-totals").parked == 0
            assert len(list(client.read(category="order"))) == 150  # each append written once
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        daemon.cleanup()


def test_bank_accounts_application_stays_exact_across_a_sigterm_and_a_sigkill(binaries, monkeypatch):
    daemon = Daemon(binaries["logbookd"])
    daemon.start()
    monkeypatch.setenv("PERSISTENCE_MODULE", "logbook_client.eventsourcing")
    monkeypatch.setenv("LOGBOOK_SOCKET", daemon.socket_path)
    spec = importlib.util.spec_from_file_location("bank_accounts", EXAMPLES / "bank_accounts.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bank_accounts", module)  # events name their classes by topic
    spec.loader.exec_module(module)
    app = module.BankAccounts()
    subscription = None
    try:
        accounts = [app.open(f"owner-{n}") for n in range(4)]
        done: list = []
        notified: list[int] = []
        subscription = app.recorder.subscribe(gt=None)

        def deposits() -> None:
            try:
                for n in range(120):
                    app.deposit(accounts[n % 4], Decimal("1.25"))
                    done.append(n)
            except BaseException as error:  # noqa: BLE001 - the test reports it
                done.append(error)

        def follow() -> None:  # a projection of the application's notifications
            for notification in subscription:
                notified.append(notification.id)
                if len(notified) == 124:
                    return

        threads = [threading.Thread(target=deposits), threading.Thread(target=follow)]
        for thread in threads:
            thread.start()
        for sig, after in ((signal.SIGTERM, 40), (signal.SIGKILL, 80)):
            _wait_for(lambda: len(done) >= after, f"{after} deposits",
                      details=lambda: f"last: {done[-1:]}, notified {len(notified)}; daemon log: {daemon.log[-3000:]}")
            daemon.restart(sig)
        for thread in threads:
            thread.join(120)
        subscription.stop()
        assert done == list(range(120)), done[-1:]
        assert len(notified) == len(set(notified)) == 124  # 4 openings and 120 deposits, once each
        fresh = module.BankAccounts()  # state rebuilt from the log alone
        assert [fresh.balance(a) for a in accounts] == [Decimal("37.50")] * 4
        assert [fresh.repository.get(a).version for a in accounts] == [31] * 4
        fresh.close()
    finally:
        if subscription is not None:
            subscription.stop()  # ends the following thread, whatever happened
        app.close()
        daemon.cleanup()

"""The runnable examples, run as a user would: separate processes against a real daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import logbook_client
from logbook_client import EventData

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

"""A projection worker process for the view tests: it writes a view through its acks.

    python view_worker.py --socket S --group G --view V --mode counter|echo
        [--die-after-settled N] [--delay-ms D]

counter: keeps one document {"n": count of events handled} under the key "counter". The
         count lives in the worker: it reads the view once per call of its subscription
         (after its first delivery, when every ack of an earlier call has been settled; the
         subscription joins the group again by itself after a lost connection) and then puts
         n + 1 with each ack. A view write applied twice, or an ack lost after its
         settlement was confirmed, makes the final count differ from the number of events.
echo:    puts {"position": p, "data": <event data>} under the key named by the event's
         data {"key": ...}.

--die-after-settled N: SIGKILLs itself as soon as the daemon confirms (Settled) the N-th
ack, before it takes the next delivery. The worker reconnects whenever the daemon goes away.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import logbook_client  # noqa: E402
from logbook_client import Delivery, Settled, ViewWrite  # noqa: E402


def run_once(args: argparse.Namespace, state: dict) -> None:
    with logbook_client.Client(args.socket) as client:
        count = None
        with client.subscribe_group(args.group, initial_credit=args.credit) as deliveries:
            joined = deliveries.call_count
            for item in deliveries:
                if deliveries.call_count != joined:  # rejoined after a lost connection: reload
                    count, joined = None, deliveries.call_count
                if isinstance(item, Settled):
                    state["settled"] += len(item.delivery_ids)
                    if args.die_after_settled and state["settled"] >= args.die_after_settled:
                        os.kill(os.getpid(), signal.SIGKILL)
                    continue
                if not isinstance(item, Delivery):
                    continue
                if args.delay_ms:
                    time.sleep(args.delay_ms / 1000)
                event = item.event
                if args.mode == "counter":
                    if count is None:
                        rows = client.query(args.view, key="counter").rows
                        count = rows[0].value()["n"] if rows else 0
                    count += 1
                    write = ViewWrite(args.view, "counter", put=json.dumps({"n": count, "position": event.position}))
                else:
                    key = json.loads(event.data)["key"]
                    write = ViewWrite(args.view, key, put=json.dumps({"position": event.position, "data": json.loads(event.data)}))
                deliveries.ack([item.delivery_id], [write])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--view", required=True)
    parser.add_argument("--mode", choices=("counter", "echo"), required=True)
    parser.add_argument("--die-after-settled", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--credit", type=int, default=16)
    args = parser.parse_args()
    state = {"settled": 0}
    while True:
        try:
            run_once(args, state)
        except logbook_client.Unavailable:
            time.sleep(0.05)  # the daemon is restarting: connect again


if __name__ == "__main__":
    main()

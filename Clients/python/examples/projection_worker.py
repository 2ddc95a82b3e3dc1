"""A projection worker: totals orders per customer from a persistent subscription group.

Run several copies side by side: the `by_stream` group hands each order stream to one of
them, in order, and moves a stream to another copy when one stops. Each event is acked
once its effect is done, so a worker killed mid-way loses nothing: what it had not acked
comes again to someone. The worker rides out daemon restarts by itself (the client
reconnects and rejoins the group). SIGTERM or Ctrl-C stops it.

    python examples/projection_worker.py [--socket ./logbook.sock] [--group order-totals] [--stop-after N]

Append orders to try it:

    logbook append order-1 --type OrderPlaced --data '{"customer":"c-7","total":120}'
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
from collections import defaultdict

import logbook_client
from logbook_client import GroupSettings, RecordedEvent, Selector


class OrderTotals:
    """Totals per customer. Delivery is at-least-once (an event whose ack was lost in a
    restart comes again), so each order stream's last handled revision is kept: under
    `by_stream` a stream's events come in order, and one seen before is skipped."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.handled: dict[str, int] = {}
        self.applied = 0

    def apply(self, event: RecordedEvent) -> bool:
        """Applies the event once; False if it was applied before."""
        if self.handled.get(event.stream, -1) >= event.revision:
            return False
        if event.type == "OrderPlaced":
            order = json.loads(event.data)
            self.totals[order["customer"]] += float(order["total"])
            print(json.dumps({"customer": order["customer"], "total": self.totals[order["customer"]],
                              "position": event.position}), flush=True)
        self.handled[event.stream] = event.revision
        self.applied += 1
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default=None, help="daemon socket (default: $LOGBOOK_SOCKET or ./logbook.sock)")
    parser.add_argument("--group", default="order-totals")
    parser.add_argument("--stop-after", type=int, default=0, help="exit after handling this many events (0: run forever)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    projection = OrderTotals()
    with logbook_client.Client(args.socket) as client:
        try:
            client.create_group(GroupSettings(name=args.group, selector=Selector.category("order")))
        except logbook_client.AlreadyExists:
            pass  # another worker, or an earlier run, created it

        def handle(event: RecordedEvent) -> None:
            # A malformed order raises: it is retried, then parked past the group's
            # max_deliveries, for a human to look at (`logbook groups parked order-totals`).
            if projection.apply(event) and args.stop_after and projection.applied >= args.stop_after:
                worker.stop()

        worker = logbook_client.ProjectionWorker(client, args.group, handle)
        # SIGTERM as Ctrl-C: the event in hand, not acked, comes again (to this worker or another).
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            worker.run()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

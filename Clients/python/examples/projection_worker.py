"""A projection worker: totals orders per customer from a persistent subscription group.

Run several copies side by side: the `by_stream` group hands each order stream to one of
them, in order, and moves a stream to another copy when one stops. Each event is acked
once its effect is done, so a worker killed mid-way loses nothing: what it had not acked
comes again to someone.

    python examples/projection_worker.py [--socket ./logbook.sock] [--group order-totals] [--stop-after N]

Append orders to try it:

    logbook append order-1 --type OrderPlaced --data '{"customer":"c-7","total":120}'
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import logbook_client
from logbook_client import GroupSettings, Selector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default=None, help="daemon socket (default: $LOGBOOK_SOCKET or ./logbook.sock)")
    parser.add_argument("--group", default="order-totals")
    parser.add_argument("--stop-after", type=int, default=0, help="exit after handling this many events (0: run forever)")
    args = parser.parse_args()

    totals: dict[str, float] = defaultdict(float)
    handled = 0
    with logbook_client.Client(args.socket) as client:
        try:
            client.create_group(GroupSettings(name=args.group, selector=Selector.category("order")))
        except logbook_client.AlreadyExists:
            pass  # another worker, or an earlier run, created it
        with client.subscribe_group(args.group) as deliveries:
            for delivery in deliveries:
                if not isinstance(delivery, logbook_client.Delivery):
                    continue
                event = delivery.event
                try:
                    if event.type == "OrderPlaced":
                        order = json.loads(event.data)
                        totals[order["customer"]] += float(order["total"])
                        print(json.dumps({"customer": order["customer"], "total": totals[order["customer"]],
                                          "position": event.position}), flush=True)
                except (ValueError, KeyError) as error:
                    # A malformed order is not going to get better by retrying: park it for a human.
                    deliveries.nack([delivery.delivery_id], "park", f"malformed order: {error}")
                    continue
                deliveries.ack([delivery.delivery_id])
                handled += 1
                if args.stop_after and handled >= args.stop_after:
                    break


if __name__ == "__main__":
    main()

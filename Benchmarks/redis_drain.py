"""The Redis peer of `logbook bench drain`: a stream's backlog consumed by a group.

    redis_drain.py SOCKET EVENTS CONSUMERS [SIZE]

Appends EVENTS entries of SIZE bytes to a fresh stream (pipelined, untimed), creates a
consumer group from its start, then CONSUMERS processes each loop `XREADGROUP COUNT 100`
and `XACK` the ids they got until the stream has nothing new for them. Prints one JSON
object {"workload","clients","events","events_per_second"}: events acked per second, from
the group's creation until the last consumer has acked its last entry. Run it against a
Redis with `appendfsync always`, so that acks are on disk like Logbook's.

The consumers are Python (redis-py with hiredis), so the client's cost is in the figure.
"""

import json
import multiprocessing
import sys
import time
import uuid

import redis

COUNT = 100


def consume(socket, stream, group, name, ready):
    client = redis.Redis(unix_socket_path=socket)
    client.ping()
    ready.wait()
    while True:
        reply = client.xreadgroup(group, name, {stream: ">"}, count=COUNT)
        if not reply or not reply[0][1]:
            return
        client.xack(stream, group, *[entry_id for entry_id, _ in reply[0][1]])


def main():
    socket, events, consumers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    client = redis.Redis(unix_socket_path=socket)
    stream, group = f"drain-{uuid.uuid4().hex}", "g"
    payload = b"x" * size
    for first in range(0, events, 1000):
        pipe = client.pipeline(transaction=False)
        for _ in range(first, min(first + 1000, events)):
            pipe.xadd(stream, {"f": payload})
        pipe.execute()
    ready = multiprocessing.Event()
    workers = [
        multiprocessing.Process(target=consume, args=(socket, stream, group, f"c{i}", ready))
        for i in range(consumers)
    ]
    for worker in workers:
        worker.start()
    time.sleep(0.2)  # the processes are up and connected before the clock starts
    started = time.perf_counter()
    client.xgroup_create(stream, group, id="0")
    ready.set()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    pending = client.xpending(stream, group)["pending"]
    client.delete(stream)
    if pending:
        sys.exit(f"{pending} entries were left unacknowledged")
    print(json.dumps({
        "workload": "redis-drain", "clients": consumers, "events": events,
        "events_per_second": round(events / elapsed, 1),
    }))


if __name__ == "__main__":
    main()

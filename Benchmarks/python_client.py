"""What the Python client costs: appends and reads through `logbook_client`, one thread.

    python_client.py SOCKET [APPENDS] [READ_EVENTS]

Appends APPENDS single 200-byte events (each to its own stream, as `logbook bench append`
does), then reads READ_EVENTS of them back from `$all` in calls of 500. For each, prints
one JSON object with the rate and the client's own CPU (user + system of this process) per
event. Needs the client installed (`pip install -e Clients/python`). The client is pure
Python: these figures are reported beside the Swift client's, not chased against Redis.
"""

import json
import sys
import time
import uuid

import logbook_client
from logbook_client import ALL, EventData, Position


def measure(name, count, work):
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({
        "workload": name, "events": count, "events_per_second": round(count / wall, 1),
        "client_cpu_us_per_event": round(cpu * 1e6 / count, 1),
    }))


def main():
    socket = sys.argv[1]
    appends = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    reads = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    payload = b"x" * 200
    run = uuid.uuid4().hex[:8]
    with logbook_client.Client(socket) as client:
        positions = []

        def append():
            for index in range(appends):
                result = client.append(f"pybench-{run}-{index}", [EventData("BenchEvent", payload)])
                positions.extend(result.positions)

        measure("python append, 1 client", appends, append)
        while len(positions) < reads:  # top the log up in large appends, untimed
            batch = [EventData("BenchEvent", payload) for _ in range(min(500, reads - len(positions)))]
            positions.extend(client.append(f"pybench-{run}-fill", batch).positions)
        first = positions[-reads] if reads <= len(positions) else positions[0]

        def read():
            seen, start = 0, first
            while seen < reads:
                batch = list(client.read(ALL, from_=Position(start), limit=min(500, reads - seen)))
                if not batch:
                    break
                seen += len(batch)
                start = batch[-1].position + 1

        measure("python read $all, 500 per call", reads, read)


if __name__ == "__main__":
    main()

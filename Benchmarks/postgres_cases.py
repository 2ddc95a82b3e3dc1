"""The `eventsourcing` library's own performance cases (ApplicationRecorderTestCase's
test_concurrent_throughput: 4 threads inserting 10 jobs of 50 events; test_performance:
one thread inserting single events) against Logbook's persistence module on a daemon whose
store is PostgreSQL, and against the library's own PostgreSQL recorder on the same
cluster; each run RUNS times in one process; prints the medians as a Markdown table.

    python postgres_cases.py LOGBOOK_SOCKET POSTGRES_SOCKET_DIR DATABASE [RUNS]

Run by Benchmarks/postgres.sh, which starts the cluster and the daemon.
"""

import sys
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

import logbook_client
from es_harness import case_for, medians
from logbook_client.eventsourcing import LogbookApplicationRecorder


def main() -> None:
    socket, host, database = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    client = logbook_client.Client(socket, client_name="eventsourcing-bench")
    datastore = PostgresDatastore(
        dbname=database, host=host, port="5432", user="postgres", password="", pool_size=10, max_overflow=10)
    tables = iter(range(1_000_000))
    namespaces = iter(range(1_000_000))

    def postgres_recorder() -> Any:
        recorder = PostgresApplicationRecorder(datastore, events_table_name=f"stored_events_{next(tables)}")
        recorder.create_table()
        return recorder

    peers = {
        "Logbook on PostgreSQL (one logbookd)": case_for(
            lambda: LogbookApplicationRecorder(client, namespace=f"bench{next(namespaces)}")),
        "eventsourcing's PostgreSQL recorder": case_for(postgres_recorder),
    }
    rows = medians(peers, runs)
    peer = rows["eventsourcing's PostgreSQL recorder"]
    print(f"| recorder (medians of {runs}) | concurrent inserts/s | ÷ the library's | one thread, single events, inserts/s | ÷ the library's |")
    print("| --- | --- | --- | --- | --- |")
    for name, row in rows.items():
        print(
            f"| {name} | {row['concurrent']:.0f} | {row['concurrent'] / peer['concurrent']:.2f} "
            f"| {row['single']:.0f} | {row['single'] / peer['single']:.2f} |")
    client.close()


if __name__ == "__main__":
    main()

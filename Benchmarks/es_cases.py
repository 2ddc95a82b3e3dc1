"""The `eventsourcing` library's own performance cases (ApplicationRecorderTestCase's
test_concurrent_throughput: 4 threads inserting 10 jobs of 50 events; test_performance:
one thread inserting single events) against Logbook's persistence module, UmaDB and the
library's in-process SQLite recorder, each run RUNS times in one process; prints the
medians as a Markdown table.

    python es_cases.py LOGBOOK_SOCKET UMADB_URL SQLITE_FILE [RUNS]

Run by Benchmarks/eventsourcing.sh, which starts the servers.
"""

import sys

import umadb
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from eventsourcing_umadb.recorders import UmaDBApplicationRecorder

import logbook_client
from es_harness import case_for, medians
from logbook_client.eventsourcing import LogbookApplicationRecorder


def main() -> None:
    socket, umadb_url, sqlite_file = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 9
    client = logbook_client.Client(socket, client_name="eventsourcing-bench")
    uma = umadb.Client(url=umadb_url)
    datastore = SQLiteDatastore(db_name=sqlite_file)
    sqlite_recorder = SQLiteApplicationRecorder(datastore)
    sqlite_recorder.create_table()
    namespaces = iter(range(1_000_000))
    peers = {
        "Logbook (log engine)": case_for(
            lambda: LogbookApplicationRecorder(client, namespace=f"bench{next(namespaces)}")),
        "UmaDB": case_for(lambda: UmaDBApplicationRecorder(uma)),
        "SQLite (in-process)": case_for(lambda: sqlite_recorder),
    }
    rows = medians(peers, runs)
    uma_row = rows["UmaDB"]
    sqlite_row = rows["SQLite (in-process)"]
    print(f"| recorder (medians of {runs}) | concurrent inserts/s | ÷ UmaDB | ÷ SQLite | one thread, single events, inserts/s | ÷ UmaDB | ÷ SQLite |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, row in rows.items():
        print(
            f"| {name} | {row['concurrent']:.0f} | {row['concurrent'] / uma_row['concurrent']:.2f} "
            f"| {row['concurrent'] / sqlite_row['concurrent']:.2f} | {row['single']:.0f} "
            f"| {row['single'] / uma_row['single']:.2f} | {row['single'] / sqlite_row['single']:.2f} |")
    client.close()


if __name__ == "__main__":
    main()

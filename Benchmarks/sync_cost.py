"""What one group commit costs the kernel on this machine: a 5 KiB write (15 events of
~336 bytes) and a sync, 2,000 times, into a file in the given directory prepared four
ways. Prints wall time and the process's CPU (user + system) per commit.

    python3 Benchmarks/sync_cost.py [DIR]      (default /tmp)
"""

import os
import resource
import sys
import time

COMMITS = 2000
COMMIT_BYTES = 336 * 15


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(directory: str, name: str, prepare, commit) -> None:
    path = os.path.join(directory, f"sync-cost-{os.getpid()}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        prepare(fd)
        os.fsync(fd)
        payload = b"x" * COMMIT_BYTES
        wall, cpu = time.perf_counter(), cpu_seconds()
        for index in range(COMMITS):
            commit(fd, payload, index * COMMIT_BYTES)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        print(f"| {name} | {1e6 * wall / COMMITS:.0f} | {1e6 * cpu / COMMITS:.0f} |")
    finally:
        os.close(fd)
        os.unlink(path)


def write_then_sync(fd: int, payload: bytes, offset: int) -> None:
    os.pwrite(fd, payload, offset)
    os.fdatasync(fd)


def write_dsync(fd: int, payload: bytes, offset: int) -> None:
    os.pwritev(fd, [payload], offset, os.RWF_DSYNC)


def main() -> None:
    directory = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
    preallocate = lambda fd: os.posix_fallocate(fd, 0, 64 << 20)
    zero = lambda fd: os.pwrite(fd, b"\0" * (16 << 20), 0)
    print("| file, commit | µs wall per commit | µs CPU per commit |")
    print("| --- | --- | --- |")
    measure(directory, "growing, pwrite + fdatasync", lambda fd: None, write_then_sync)
    measure(directory, "preallocated, pwrite + fdatasync", preallocate, write_then_sync)
    measure(directory, "zeroed, pwrite + fdatasync", zero, write_then_sync)
    measure(directory, "zeroed, pwritev RWF_DSYNC", zero, write_dsync)


if __name__ == "__main__":
    main()

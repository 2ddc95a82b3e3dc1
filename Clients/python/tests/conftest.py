"""Fixtures: a real logbookd on a temporary socket, and the Swift CLI beside it.

The daemon binary is `$LOGBOOKD`, else `.build/debug/logbookd` in the repository this file
belongs to (what `swift build` makes); the CLI is `$LOGBOOK_CLI`, else the `logbook` next to
the daemon. Both are copied once per session, so that a concurrent `swift build` cannot swap
them out under a running test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import logbook_client

REPO = Path(__file__).resolve().parents[3]


def _binary(env: str, default: Path) -> Path:
    path = Path(os.environ.get(env) or default)
    if not path.is_file():
        pytest.exit(
            f"{path} is missing: build it (swift build --product logbookd --product logbook) "
            f"or set {env}",
            returncode=3,
        )
    return path


@pytest.fixture(scope="session")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    daemon = _binary("LOGBOOKD", REPO / ".build" / "debug" / "logbookd")
    cli = _binary("LOGBOOK_CLI", daemon.parent / "logbook")
    directory = tmp_path_factory.mktemp("bin")
    copies = {}
    for name, source in (("logbookd", daemon), ("logbook", cli)):
        target = directory / name
        shutil.copy2(source, target)
        copies[name] = target
    return copies


class Daemon:
    """A logbookd process on a temporary socket and data directory."""

    def __init__(self, binary: Path, extra_args: tuple[str, ...] = ()) -> None:
        # Unix socket paths are short (108 bytes): keep the directory near /tmp.
        self.directory = Path(tempfile.mkdtemp(prefix="lbpy-", dir="/tmp"))
        self.socket_path = str(self.directory / "s.sock")
        self.data_path = str(self.directory / "data")
        self.log_path = self.directory / "daemon.log"
        self.binary = binary
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "--socket", self.socket_path, "--data", self.data_path,
             "--sync", "normal", *self.extra_args],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"logbookd exited with {self.process.returncode}: {self.log}")
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(self.socket_path)
                return
            except OSError:
                time.sleep(0.02)
            finally:
                probe.close()
        raise RuntimeError(f"logbookd did not listen within 30 s: {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self, sig: int = signal.SIGTERM) -> None:
        """Sends `sig` and waits for the daemon to exit (SIGTERM: a graceful stop)."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"logbookd did not stop within 30 s of signal {sig}; its log:\n{self.log[-4000:]}") from None

    def pause(self) -> None:
        """Stops the daemon with SIGSTOP and waits until every one of its threads has stopped.

        The stop is not immediate: the thread the kernel picks to start it may wait for a
        CPU while another thread, already running, still reads and answers a request. On a
        loaded machine that let an append sent after `send_signal` be answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        tasks = Path(f"/proc/{self.process.pid}/task")
        deadline = time.monotonic() + 30
        while True:
            states = [_thread_state(task) for task in tasks.iterdir()]
            if all(state == "T" for state in states):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"logbookd's threads did not all stop within 30 s of SIGSTOP: {states}")
            time.sleep(0.001)

    def restart(self, sig: int = signal.SIGTERM) -> None:
        """Stops the daemon with `sig` and starts it again on the same socket and data."""
        self.kill(sig)
        self.start()

    @property
    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def daemon(binaries: dict[str, Path]):
    """One daemon for the session; tests keep apart by using their own stream names."""
    d = Daemon(binaries["logbookd"])
    d.start()
    yield d
    d.cleanup()


@pytest.fixture
def fresh_daemon(binaries: dict[str, Path]):
    """A daemon of this test's own, for tests about positions in $all or the connection."""
    d = Daemon(binaries["logbookd"])
    d.start()
    yield d
    d.cleanup()


@pytest.fixture
def client(daemon: Daemon):
    with logbook_client.Client(daemon.socket_path, client_name="pytest") as c:
        yield c


@pytest.fixture
def name() -> str:
    """A unique stream-name stem (also a unique category: it has no '-')."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def cli(binaries: dict[str, Path], daemon: Daemon):
    """Runs the Swift CLI against the session daemon: cli(*args, input=…) → CompletedProcess."""

    def run(*args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = dict(os.environ, LOGBOOK_SOCKET=daemon.socket_path)
        result = subprocess.run(
            [str(binaries["logbook"]), *args], input=input, capture_output=True, env=env, timeout=60
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"logbook {' '.join(args)} exited {result.returncode}: {result.stderr.decode(errors='replace')}"
            )
        return result

    return run


def _thread_state(task: Path) -> str:
    """The state letter of a thread from /proc (`T` when stopped); a thread that just
    ended counts as stopped."""
    try:
        return (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "T"

"""Access control (`logbookd --acl FILE`) seen from the Python client, run as throwaway
users so that the daemon reads their credentials off the socket: typed denials for every
permission, and a SIGHUP reload that an open connection follows from its next call on."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import google.protobuf
import pytest

import logbook_client
from logbook_client import EventData, GroupSettings, Selector

from conftest import Daemon

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make users and switch to them")

RULES = """\
# WHO PERMISSIONS WHAT...
user:lbacl-alice  read,append  stream:orders-*
user:lbacl-alice  consume      group:billing
user:lbacl-alice  read         view:public-*
"""

# Run as a user: each line of stdin names a call; each answer is a line on stdout.
WORKER = """\
import sys
import logbook_client
from logbook_client import EventData
from logbook_client.errors import PermissionDenied


def first(subscription):
    with subscription as items:
        return next(iter(items))


calls = {
    "read": lambda c: list(c.read("orders-1")),
    "read-other": lambda c: list(c.read("payments-1")),
    "read-all": lambda c: list(c.read(logbook_client.ALL)),
    "append": lambda c: c.append("orders-2", [EventData.json("Placed", {})]),
    "append-other": lambda c: c.append("payments-2", [EventData.json("Paid", {})]),
    "query": lambda c: c.query("public-totals"),
    "query-other": lambda c: c.query("private-totals"),
    "consume": lambda c: first(c.subscribe_group("billing")),
    "consume-other": lambda c: first(c.subscribe_group("other")),
    "groups": lambda c: c.list_groups(),
}
with logbook_client.Client(sys.argv[1]) as client:
    for line in sys.stdin:
        try:
            calls[line.strip()](client)
            print("ok", flush=True)
        except PermissionDenied as error:
            print("denied", error.message, flush=True)
"""


def _ensure_account(user: str) -> None:
    if subprocess.run(["id", user], capture_output=True).returncode != 0:
        subprocess.run(
            ["useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", user], check=True
        )


def _interpreter_for(user: str) -> str:
    """An interpreter of this Python version that `user` can run: this one may live under
    root's home (pyenv), which others cannot enter; Debian's own is the usual other."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for candidate in (os.path.realpath(sys.executable), f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        probe = subprocess.run(
            ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", candidate, "-c", "print(1)"],
            capture_output=True,
        )
        if probe.returncode == 0:
            return candidate
    pytest.skip(f"no Python {version} interpreter that another user can run")


@pytest.fixture(scope="module")
def shared_python() -> tuple[str, str]:
    """An interpreter of this version, and a copy of the client and protobuf that any user
    can import: the test's virtual environment may sit in a directory only root can enter."""
    for user in ("lbacl-alice", "lbacl-dave"):
        _ensure_account(user)
    interpreter = _interpreter_for("lbacl-alice")
    directory = Path(tempfile.mkdtemp(prefix="lbacl-py-", dir="/tmp"))
    shutil.copytree(Path(logbook_client.__file__).parent, directory / "logbook_client")
    shutil.copytree(Path(google.protobuf.__file__).parent.parent, directory / "google")
    (directory / "worker.py").write_text(WORKER)
    for root, dirs, files in os.walk(directory):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    yield interpreter, str(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def acl_daemon(binaries: dict[str, Path], cli):
    directory = Path(tempfile.mkdtemp(prefix="lbacl-", dir="/tmp"))
    acl = directory / "acl"
    acl.write_text(RULES)
    os.chmod(directory, 0o755)
    d = Daemon(binaries["logbookd"], ("--acl", str(acl), "--socket-mode", "666"))
    os.chmod(d.directory, 0o755)
    d.start()
    with logbook_client.Client(d.socket_path) as root:
        for stream in ("orders-1", "payments-1"):
            root.append(stream, [EventData.json("Made", {"n": 1})])
        root.create_group(GroupSettings("billing", Selector.stream("orders-1")))
        root.define_view("public-totals", group="billing")
    yield d, acl
    d.cleanup()
    shutil.rmtree(directory, ignore_errors=True)


class Worker:
    def __init__(self, python: tuple[str, str], user: str, socket_path: str) -> None:
        interpreter, directory = python
        self.process = subprocess.Popen(
            ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--",
             interpreter, f"{directory}/worker.py", socket_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={"PYTHONPATH": directory, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip

    def call(self, name: str) -> str:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the worker ended: {self.process.stderr.read() if self.process.stderr else ''}")
        return line.strip()

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(30)


def test_every_permission_is_granted_and_denied_as_the_file_says(shared_python, acl_daemon):
    daemon, _ = acl_daemon
    alice = Worker(shared_python, "lbacl-alice", daemon.socket_path)
    try:
        assert alice.call("read") == "ok"
        assert alice.call("append") == "ok"
        assert alice.call("query") == "ok"
        assert alice.call("consume") == "ok"
        assert alice.call("read-other") == "denied read on stream payments-1 is not granted to uid " + str(
            _uid("lbacl-alice")
        ) + " (lbacl-alice)"
        assert alice.call("read-all").startswith("denied read on every stream")
        assert alice.call("append-other").startswith("denied append on stream payments-2")
        assert alice.call("query-other").startswith("denied read on view private-totals")
        assert alice.call("consume-other").startswith("denied consume on group other")
        assert alice.call("groups").startswith("denied admin on any group")
        # The connection goes on after each denial.
        assert alice.call("read") == "ok"
    finally:
        alice.close()
    with logbook_client.Client(daemon.socket_path) as root:
        assert [e.type for e in root.read("orders-2")] == ["Placed"]
        assert list(root.read("payments-2")) == []


def test_a_reload_reaches_an_open_connection_at_its_next_call(shared_python, acl_daemon):
    daemon, acl = acl_daemon
    dave = Worker(shared_python, "lbacl-dave", daemon.socket_path)
    try:
        assert dave.call("read").startswith("denied read on stream orders-1")
        acl.write_text(RULES + "user:lbacl-dave read stream:orders-*\n")
        daemon.process.send_signal(signal.SIGHUP)
        _wait_for(lambda: "access rules reloaded" in daemon.log)
        assert dave.call("read") == "ok"

        acl.write_text("user:lbacl-dave fly stream:orders-*\n")
        daemon.process.send_signal(signal.SIGHUP)
        _wait_for(lambda: "access rules not reloaded" in daemon.log)
        assert "line 1: 'fly' is not a permission" in daemon.log
        assert dave.call("read") == "ok"
    finally:
        dave.close()


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid


def _wait_for(condition) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)

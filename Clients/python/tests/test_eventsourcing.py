"""The `eventsourcing` library's own test cases, run on Logbook (logbook_client.eventsourcing).

The library's cases are unittest classes, so each test starts a logbookd of its own in setUp
(the conftest's Daemon helper): the cases expect notification ids to start at 1 in a fresh
store, and Logbook's notification ids are its global positions.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import unittest
from pathlib import Path
from uuid import uuid4

import pytest

eventsourcing = pytest.importorskip("eventsourcing", reason="pip install 'eventsourcing>=9.5,<9.6'")

from conftest import REPO, Daemon  # noqa: E402
# Imported as modules: the library's base cases as names here would be collected and run.
from eventsourcing.tests import application as es_application  # noqa: E402
from eventsourcing.tests import persistence as es_persistence  # noqa: E402
from eventsourcing.tests import projection as es_projection  # noqa: E402
from eventsourcing.utils import Environment  # noqa: E402

import logbook_client  # noqa: E402
from logbook_client.eventsourcing import (  # noqa: E402
    LogbookAggregateRecorder,
    LogbookApplicationRecorder,
    LogbookFactory,
    LogbookProcessRecorder,
    LogbookTrackingRecorder,
)

_binary_dir: Path | None = None


def _daemon_binary() -> Path:
    """A private copy of logbookd (as the conftest makes), so a rebuild cannot swap it out."""
    global _binary_dir
    source = Path(os.environ.get("LOGBOOKD") or REPO / ".build" / "debug" / "logbookd")
    if not source.is_file():
        raise unittest.SkipTest(f"{source} is missing: build it or set LOGBOOKD")
    if _binary_dir is None:
        _binary_dir = Path(tempfile.mkdtemp(prefix="lbes-bin-", dir="/tmp"))
        shutil.copy2(source, _binary_dir / "logbookd")
    return _binary_dir / "logbookd"


def teardown_module() -> None:
    if _binary_dir is not None:
        shutil.rmtree(_binary_dir, ignore_errors=True)


class WithDaemon(unittest.TestCase):
    """Starts a fresh logbookd for each test; `self.socket_path`, `self.client`."""

    def setUp(self) -> None:
        self.start_daemon()
        super().setUp()

    def tearDown(self) -> None:
        try:
            super().tearDown()
        finally:
            self.stop_daemon()

    def start_daemon(self) -> None:
        self.daemon = Daemon(_daemon_binary())
        self.daemon.start()
        self.socket_path = self.daemon.socket_path
        self.client = logbook_client.Client(self.socket_path, client_name="eventsourcing-tests")

    def stop_daemon(self) -> None:
        self.client.close()
        self.daemon.cleanup()


class WithEnviron(WithDaemon):
    """Also points os.environ at the daemon: the application cases construct their
    applications from the process environment."""

    def setUp(self) -> None:
        super().setUp()
        self._saved = {k: os.environ.get(k) for k in ("PERSISTENCE_MODULE", "LOGBOOK_SOCKET")}
        os.environ["PERSISTENCE_MODULE"] = "logbook_client.eventsourcing"
        os.environ["LOGBOOK_SOCKET"] = self.socket_path

    def tearDown(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        super().tearDown()


class TestLogbookAggregateRecorder(WithDaemon, es_persistence.AggregateRecorderTestCase):
    def create_recorder(self) -> LogbookAggregateRecorder:
        return LogbookAggregateRecorder(self.client, namespace="agg")


class TestLogbookApplicationRecorder(WithDaemon, es_persistence.ApplicationRecorderTestCase):
    def create_recorder(self) -> LogbookApplicationRecorder:
        return LogbookApplicationRecorder(self.client, namespace="app")

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()

    def test_notifications_of_other_applications_are_not_selected(self) -> None:
        one = self.create_recorder()
        other = LogbookApplicationRecorder(self.client, namespace="other")
        from eventsourcing.persistence import StoredEvent

        other.insert_events([StoredEvent(self.new_originator_id(), 1, "t", b"x")])
        ids = one.insert_events([StoredEvent(self.new_originator_id(), 1, "t", b"y")])
        self.assertEqual(ids, [2])  # a global position
        self.assertEqual([n.id for n in one.select_notifications(None, 10)], [2])
        self.assertEqual(one.max_notification_id(), 2)
        self.assertEqual(other.max_notification_id(), 1)


class TestLogbookTrackingRecorder(WithDaemon, es_persistence.TrackingRecorderTestCase):
    def create_recorder(self) -> LogbookTrackingRecorder:
        return LogbookTrackingRecorder(self.client, namespace="trk")


class TestLogbookProcessRecorder(WithDaemon, es_persistence.ProcessRecorderTestCase):
    def create_recorder(self) -> LogbookProcessRecorder:
        return LogbookProcessRecorder(self.client, namespace="proc")


class LogbookTrackingRecorderSubclass(LogbookTrackingRecorder):
    pass


class TestLogbookInfrastructureFactory(WithDaemon, es_persistence.InfrastructureFactoryTestCase[LogbookFactory]):
    def setUp(self) -> None:
        self.start_daemon()  # then the library's setUp builds the factory from self.env
        self.env = Environment("TestCase")
        self.env[LogbookFactory.PERSISTENCE_MODULE] = "logbook_client.eventsourcing"
        self.env[LogbookFactory.LOGBOOK_SOCKET] = self.socket_path
        es_persistence.InfrastructureFactoryTestCase.setUp(self)

    def tearDown(self) -> None:
        try:
            es_persistence.InfrastructureFactoryTestCase.tearDown(self)
        finally:
            self.stop_daemon()

    def expected_factory_class(self) -> type[LogbookFactory]:
        return LogbookFactory

    def expected_aggregate_recorder_class(self) -> type[LogbookAggregateRecorder]:
        return LogbookAggregateRecorder

    def expected_application_recorder_class(self) -> type[LogbookApplicationRecorder]:
        return LogbookApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[LogbookTrackingRecorder]:
        return LogbookTrackingRecorder

    def tracking_recorder_subclass(self) -> type[LogbookTrackingRecorder]:
        return LogbookTrackingRecorderSubclass

    def expected_process_recorder_class(self) -> type[LogbookProcessRecorder]:
        return LogbookProcessRecorder


class TestLogbookExampleApplication(WithEnviron, es_application.ExampleApplicationTestCase):
    expected_factory_topic = "logbook_client.eventsourcing.factory:LogbookFactory"


class TestLogbookApplication(WithEnviron, es_application.ApplicationTestCase):
    pass



class TestLogbookEventSourcedProjection(WithDaemon, es_projection.EventSourcedProjectionTestCase):
    """Not in the issue's list, but the path a process application takes: a subscription on the
    upstream application, events and tracking in one Append, waiting for a tracking id, and
    stop() from the runner's thread."""

    def setUp(self) -> None:
        super().setUp()
        self.env = {"PERSISTENCE_MODULE": "logbook_client.eventsourcing", "LOGBOOK_SOCKET": self.socket_path}


class TestLogbookMapping(WithDaemon):
    """How the recorders use Logbook's streams, beyond what the library's cases check."""

    def test_a_stale_head_costs_a_retry_not_an_error(self) -> None:
        from eventsourcing.persistence import IntegrityError, StoredEvent

        a = LogbookApplicationRecorder(self.client, namespace="app")
        b = LogbookApplicationRecorder(self.client, namespace="app")  # its own (empty) head cache
        oid = uuid4()
        a.insert_events([StoredEvent(oid, 1, "t", b"1"), StoredEvent(oid, 2, "t", b"2")])
        self.assertEqual(b.insert_events([StoredEvent(oid, 3, "t", b"3")]), [3])
        with self.assertRaises(IntegrityError):
            a.insert_events([StoredEvent(oid, 3, "t", b"again")])  # a's cached head says 2
        with self.assertRaises(IntegrityError):
            b.insert_events([StoredEvent(oid, 2, "t", b"again")])
        self.assertEqual([e.originator_version for e in a.select_events(oid)], [1, 2, 3])
        events = list(self.client.read(f"app.events-{oid}"))
        self.assertEqual([e.revision for e in events], [0, 1, 2])
        self.assertEqual([e.metadata["es_version"] for e in events], ["1", "2", "3"])

    def test_versions_may_skip_as_snapshots_do(self) -> None:
        from eventsourcing.persistence import StoredEvent

        snapshots = LogbookAggregateRecorder(self.client, namespace="app", purpose="snapshots")
        oid = uuid4()
        for version in (2, 5, 9):
            snapshots.insert_events([StoredEvent(oid, version, "Snapshot", b"%d" % version)])
        self.assertEqual(snapshots.select_events(oid, desc=True, limit=1)[0].originator_version, 9)
        self.assertEqual(snapshots.select_events(oid, lte=8, desc=True, limit=1)[0].originator_version, 5)
        self.assertEqual([s.originator_version for s in snapshots.select_events(oid, gt=2)], [5, 9])
        self.assertEqual([s.originator_version for s in snapshots.select_events(oid, gt=2, limit=1)], [5])
        self.assertEqual([s.originator_version for s in snapshots.select_events(oid, lte=5)], [2, 5])

    def test_a_multi_aggregate_insert_is_one_atomic_append(self) -> None:
        from eventsourcing.persistence import IntegrityError, StoredEvent

        recorder = LogbookApplicationRecorder(self.client, namespace="app")
        a, b = uuid4(), uuid4()
        recorder.insert_events([StoredEvent(b, 1, "t", b"b1")])
        with self.assertRaises(IntegrityError):
            recorder.insert_events([StoredEvent(a, 1, "t", b"a1"), StoredEvent(b, 1, "t", b"b1 again")])
        self.assertEqual(recorder.select_events(a), [])
        ids = recorder.insert_events([StoredEvent(a, 1, "t", b"a1"), StoredEvent(b, 2, "t", b"b2")])
        self.assertEqual(ids, [2, 3])  # consecutive positions, in the caller's order

    def test_stop_ends_a_blocked_subscription_from_another_thread(self) -> None:
        from eventsourcing.persistence import StoredEvent

        recorder = LogbookApplicationRecorder(self.client, namespace="app")
        recorder.insert_events([StoredEvent(uuid4(), 1, "t", b"x")])
        seen: list[int] = []
        subscription = recorder.subscribe(gt=None)

        def consume() -> None:
            with subscription:
                for notification in subscription:
                    seen.append(notification.id)

        thread = threading.Thread(target=consume)
        thread.start()
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        recorder.insert_events([StoredEvent(uuid4(), 1, "t", b"y")])
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        subscription.stop()
        thread.join(5)
        self.assertFalse(thread.is_alive())
        self.assertEqual(seen, [1, 2])

    def test_a_processed_notification_bounds_the_tracking_stream(self) -> None:
        """A tracking stream gains an event per processed notification: after its first
        append the recorder sets its max_count, so only the newest few stay visible."""
        from eventsourcing.application import Application
        from eventsourcing.domain import Aggregate
        from eventsourcing.projection import EventSourcedProjectionRunner

        from logbook_client.eventsourcing.recorders import _TRACKING_MAX_COUNT

        env = {"PERSISTENCE_MODULE": "logbook_client.eventsourcing", "LOGBOOK_SOCKET": self.socket_path}
        with EventSourcedProjectionRunner(
            application_class=Application, projection_class=es_projection.Counters, env=env
        ) as runner:
            recorder = runner.projection.recorder
            assert isinstance(recorder, LogbookProcessRecorder)
            tracking = recorder.tracking_stream_for(runner.app.name)
            count = _TRACKING_MAX_COUNT + 2
            for _ in range(count):
                last = runner.app.save(Aggregate())[-1].notification.id
            runner.wait(last)
            self.assertEqual(runner.projection.get_count(Aggregate.Created), count)
            info = self.client.get_stream_metadata(tracking)
            self.assertEqual((info.max_count, info.max_age, info.truncate_before), (_TRACKING_MAX_COUNT, None, None))
            self.assertEqual(info.last_revision, count - 1)
            visible = list(self.client.read(tracking))
            self.assertEqual(len(visible), _TRACKING_MAX_COUNT)
            self.assertEqual(visible[-1].metadata["es_tracking"], str(last))
            self.assertEqual(recorder.max_tracking_id(runner.app.name), last)

    def test_a_daemon_that_cannot_bound_streams_is_asked_once(self) -> None:
        """Unimplemented (the PostgreSQL store, for now) is remembered and fails nothing;
        an error that may pass is tried again after the next append."""
        from eventsourcing.persistence import Tracking

        asked: list[str] = []
        answers: list[logbook_client.LogbookError] = [
            logbook_client.Unavailable(message="lost"),
            logbook_client.Unimplemented(message="not on this store", from_server=True),
        ]

        def set_stream_metadata(stream: str, **bounds: object) -> None:
            asked.append(stream)
            raise answers.pop(0)

        self.client.set_stream_metadata = set_stream_metadata  # type: ignore[method-assign]
        recorder = LogbookTrackingRecorder(self.client, namespace="trk")
        for notification_id in (1, 2, 3):
            recorder.insert_tracking(Tracking("up", notification_id))
        recorder.insert_tracking(Tracking("other", 7))
        self.assertEqual(asked, ["trk.tracking-up", "trk.tracking-up"])
        self.assertEqual((recorder.max_tracking_id("up"), recorder.max_tracking_id("other")), (3, 7))
        del self.client.set_stream_metadata
        self.assertIsNone(self.client.get_stream_metadata("trk.tracking-up").max_count)

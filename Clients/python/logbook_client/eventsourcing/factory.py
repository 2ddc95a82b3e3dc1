"""The `eventsourcing` infrastructure factory for Logbook (`PERSISTENCE_MODULE=logbook_client.eventsourcing`).

Settings, read through the library's Environment (so ``{APP_NAME}_LOGBOOK_SOCKET`` overrides
``LOGBOOK_SOCKET`` for one application):

- ``LOGBOOK_SOCKET``: the daemon's Unix socket (default: logbook's own default,
  ``$LOGBOOK_SOCKET`` or ``./logbook.sock``).
- ``LOGBOOK_NAMESPACE``: the first part of every stream name (default: the application's
  name, else ``eventsourcing``). Applications sharing a namespace share an event sequence.
- ``ORIGINATOR_ID_TYPE``: ``uuid`` (default: ids read back from stream names are UUIDs when
  they parse as one) or ``text``.
- ``CREATE_TABLE`` is accepted and ignored: Logbook streams need no schema.

One connection per factory, shared (thread-safe, multiplexed) by its recorders; each
``subscribe()`` opens a connection of its own.
"""

from __future__ import annotations

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    OperationalError,
    ProcessRecorder,
)
from eventsourcing.utils import Environment, EnvType, resolve_topic

import logbook_client

from .recorders import (
    LogbookAggregateRecorder,
    LogbookApplicationRecorder,
    LogbookProcessRecorder,
    LogbookTrackingRecorder,
    namespace_for,
)


class LogbookFactory(InfrastructureFactory[LogbookTrackingRecorder]):
    LOGBOOK_SOCKET = "LOGBOOK_SOCKET"
    LOGBOOK_NAMESPACE = "LOGBOOK_NAMESPACE"
    ORIGINATOR_ID_TYPE = "ORIGINATOR_ID_TYPE"

    aggregate_recorder_class = LogbookAggregateRecorder
    application_recorder_class = LogbookApplicationRecorder
    tracking_recorder_class = LogbookTrackingRecorder
    process_recorder_class = LogbookProcessRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        socket_path = self.env.get(self.LOGBOOK_SOCKET) or logbook_client.default_socket_path()
        self.namespace = namespace_for(self.env.get(self.LOGBOOK_NAMESPACE) or self.env.name)
        self.originator_id_type = (self.env.get(self.ORIGINATOR_ID_TYPE) or "uuid").lower()
        if self.originator_id_type not in ("uuid", "text"):
            msg = f"Invalid {self.ORIGINATOR_ID_TYPE} '{self.originator_id_type}', must be 'uuid' or 'text'"
            raise OSError(msg)
        try:
            self.client = logbook_client.Client(socket_path, client_name=f"eventsourcing:{self.namespace}")
        except logbook_client.LogbookError as error:
            raise OperationalError(f"cannot connect to logbookd at {socket_path}: {error}") from error

    def _kwargs(self) -> dict[str, str]:
        return {"namespace": self.namespace, "originator_id_type": self.originator_id_type}

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        return self.aggregate_recorder_class(self.client, purpose=purpose, **self._kwargs())

    def application_recorder(self) -> ApplicationRecorder:
        topic = self.env.get(self.APPLICATION_RECORDER_TOPIC)
        cls = resolve_topic(topic) if topic else self.application_recorder_class
        assert issubclass(cls, LogbookApplicationRecorder)
        return cls(self.client, **self._kwargs())

    def tracking_recorder(
        self, tracking_recorder_class: type[LogbookTrackingRecorder] | None = None
    ) -> LogbookTrackingRecorder:
        if tracking_recorder_class is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            tracking_recorder_class = resolve_topic(topic) if topic else self.tracking_recorder_class
        assert tracking_recorder_class is not None
        assert issubclass(tracking_recorder_class, LogbookTrackingRecorder)
        return tracking_recorder_class(self.client, **self._kwargs())

    def process_recorder(self) -> ProcessRecorder:
        topic = self.env.get(self.PROCESS_RECORDER_TOPIC)
        cls = resolve_topic(topic) if topic else self.process_recorder_class
        assert issubclass(cls, LogbookProcessRecorder)
        return cls(self.client, **self._kwargs())

    def close(self) -> None:
        self.client.close()


Factory = LogbookFactory

"""Logbook as a persistence module for the Python `eventsourcing` library (9.5.x).

Select it with the library's usual setting::

    PERSISTENCE_MODULE=logbook_client.eventsourcing
    LOGBOOK_SOCKET=/run/logbook.sock        # else $LOGBOOK_SOCKET's default, ./logbook.sock

See `logbook_client.eventsourcing.recorders` for how the library's records map onto streams,
expected revisions and positions. Needs `pip install "eventsourcing>=9.5,<9.6"`.
"""

from .factory import LogbookFactory
from .recorders import (
    LogbookAggregateRecorder,
    LogbookApplicationRecorder,
    LogbookProcessRecorder,
    LogbookSubscription,
    LogbookTrackingRecorder,
)

Factory = LogbookFactory

__all__ = [
    "Factory",
    "LogbookAggregateRecorder",
    "LogbookApplicationRecorder",
    "LogbookFactory",
    "LogbookProcessRecorder",
    "LogbookSubscription",
    "LogbookTrackingRecorder",
]

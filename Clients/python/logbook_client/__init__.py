"""Logbook client for Python: talks to logbookd over its Unix socket (DESIGN §3).

`logbook_client.Client` is synchronous (thread-safe, many calls on one connection);
`logbook_client.aio.Client` is the asyncio twin. Both reconnect by themselves after a daemon
restart. `ProjectionWorker` runs a handler for each event of a group. Errors are
`logbook_client.LogbookError` subclasses, one per status code.
"""

from . import aio, errors
from ._uuid7 import uuid7
from .client import Client, ReadIterator, Subscription, default_socket_path
from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all
from .types import *  # noqa: F403
from .types import __all__ as _types_all
from .worker import ProjectionWorker

__version__ = "0.1.0"

__all__ = [
    "Client",
    "ProjectionWorker",
    "ReadIterator",
    "Subscription",
    "aio",
    "errors",
    "uuid7",
    "default_socket_path",
    *_errors_all,
    *_types_all,
]

"""Dataclasses as event data: EventData.of writes their fields as JSON, RecordedEvent.decode
reads them back, through a real daemon."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

import logbook_client
from logbook_client import EventData


class Channel(enum.Enum):
    WEB = "web"
    SHOP = "shop"


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class OrderPlaced:
    order_id: uuid.UUID
    customer: str
    lines: tuple[Line, ...]
    placed_at: dt.datetime
    channel: Channel = Channel.WEB
    note: str | None = None
    tags: dict[str, int] = field(default_factory=dict)


def order() -> OrderPlaced:
    return OrderPlaced(
        order_id=uuid.uuid4(),
        customer="zoë",
        lines=(Line("a-1", 2, Decimal("9.99")), Line("b-2", 1, Decimal("0.10"))),
        placed_at=dt.datetime(2026, 12, 6, 10, 30, 15, 123456, tzinfo=dt.timezone.utc),
        channel=Channel.SHOP,
        tags={"priority": 1},
    )


def test_a_dataclass_event_round_trips_through_the_daemon(client, name):
    placed = order()
    result = client.append(f"{name}-1", [EventData.of(placed, metadata={"user": "u"})])
    (event,) = client.read(f"{name}-1")
    assert (event.type, event.content_type, event.metadata["user"]) == ("OrderPlaced", "application/json", "u")
    assert event.decode(OrderPlaced) == placed
    assert event.json()["lines"][0] == {"sku": "a-1", "quantity": 2, "price": "9.99"}
    assert result.positions == (event.position,)


def test_the_type_may_be_named_and_json_takes_dataclasses_too(client, name):
    client.append(f"{name}-1", [EventData.of(order(), type="shop.OrderPlaced.v2"),
                                EventData.json("Lines", [Line("c", 3, Decimal("1"))])])  # fmt: skip
    first, second = client.read(f"{name}-1")
    assert first.type == "shop.OrderPlaced.v2" and first.decode(OrderPlaced).channel is Channel.SHOP
    assert second.json() == [{"sku": "c", "quantity": 3, "price": "1"}]


def test_decode_ignores_unknown_keys_and_fills_defaults():
    event = recorded(b'{"order_id":"6b3c1b2e-8f1d-4b7a-9d3e-1f2a3b4c5d6e","customer":"c","lines":[],'
                     b'"placed_at":"2026-01-01T00:00:00+00:00","added_later":true}')  # fmt: skip
    decoded = event.decode(OrderPlaced)
    assert decoded.channel is Channel.WEB and decoded.note is None and decoded.lines == ()


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'{"customer":"c"}', "OrderPlaced.order_id is missing"),
        (b'{"order_id":"nope","customer":"c","lines":[],"placed_at":"2026-01-01"}', "OrderPlaced.order_id"),
        (b'{"order_id":"6b3c1b2e-8f1d-4b7a-9d3e-1f2a3b4c5d6e","customer":"c","placed_at":"2026-01-01",'
         b'"lines":[{"sku":"a","quantity":"two","price":"1"}]}', "OrderPlaced.lines[0].quantity"),
        (b'{"order_id":"6b3c1b2e-8f1d-4b7a-9d3e-1f2a3b4c5d6e","customer":"c","placed_at":"2026-01-01",'
         b'"lines":[],"channel":"fax"}', "OrderPlaced.channel"),
        (b"[1]", "expected an object"),
        (b"\xff not json", "is not JSON"),
    ],
)  # fmt: skip
def test_decode_says_what_does_not_fit(data, where):
    with pytest.raises(ValueError, match=where.replace("[", r"\[").replace("]", r"\]")):
        recorded(data).decode(OrderPlaced)


def test_of_takes_only_dataclass_instances_and_json_refuses_what_it_cannot_write():
    with pytest.raises(TypeError, match="dataclass instance"):
        EventData.of({"a": 1})
    with pytest.raises(TypeError, match="dataclass instance"):
        EventData.of(OrderPlaced)
    with pytest.raises(TypeError, match="not JSON"):
        EventData.json("T", {"when": object()})


def recorded(data: bytes) -> logbook_client.RecordedEvent:
    return logbook_client.RecordedEvent(
        stream="s", revision=0, position=1, id=uuid.uuid4(), type="OrderPlaced", data=data,
        content_type="application/json", metadata={}, correlation_id=None, causation_id=None, time_unix_micros=0,
    )  # fmt: skip

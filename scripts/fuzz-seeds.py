#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus (Tests/Fuzz/corpus): well-formed frames of every
kind a client sends, with the edge values the checks look at, for `frames`; and short
sequences of state-machine inputs for `connection`. The fuzzer mutates from these, so it
reaches the request checks at once instead of first finding the framing by chance.

Run with the Python client importable (its generated protobuf code):
    PYTHONPATH=Clients/python python3 scripts/fuzz-seeds.py
"""

from __future__ import annotations

import struct
from pathlib import Path

from logbook_client._pb.logbook.v1 import admin_pb2, append_pb2, events_pb2, frame_pb2, query_pb2, read_pb2, subscribe_pb2

ROOT = Path(__file__).resolve().parents[1] / "Tests" / "Fuzz" / "corpus"


def framed(call_id: int, **body) -> bytes:
    frame = frame_pb2.Frame(call_id=call_id, **body)
    payload = frame.SerializeToString()
    return struct.pack(">I", len(payload)) + payload


def hello() -> bytes:
    return framed(0, hello=frame_pb2.Hello(protocol_version=1, client_name="fuzz"))


def event(type_: str = "T", data: bytes = b"{}", **kw) -> events_pb2.ProposedEvent:
    return events_pb2.ProposedEvent(id=bytes(range(16)), type=type_, data=data, content_type="application/json", **kw)


def frames_seeds() -> dict[str, bytes]:
    seeds = {
        "hello": hello(),
        "append": framed(1, append_request=append_pb2.AppendRequest(streams=[
            append_pb2.StreamAppend(stream="order-1", events=[event(), event("U", b"x", correlation_id="c")]),
            append_pb2.StreamAppend(stream="order-2", expected=events_pb2.ExpectedRevision(revision=3), events=[event()]),
        ])),
        "append-empty-name": framed(2, append_request=append_pb2.AppendRequest(streams=[append_pb2.StreamAppend(stream="", events=[event()])])),
        "append-reserved": framed(3, append_request=append_pb2.AppendRequest(streams=[append_pb2.StreamAppend(stream="$all", events=[event()])])),
        "append-metadata": framed(4, append_request=append_pb2.AppendRequest(streams=[append_pb2.StreamAppend(
            stream="s", events=[event(metadata=[events_pb2.MetadataEntry(key="k", value="v")], causation_id="x")])])),
        "read-stream": framed(5, read_request=read_pb2.ReadRequest(
            selector=events_pb2.Selector(stream="order-1"), **{"from": events_pb2.StartFrom(revision=2)}, max_count=10)),
        "read-all-filter": framed(6, read_request=read_pb2.ReadRequest(
            selector=events_pb2.Selector(all=events_pb2.Empty()), filter=events_pb2.Filter(event_types=["T"], stream_prefix="o"),
            direction=events_pb2.DIRECTION_BACKWARDS, as_of_position=7, initial_credit=100)),
        "read-category-revision": framed(7, read_request=read_pb2.ReadRequest(
            selector=events_pb2.Selector(category="order"), **{"from": events_pb2.StartFrom(revision=1)})),
        "read-type": framed(8, read_request=read_pb2.ReadRequest(selector=events_pb2.Selector(event_type="T"))),
        "read-correlation": framed(9, read_request=read_pb2.ReadRequest(selector=events_pb2.Selector(correlation_id="c"))),
        "subscribe": framed(10, subscribe_request=subscribe_pb2.SubscribeRequest(catch_up=subscribe_pb2.CatchUp(
            selector=events_pb2.Selector(stream="s"), **{"from": events_pb2.StartFrom(end=events_pb2.Empty())}))),
        "subscribe-group": framed(11, subscribe_request=subscribe_pb2.SubscribeRequest(group="g", initial_credit=5)),
        "ack": framed(11, ack=subscribe_pb2.Ack(delivery_ids=[1, 2], view_writes=[
            query_pb2.ViewWrite(view="v", key="k", put='{"a":1}'),
            query_pb2.ViewWrite(view="v", key="k", merge='{"a":null}'),
            query_pb2.ViewWrite(view="v", key="k", remove=True),
        ])),
        "nack": framed(11, nack=subscribe_pb2.Nack(delivery_ids=[3], action=subscribe_pb2.NACK_ACTION_PARK, reason="r")),
        "credit": framed(10, credit=subscribe_pb2.Credit(count=64)),
        "cancel": framed(10, cancel=frame_pb2.Cancel()),
        "query": framed(12, query_request=query_pb2.QueryRequest(
            view="v", key_prefix="c-", order_by="$.total", descending=True, limit=10, predicates=[
                query_pb2.Predicate(path="$.status", op=query_pb2.PREDICATE_OP_EQ, values=['"paid"']),
                query_pb2.Predicate(path="$.n", op=query_pb2.PREDICATE_OP_IN, values=["1", "2.5", "true", "null"]),
                query_pb2.Predicate(path="$.a[0].b", op=query_pb2.PREDICATE_OP_PREFIX, values=['"x"']),
            ], min_position=3, wait_ms=10)),
        "query-key": framed(13, query_request=query_pb2.QueryRequest(view="v", key="k")),
        "query-system": framed(14, query_request=query_pb2.QueryRequest(view="$streams", as_of_time_unix_micros=5)),
        "admin-create-group": framed(15, admin_request=admin_pb2.AdminRequest(create_group=admin_pb2.GroupSettings(
            name="g", selector=events_pb2.Selector(category="order"), strategy=admin_pb2.STRATEGY_ROUND_ROBIN,
            max_in_flight=10, ack_timeout_ms=1000, max_deliveries=3, retry_backoff_ms=10,
            filter=events_pb2.Filter(event_types=["T"])))),
        "admin-define-view": framed(16, admin_request=admin_pb2.AdminRequest(define_view=admin_pb2.ViewDefinition(
            name="v", group="g", indexed_paths=["$.total", "$.customer.id"]))),
        "admin-reset": framed(17, admin_request=admin_pb2.AdminRequest(reset_group=admin_pb2.ResetGroup(name="g", to_position=4, clear_views=True))),
        "admin-parked": framed(18, admin_request=admin_pb2.AdminRequest(list_parked=admin_pb2.ListParked(group="g", limit=5))),
        "admin-delete-stream": framed(19, admin_request=admin_pb2.AdminRequest(delete_stream=admin_pb2.DeleteStream(stream="s"))),
        "admin-delete-stream-hard": framed(
            24, admin_request=admin_pb2.AdminRequest(delete_stream=admin_pb2.DeleteStream(stream="s", hard=True))),
        "admin-set-stream-metadata": framed(25, admin_request=admin_pb2.AdminRequest(
            set_stream_metadata=admin_pb2.SetStreamMetadata(
                stream="s", metadata=admin_pb2.StreamMetadata(max_count=1, max_age_seconds=(1 << 64) - 1, truncate_before=3)))),
        "admin-get-stream-metadata": framed(26, admin_request=admin_pb2.AdminRequest(get_stream_metadata="s")),
        "admin-list": framed(20, admin_request=admin_pb2.AdminRequest(list_groups=events_pb2.Empty())),
        "backup": framed(22, backup_request=admin_pb2.BackupRequest(initial_credit=4)),
        "backup-chunk-from-a-client": framed(23, backup_chunk=admin_pb2.BackupChunk(path="log/../x", offset=7, data=b"x")),
        "truncated": framed(21, read_request=read_pb2.ReadRequest(selector=events_pb2.Selector(stream="s")))[:-3],
        "too-long": struct.pack(">I", 1 << 30) + b"\x08\x01",
    }
    # A connection's worth: the handshake, then several calls back to back.
    seeds["session"] = b"".join([hello(), seeds["append"], seeds["read-stream"], seeds["query"], seeds["ack"]])
    return seeds


def connection_seeds() -> dict[str, bytes]:
    # ConnectionFuzz reads ops: 0-2 a frame (call id byte, kind byte), 3 finish, 4 refuse, 5 drain.
    frame, finish, refuse, drain = 0, 3, 4, 5
    hello_ok = bytes([frame, 0, 0])
    return {
        "handshake-and-calls": hello_ok + bytes([frame, 1, 1, frame, 2, 2, frame, 3, 4, finish, 0, frame, 1, 6]),
        "limit": hello_ok + bytes([frame, 1, 1, frame, 2, 2, frame, 3, 3, frame, 4, 4, frame, 5, 5, frame, 6, 2]),
        "drain": hello_ok + bytes([frame, 1, 1, frame, 2, 2, drain, frame, 3, 2, finish, 0, finish, 0]),
        "bad-first-frame": bytes([frame, 1, 1, frame, 0, 0]),
        "wrong-version": bytes([frame, 0, 0x80]),
        "refuse": hello_ok + bytes([frame, 1, 1, refuse, 1, refuse, 2, frame, 2, 10]),
        "server-frames": hello_ok + bytes([frame, 1, 10, frame, 1, 11]),
    }


def main() -> None:
    for target, seeds in (("frames", frames_seeds()), ("connection", connection_seeds())):
        directory = ROOT / target
        directory.mkdir(parents=True, exist_ok=True)
        # Inputs the fuzzer found (`found-…`) stay: they are the regressions.
        for name, data in seeds.items():
            (directory / name).write_bytes(data)
        print(f"{directory}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()

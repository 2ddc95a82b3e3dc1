"""A bare-bones protocol peer for tests that must send what the client refuses to."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Callable

from logbook_client._pb.logbook.v1 import frame_pb2


class RawConnection:
    def __init__(self, path: str, hello: bool = True) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        if hello:
            frame = frame_pb2.Frame(call_id=0)
            frame.hello.protocol_version = 1
            frame.hello.client_name = "raw"
            self.send(frame)
            reply = self.receive()
            assert reply.WhichOneof("body") == "hello_reply", reply

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, frame: frame_pb2.Frame) -> None:
        payload = frame.SerializeToString()
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def receive(self) -> frame_pb2.Frame | None:
        """The next frame, or None when the server closed the connection."""
        header = self._exact(4)
        if header is None:
            return None
        (length,) = struct.unpack(">I", header)
        payload = self._exact(length) if length else b""
        if payload is None:
            return None
        return frame_pb2.Frame.FromString(payload)

    def until_status(self, call_id: int) -> tuple[list[frame_pb2.Frame], frame_pb2.Frame]:
        others = []
        while True:
            frame = self.receive()
            assert frame is not None, "connection closed before the status"
            if frame.call_id == call_id and frame.WhichOneof("body") == "status":
                return others, frame
            others.append(frame)

    def _exact(self, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            try:
                chunk = self.sock.recv(count - len(data))
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


def scripted_server(path: str, answer: Callable[[RawConnection], None]) -> threading.Thread:
    """A one-connection server on `path`: it answers Hello (frames up to 1 MiB, no limit
    on open calls), then `answer(raw)` plays the rest of the conversation."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(10)
        raw = RawConnection.__new__(RawConnection)
        raw.sock = conn
        hello = raw.receive()
        assert hello is not None and hello.WhichOneof("body") == "hello"
        reply = frame_pb2.Frame(call_id=0)
        reply.hello_reply.protocol_version = 1
        reply.hello_reply.limits.frame_bytes_max = 1 << 20
        raw.send(reply)
        answer(raw)
        conn.close()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread

"""Cross-language: what Python appends, the Swift CLI reads back identically, and the other
way round (`logbook read --json`, DESIGN §9), with non-ASCII text, binary data and metadata."""

from __future__ import annotations

import base64
import json
import uuid

import logbook_client
from logbook_client import EventData


def cli_view(event: logbook_client.RecordedEvent) -> dict:
    """The object `logbook read --json` prints for an event, computed from Python's view."""
    data = base64.b64encode(event.data).decode()
    if event.is_json:
        try:
            data = json.loads(event.data, parse_constant=_no_constants)
        except ValueError:
            pass  # not valid JSON: the CLI prints base64 as for any other payload
    return {
        "stream": event.stream,
        "revision": event.revision,
        "position": event.position,
        "id": str(event.id),
        "type": event.type,
        "time": event.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "content_type": event.content_type,
        "data": data,
        "metadata": dict(event.metadata),
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
    }


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def cli_read(cli, *args: str) -> list[dict]:
    output = cli("read", *args, "--json").stdout.decode("utf-8")
    return [json.loads(line) for line in output.splitlines() if line.strip()]


TEXT = "Grüße, 東京, naïve café — ✓ 🚀 \u00a0\u200b\"quoted\" \\ back\\slash\nnew line\ttab"


def test_python_appends_cli_reads(client, cli, name):
    stream = f"{name}-py"
    events = [
        EventData.json(
            "Grüße✓",
            {"text": TEXT, "n": 12345678901234, "nested": {"list": [1, 2.5, None, True]}},
            metadata={"emoji": "🚀", "ключ": "значение", "empty": "", "nl": "a\nb"},
            correlation_id="corr-ü",
            causation_id="caus-東",
        ),
        EventData("Binary", bytes(range(256)), content_type="application/octet-stream", metadata={"k": "v"}),
        EventData("Text", TEXT.encode(), content_type="text/plain; charset=utf-8"),
        EventData("NoData"),
        EventData.json("Scalar", "just a string ✓"),
        EventData("Vendor", b'{"a":1}', content_type="application/vnd.test+json"),
        EventData("BadJSON", b"{not json", content_type="application/json"),
    ]
    result = client.append(stream, events, expected=logbook_client.NO_STREAM)
    python = list(client.read(stream))
    printed = cli_read(cli, stream)
    assert printed == [cli_view(e) for e in python]
    for original, line in zip(events, printed):
        assert line["id"] == str(original.id)
        assert line["type"] == original.type
        assert line["metadata"] == dict(original.metadata)
        assert line["content_type"] == original.content_type
    assert printed[0]["data"]["text"] == TEXT
    assert base64.b64decode(printed[1]["data"]) == bytes(range(256))
    assert base64.b64decode(printed[2]["data"]).decode() == TEXT
    assert base64.b64decode(printed[6]["data"]) == b"{not json"  # not valid JSON: base64
    assert [line["position"] for line in printed] == list(result.positions)
    # Other selectors agree too.
    assert cli_read(cli, "--category", name) == [cli_view(e) for e in client.read(category=name)]
    assert cli_read(cli, "--correlation", "corr-ü") == [cli_view(e) for e in client.read(correlation_id="corr-ü")]
    assert cli_read(cli, stream, "--backward", "--limit", "2") == [
        cli_view(e) for e in client.read(stream, backwards=True, limit=2)
    ]


def test_cli_appends_python_reads(client, cli, name):
    stream = f"{name}-cli"
    event_id = uuid.uuid4()
    one = cli(
        "append", stream, "--type", "Ünïcode✓", "--data", json.dumps({"text": TEXT}, ensure_ascii=False),
        "--id", str(event_id), "--meta", "emoji=🚀", "--meta", "ключ=значение", "--meta", "eq=a=b",
        "--correlation", "corr-ü", "--causation", "caus-東", "--expect", "no-stream", "--json",
    )  # fmt: skip
    appended = json.loads(one.stdout)
    lines = [
        {"type": "Raw", "data": base64.b64encode(bytes(range(256))).decode(), "content_type": "application/octet-stream",
         "metadata": {"m": "ü"}},
        {"type": "Json", "data": [1, "zwei", {"drei": 3.0}], "correlation_id": "c2"},
        {"type": "Nothing", "data": None},
    ]  # fmt: skip
    batch = cli(
        "append", stream, "--expect", "0", "--json",
        input="\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode(),
    )  # fmt: skip
    batch_result = json.loads(batch.stdout)
    assert (batch_result["first_revision"], batch_result["last_revision"]) == (1, 3)

    events = list(client.read(stream))
    assert [e.revision for e in events] == [0, 1, 2, 3]
    first, raw, js, nothing = events
    assert first.id == event_id
    assert first.type == "Ünïcode✓"
    assert first.json() == {"text": TEXT}
    assert first.content_type == "application/json"
    assert first.metadata == {"emoji": "🚀", "ключ": "значение", "eq": "a=b"}
    assert (first.correlation_id, first.causation_id) == ("corr-ü", "caus-東")
    assert [first.position] == appended["positions"]
    assert raw.data == bytes(range(256)) and raw.content_type == "application/octet-stream"
    assert raw.metadata == {"m": "ü"}
    assert js.json() == [1, "zwei", {"drei": 3.0}] and js.correlation_id == "c2"
    assert nothing.json() is None
    assert [e.position for e in events[1:]] == batch_result["positions"]
    # And the CLI prints exactly what Python sees.
    assert cli_read(cli, stream) == [cli_view(e) for e in events]


def test_cli_sees_python_conflicts_the_same_way(client, cli, name):
    stream = f"{name}-1"
    client.append(stream, [EventData.json("A", {})])
    refused = cli("append", stream, "--type", "B", "--data", "{}", "--expect", "no-stream", check=False)
    assert refused.returncode == logbook_client.Code.FAILED_PRECONDITION
    try:
        client.append(stream, [EventData.json("B", {})], expected=logbook_client.NO_STREAM)
    except logbook_client.WrongExpectedRevision as error:
        assert error.code == refused.returncode

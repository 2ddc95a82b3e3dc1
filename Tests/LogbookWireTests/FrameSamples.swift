internal import LogbookWire
internal import Testing

/// A frame with a name that says what it covers, so a failing case reads well in the report.
struct NamedFrame: Sendable, CustomTestStringConvertible {
    var name: String
    var frame: Frame

    var testDescription: String { self.name }
}

/// Frames that together set every field of every logbook.v1 message to a value other than
/// its default, hold every member of every oneof and every value of every enum.
///
/// `MessageCoverageTests` checks that claim against Generated/Messages.swift, so a message
/// or field added to the protos without a sample here fails the build's tests.
enum FrameSamples {
    /// Every sample: one or more frames per `Frame.Body` case, then the edge cases.
    static let all: [NamedFrame] = Self.full + Self.edges

    /// A distinct string per field, so a value copied into the wrong field is caught; the
    /// tail has a 2-, a 3- and a 4-byte UTF-8 sequence.
    static func text(_ field: String) -> String { "\(field) ü€😀" }

    /// Bytes with NULs and high bytes, which anything treating them as a C string would cut
    /// or mangle; `seed` makes each field's bytes distinct.
    static func bytes(_ seed: UInt8) -> [UInt8] { [0x00, seed, 0xFF, 0x80, 0x00, 0x7F] }

    // MARK: - Building blocks

    static let metadata = [
        MetadataEntry(key: text("metadata.key.1"), value: text("metadata.value.1")),
        MetadataEntry(key: text("metadata.key.2"), value: text("metadata.value.2")),
    ]

    static func proposedEvent(_ n: UInt8) -> ProposedEvent {
        ProposedEvent(
            id: bytes(n),
            type: text("ProposedEvent.type \(n)"),
            data: bytes(n &+ 100),
            contentType: text("ProposedEvent.content_type \(n)"),
            metadata: metadata,
            correlationID: text("ProposedEvent.correlation_id \(n)"),
            causationID: text("ProposedEvent.causation_id \(n)")
        )
    }

    static func recordedEvent(_ n: UInt8) -> RecordedEvent {
        RecordedEvent(
            stream: text("RecordedEvent.stream \(n)"),
            revision: UInt64(n) + 1,
            position: UInt64.max - UInt64(n),
            id: bytes(n),
            type: text("RecordedEvent.type \(n)"),
            data: bytes(n &+ 100),
            contentType: text("RecordedEvent.content_type \(n)"),
            metadata: metadata,
            correlationID: text("RecordedEvent.correlation_id \(n)"),
            causationID: text("RecordedEvent.causation_id \(n)"),
            // A negative int64 takes the longest varint (10 bytes).
            timeUnixMicros: n.isMultiple(of: 2) ? Int64.min : 1_700_000_000_123_456
        )
    }

    /// One selector per member of `Selector.kind`.
    static let selectors: [Selector] = [
        Selector(kind: .stream(text("Selector.stream"))),
        Selector(kind: .all(Empty())),
        Selector(kind: .category(text("Selector.category"))),
        Selector(kind: .eventType(text("Selector.event_type"))),
        Selector(kind: .correlationID(text("Selector.correlation_id"))),
    ]

    /// One start per member of `StartFrom.kind`.
    static let starts: [StartFrom] = [
        StartFrom(kind: .start(Empty())),
        StartFrom(kind: .end(Empty())),
        StartFrom(kind: .revision(12_345)),
        StartFrom(kind: .position(UInt64.max)),
    ]

    static let filter = Filter(
        eventTypes: [text("Filter.event_types.1"), text("Filter.event_types.2")],
        streamPrefix: text("Filter.stream_prefix")
    )

    static func groupSettings(_ strategy: Strategy, _ n: Int) -> GroupSettings {
        GroupSettings(
            name: text("GroupSettings.name \(n)"),
            selector: selectors[n % selectors.count],
            from: starts[n % starts.count],
            filter: filter,
            strategy: strategy,
            maxInFlight: 100 + UInt32(n),
            ackTimeoutMs: 30_000,
            maxDeliveries: UInt32.max,
            retryBackoffMs: 250
        )
    }

    static func groupInfo(_ strategy: Strategy, _ n: Int) -> GroupInfo {
        GroupInfo(
            settings: groupSettings(strategy, n),
            checkpoint: 1 << 40,
            lag: 7,
            consumers: 3,
            inFlight: 99,
            parked: UInt64.max
        )
    }

    static func parkedEvent(_ n: UInt8) -> ParkedEvent {
        ParkedEvent(event: recordedEvent(n), reason: text("ParkedEvent.reason \(n)"), attempts: 5, parkedUnixMicros: -1)
    }

    static func viewDefinition(_ n: Int) -> ViewDefinition {
        ViewDefinition(
            name: text("ViewDefinition.name \(n)"),
            group: text("ViewDefinition.group \(n)"),
            indexedPaths: [text("$.customer.id"), text("$.total")]
        )
    }

    static let expectedExact = ExpectedRevision(kind: .exact, revision: 41)

    static let statusDetails: [Status.Detail] = [
        .wrongExpectedRevision(
            WrongExpectedRevision(
                stream: text("WrongExpectedRevision.stream"),
                expected: expectedExact,
                streamExists: true,
                actualRevision: 42
            )
        ),
        .eventIDConflict(
            EventIdConflict(eventID: bytes(0xEE), stream: text("EventIdConflict.stream"), revision: UInt64.max)
        ),
        .limitExceeded(LimitExceeded(limit: text("LimitExceeded.limit"), value: 17 << 20, max: 16 << 20)),
        .badField(BadField(field: text("BadField.field"), reason: text("BadField.reason"))),
        .streamDeleted(StreamDeleted(stream: text("StreamDeleted.stream"), hard: true)),
    ]

    // MARK: - The bodies

    static let bodies: [(String, Frame.Body)] = {
        var bodies: [(String, Frame.Body)] = []

        bodies.append(("hello", .hello(Hello(protocolVersion: 1, clientName: text("Hello.client_name")))))
        bodies.append((
            "helloReply",
            .helloReply(
                HelloReply(
                    serverVersion: text("HelloReply.server_version"),
                    protocolVersion: 1,
                    limits: Limits(
                        frameBytesMax: 16 << 20,
                        eventsPerAppendMax: 10_000,
                        eventBytesMax: 1 << 20,
                        openCallsPerConnectionMax: 128,
                        readBatchEventsMax: 512,
                        streamNameBytesMax: 255
                    ),
                    peerUid: 1000,
                    peerGid: UInt32.max,
                    peerPid: 4_194_304
                )
            )
        ))
        for (index, code) in Code.allCases.enumerated() {
            let status = Status(
                code: code,
                message: text("Status.message \(code)"),
                detail: statusDetails[index % statusDetails.count]
            )
            bodies.append(("status \(code)", .status(status)))
        }
        bodies.append(("cancel", .cancel(Cancel())))

        bodies.append((
            "appendRequest",
            .appendRequest(
                AppendRequest(
                    streams: ExpectedKind.allCases.enumerated().map { index, kind in
                        StreamAppend(
                            stream: text("StreamAppend.stream \(index)"),
                            expected: ExpectedRevision(kind: kind, revision: UInt64(index) * 1_000 + 1),
                            events: [proposedEvent(UInt8(2 * index)), proposedEvent(UInt8(2 * index + 1))]
                        )
                    }
                )
            )
        ))
        bodies.append((
            "appendReply",
            .appendReply(
                AppendReply(
                    streams: [
                        StreamAppendResult(
                            stream: text("StreamAppendResult.stream 1"),
                            firstRevision: 1,
                            lastRevision: 3,
                            positions: [1, 2, 300]
                        ),
                        StreamAppendResult(
                            stream: text("StreamAppendResult.stream 2"),
                            firstRevision: UInt64.max - 1,
                            lastRevision: UInt64.max,
                            positions: [UInt64.max - 1, UInt64.max]
                        ),
                    ],
                    commitTimeUnixMicros: 1_700_000_000_000_001
                )
            )
        ))

        for (index, selector) in selectors.enumerated() {
            let request = ReadRequest(
                selector: selector,
                from: starts[index % starts.count],
                direction: Direction.allCases[(index + 1) % Direction.allCases.count],
                maxCount: 1_000 + UInt64(index),
                filter: filter,
                asOfPosition: 77,
                asOfTimeUnixMicros: 1_700_000_000_000_000 + Int64(index),
                initialCredit: index.isMultiple(of: 2) ? 512 : UInt32.max
            )
            bodies.append(("readRequest \(index)", .readRequest(request)))
        }
        bodies.append((
            "eventBatch",
            .eventBatch(
                EventBatch(
                    events: [recordedEvent(1), recordedEvent(2)],
                    deliveries: [Delivery(deliveryID: 1, attempt: 1), Delivery(deliveryID: UInt64.max, attempt: 9)]
                )
            )
        ))

        bodies.append((
            "subscribeRequest catchUp",
            .subscribeRequest(
                SubscribeRequest(
                    initialCredit: 256,
                    target: .catchUp(CatchUp(selector: selectors[2], from: starts[3], filter: filter))
                )
            )
        ))
        bodies.append((
            "subscribeRequest group",
            .subscribeRequest(SubscribeRequest(initialCredit: UInt32.max, target: .group(text("SubscribeRequest.group"))))
        ))
        bodies.append(("caughtUp", .caughtUp(CaughtUp(position: 1 << 33))))
        bodies.append(("fellBehind", .fellBehind(FellBehind(position: 5))))
        bodies.append(("checkpoint", .checkpoint(Checkpoint(position: UInt64.max))))
        bodies.append(("credit", .credit(Credit(count: 64))))
        bodies.append((
            "ack",
            .ack(
                Ack(
                    deliveryIDs: [1, 128, UInt64.max],
                    viewWrites: [
                        ViewWrite(view: text("ViewWrite.view 1"), key: text("ViewWrite.key 1"), op: .put(text("{\"a\":\"ü\"}"))),
                        ViewWrite(view: text("ViewWrite.view 2"), key: text("ViewWrite.key 2"), op: .merge(text("{\"b\":null}"))),
                        ViewWrite(view: text("ViewWrite.view 3"), key: text("ViewWrite.key 3"), op: .remove(true)),
                        // A oneof member holding its default value is still set.
                        ViewWrite(view: text("ViewWrite.view 4"), key: text("ViewWrite.key 4"), op: .remove(false)),
                    ]
                )
            )
        ))
        for action in NackAction.allCases {
            let nack = Nack(deliveryIDs: [3, 4, 5], action: action, reason: text("Nack.reason \(action)"))
            bodies.append(("nack \(action)", .nack(nack)))
        }
        bodies.append(("settled", .settled(Settled(deliveryIDs: [3, 5, UInt64.max]))))

        let keys: [QueryRequest.Keys] = [.key(text("QueryRequest.key")), .keyPrefix(text("QueryRequest.key_prefix"))]
        for (index, key) in keys.enumerated() {
            let request = QueryRequest(
                view: text("QueryRequest.view \(index)"),
                predicates: PredicateOp.allCases.map { op in
                    Predicate(path: text("$.field.\(op)"), op: op, values: [text("\"one\""), text("\"two\"")])
                },
                orderBy: text("QueryRequest.order_by"),
                descending: true,
                limit: 50,
                cursor: bytes(0xC0),
                minPosition: 9_999,
                waitMs: 1_500,
                asOfPosition: 123,
                asOfTimeUnixMicros: -42,
                keys: key
            )
            bodies.append(("queryRequest \(index)", .queryRequest(request)))
        }
        bodies.append((
            "queryReply",
            .queryReply(
                QueryReply(
                    rows: [
                        Row(key: text("Row.key 1"), json: text("{\"n\":1}")),
                        Row(key: text("Row.key 2"), json: text("{\"n\":2}")),
                    ],
                    asOfPosition: 1 << 50,
                    nextCursor: bytes(0xC1)
                )
            )
        ))

        let adminOps: [AdminRequest.Op] = [
            .createGroup(groupSettings(.roundRobin, 0)),
            .updateGroup(groupSettings(.single, 1)),
            .deleteGroup(text("AdminRequest.delete_group")),
            .listGroups(Empty()),
            .groupInfo(text("AdminRequest.group_info")),
            .resetGroup(ResetGroup(name: text("ResetGroup.name"), toPosition: 88, clearViews: true)),
            .listParked(ListParked(group: text("ListParked.group"), afterPosition: 1 << 20, limit: 10)),
            .replayParked(text("AdminRequest.replay_parked")),
            .defineView(viewDefinition(0)),
            .dropView(text("AdminRequest.drop_view")),
            .listViews(Empty()),
            .deleteStream(DeleteStream(stream: text("DeleteStream.stream"), expected: expectedExact, hard: true)),
            .metrics(Empty()),
            .setStreamMetadata(SetStreamMetadata(
                stream: text("SetStreamMetadata.stream"),
                metadata: StreamMetadata(maxCount: 10, maxAgeSeconds: 1 << 40, truncateBefore: 7))),
            .getStreamMetadata(text("AdminRequest.get_stream_metadata")),
        ]
        for (index, op) in adminOps.enumerated() {
            bodies.append(("adminRequest \(index)", .adminRequest(AdminRequest(op: op))))
        }
        let adminResults: [AdminReply.Result] = [
            .done(Empty()),
            .group(groupInfo(.byStream, 2)),
            .groups(GroupList(groups: [groupInfo(.roundRobin, 3), groupInfo(.single, 4)])),
            .parked(ParkedList(events: [parkedEvent(7), parkedEvent(8)])),
            .views(ViewList(views: [viewDefinition(1), viewDefinition(2)])),
            .metrics(text("AdminReply.metrics")),
            .streamInfo(StreamInfo(
                stream: text("StreamInfo.stream"), metadata: StreamMetadata(maxCount: 1, maxAgeSeconds: 2, truncateBefore: 3),
                exists: true, lastRevision: 1 << 50, deleted: true, tombstoned: true)),
        ]
        for (index, result) in adminResults.enumerated() {
            bodies.append(("adminReply \(index)", .adminReply(AdminReply(result: result))))
        }
        bodies.append(("backupRequest", .backupRequest(BackupRequest(initialCredit: 4))))
        bodies.append(("backupChunk", .backupChunk(BackupChunk(path: text("BackupChunk.path"), offset: 1 << 40, data: bytes(0xB1)))))
        bodies.append(("backupManifest", .backupManifest(BackupManifest(
            position: 1 << 45, engine: text("BackupManifest.engine"), schemaVersion: 5,
            serverVersion: text("BackupManifest.server_version"), createdUnixMicros: -1_700_000_000_000_000,
            files: [
                BackupFile(path: text("BackupFile.path 1"), bytes: 1 << 33, crc32c: .max, restoredBytes: 64 << 20),
                BackupFile(path: text("BackupFile.path 2"), bytes: 4096, crc32c: 1, restoredBytes: 0),
            ]))))
        return bodies
    }()

    /// Every body in a frame whose call id and timeout are set too; the call ids grow past
    /// one varint byte, and the first one is the largest possible.
    static let full: [NamedFrame] = bodies.enumerated().map { index, entry in
        let callID = index == 0 ? UInt64.max : UInt64(index) * 1_000
        return NamedFrame(name: entry.0, frame: Frame(callID: callID, timeoutMs: 60_000 + UInt64(index), body: entry.1))
    }

    /// Values that sit on the edge of proto3's rules: defaults, which are not written, and
    /// presence that must survive even when the value inside is the default.
    static let edges: [NamedFrame] = [
        NamedFrame(name: "edge: empty frame", frame: Frame()),
        NamedFrame(name: "edge: no body, call id only", frame: Frame(callID: 1)),
        NamedFrame(name: "edge: empty hello", frame: Frame(body: .hello(Hello()))),
        NamedFrame(name: "edge: empty cancel", frame: Frame(callID: 3, body: .cancel(Cancel()))),
        NamedFrame(
            name: "edge: oneof members holding defaults",
            frame: Frame(
                callID: 4,
                body: .readRequest(ReadRequest(selector: Selector(kind: .stream("")), from: StartFrom(kind: .revision(0))))
            )
        ),
        NamedFrame(
            name: "edge: sub-messages present but empty",
            frame: Frame(
                callID: 5,
                body: .readRequest(ReadRequest(selector: Selector(), from: StartFrom(), filter: Filter()))
            )
        ),
        NamedFrame(name: "edge: empty group info", frame: Frame(callID: 6, body: .adminReply(AdminReply(result: .group(GroupInfo()))))),
        NamedFrame(name: "edge: empty admin request", frame: Frame(callID: 7, body: .adminRequest(AdminRequest()))),
        NamedFrame(
            name: "edge: repeated fields holding empty values",
            frame: Frame(
                callID: 8,
                body: .appendRequest(
                    AppendRequest(streams: [StreamAppend(), StreamAppend(events: [ProposedEvent(), ProposedEvent(metadata: [MetadataEntry()])])])
                )
            )
        ),
        NamedFrame(name: "edge: large frame", frame: Self.large),
    ]

    /// About 1.5 MB, so decoding needs more than the arena's first block.
    static let large: Frame = {
        let longText = String(repeating: "ü€😀", count: 50_000)
        let events = (0..<3).map { index in
            RecordedEvent(
                stream: longText,
                revision: UInt64(index),
                data: (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) },
                metadata: (0..<1_000).map { MetadataEntry(key: "key \($0)", value: "value \($0) ü") }
            )
        }
        return Frame(callID: 9, body: .eventBatch(EventBatch(events: events)))
    }()
}

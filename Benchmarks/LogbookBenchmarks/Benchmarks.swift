import Benchmark
import Foundation
import Logging
import LogbookStorage
import LogbookWire
import NIOCore

/// The hot paths of the request path, measured by package-benchmark with its malloc
/// interposer: allocations per operation are what noise does not move (DESIGN §9). Run with
/// `LOGBOOK_BENCHMARKS=1 swift package benchmark` (Benchmarks/README.md).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .wallClock, .throughput],
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )

    Benchmark("Decode an append frame (1 event of 200 bytes)") { benchmark in
        let decoder = FrameDecoder(frameBytesMax: 16 << 20)
        let encoded = try Samples.encoded(Samples.appendFrame)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var buffer = encoded
            blackHole(try decoder.decodeFrame(from: &buffer))
        }
    }

    Benchmark("Encode a read's batch of 500 events") { benchmark in
        try Samples.encode(Frame(callID: 1, body: .eventBatch(EventBatch(events: (1...500).map(Samples.event)))), benchmark)
    }

    Benchmark("Encode a delivery (1 event to a group consumer)") { benchmark in
        try Samples.encode(
            Frame(callID: 1, body: .eventBatch(EventBatch(events: [Samples.event(1)], deliveries: [Delivery(deliveryID: 1, attempt: 1)]))),
            benchmark)
    }

    // Each sample sets a store up, so it looks up a thousand documents: the figures are per
    // lookup (the scaled metrics, marked *). The reader is an event loop's own connection;
    // the store's pool of readers is the way every other query goes.
    let lookup = Benchmark.Configuration(
        metrics: [.mallocCountTotal, .wallClock, .throughput], scalingFactor: .kilo, maxDuration: .seconds(4))
    Benchmark("Look a view document up by key (1,000 documents), event loop's reader", configuration: lookup) { benchmark in
        try await Samples.lookUp(benchmark) { store in
            let reader = try store.makeViewLookupReader()
            return (reader.query, reader.close)
        }
    }
    Benchmark("Look a view document up by key (1,000 documents), the store's pool", configuration: lookup) { benchmark in
        try await Samples.lookUp(benchmark) { store in (store.query, {}) }
    }
}

enum Samples {
    static let payload = [UInt8](repeating: 0x78, count: 200)

    static let appendFrame = Frame(callID: 7, body: .appendRequest(AppendRequest(streams: [
        StreamAppend(stream: "order-42", events: [
            ProposedEvent(id: Array(repeating: 1, count: 16), type: "OrderPlaced", data: payload, contentType: "application/json"),
        ]),
    ])))

    static func event(_ position: Int) -> LogbookWire.RecordedEvent {
        LogbookWire.RecordedEvent(
            stream: "order-\(position % 100)", revision: UInt64(position / 100), position: UInt64(position),
            id: Array(repeating: UInt8(position % 256), count: 16), type: "OrderPlaced", data: payload,
            contentType: "application/json", timeUnixMicros: 1_765_000_000_000_000)
    }

    /// Runs `benchmark`'s iterations as encodings of `frame` by one connection's encoder
    /// into one buffer, as a connection's writes reuse them.
    static func encode(_ frame: Frame, _ benchmark: Benchmark) throws {
        let encoder = FrameEncoder(frameBytesMax: 16 << 20)
        var buffer = ByteBuffer()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            buffer.clear()
            try encoder.encode(data: frame, out: &buffer)
            blackHole(buffer.readableBytes)
        }
    }

    /// The frame as it travels: length prefix and payload.
    static func encoded(_ frame: Frame) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try frame.encode(into: &buffer)
        return buffer
    }

    /// Runs `benchmark`'s iterations as lookups by key through what `make` gives for a store
    /// of 1,000 documents, after one lookup to warm it.
    static func lookUp(
        _ benchmark: Benchmark,
        _ make: (EventStore) throws -> (query: (ViewQuery) throws -> ViewPage, close: () -> Void)
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logbook-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await Self.storeWithView(directory: directory, documents: 1_000)
        let (query, close) = try make(store)
        let queries = (0..<1_000).map { ViewQuery(view: "v", keys: .key("k\($0)")) }
        _ = try query(queries[0])
        var index = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try query(queries[index]))
            index = (index + 1) % queries.count
        }
        benchmark.stopMeasurement()
        close()
        await store.close()
    }

    /// A store with group `g` and its view `v` holding `documents` documents `k0`, `k1`, ….
    static func storeWithView(directory: String, documents: Int) async throws -> EventStore {
        let store = try EventStore(
            directory: directory, sync: .normal, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
        _ = try await store.createGroup(GroupDefinition(
            name: "g", selector: .all, start: .start, filter: ReadFilter(), strategy: .byStream, maxInFlight: 16,
            ackTimeoutMilliseconds: 5_000, maxDeliveries: 4, retryBackoffMilliseconds: 50))
        try await store.defineView(ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"]))
        let writes = (0..<documents).map { ViewWrite(view: "v", key: "k\($0)", operation: .put(#"{"n":\#($0)}"#)) }
        _ = try await store.saveGroupProgress("g", checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: writes)
        return store
    }
}

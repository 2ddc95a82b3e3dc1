internal import Logbook

/// The send time a subscription benchmark stamps into each event's first 8 bytes: the
/// monotonic clock reading (``System/monotonicNanoseconds()``) just before the append, which a subscriber subtracts from the
/// time it receives the event. Appenders and subscribers share the host's clock, so the
/// latency is append → commit → delivery as a projection would see it.
enum SendStamp {
    /// Connections that append while the subscribers follow, as issue 3 asks ("under 50
    /// appending clients").
    static let appenders = 50

    /// Appends `total` events from the `appenders` at once, one per append, each `template`
    /// stamped with its send time; `stream(appender, sequence)` names each event's stream.
    static func append(
        _ template: [UInt8],
        total: Int,
        from appenders: [LogbookClient],
        stream: @escaping @Sendable (_ appender: Int, _ sequence: Int) -> String
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, share) in BenchHarness.split(total, into: appenders.count).enumerated() {
                let client = appenders[index]
                group.addTask {
                    var data = template
                    for sequence in 0..<share.count {
                        Self.set(System.monotonicNanoseconds(), in: &data)
                        _ = try await client.append(to: stream(index, sequence), events: [EventData(type: "BenchEvent", data: data)])
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Writes the send time into the first 8 bytes, big-endian.
    static func set(_ nanoseconds: UInt64, in data: inout [UInt8]) {
        for index in 0..<8 {
            data[index] = UInt8(truncatingIfNeeded: nanoseconds >> (56 - 8 * UInt64(index)))
        }
    }

    /// The send time in an event's first 8 bytes; 0 when it has fewer.
    static func read(_ data: [UInt8]) -> UInt64 {
        guard data.count >= 8 else { return 0 }
        var value: UInt64 = 0
        for index in 0..<8 {
            value = value << 8 | UInt64(data[index])
        }
        return value
    }
}

extension Latencies {
    /// Records the time from the send time stamped in `data` until now.
    mutating func record(sinceStampIn data: [UInt8]) {
        let now = System.monotonicNanoseconds()
        let sent = SendStamp.read(data)
        self.record(microseconds: now >= sent ? (now - sent) / 1000 : 0)
    }

    /// Records the time from an event's commit (the time the daemon stamped it with, on
    /// this host's wall clock) until now.
    mutating func record(sinceCommitAt timeUnixMicros: Int64) {
        let now = System.wallMicroseconds()
        self.record(microseconds: now >= timeUnixMicros ? UInt64(now - timeUnixMicros) : 0)
    }
}

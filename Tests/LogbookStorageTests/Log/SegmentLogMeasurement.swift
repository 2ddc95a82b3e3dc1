internal import Foundation
#if canImport(Glibc)
internal import Glibc
#endif
@testable internal import LogbookStorage
internal import Testing

/// Events/s and writer CPU per record for 200-byte payloads at 1, 50 and 1000 records per
/// `fdatasync`, printed beside DESIGN.md §4's "plain append-only file" row. A measurement,
/// not a timed test: nothing here asserts a time. Runs only when asked:
/// `LOGBOOK_LOG_MEASURE=1 swift test -c release -Xswiftc -enable-testing --filter SegmentLogMeasurement`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LOGBOOK_LOG_MEASURE"] != nil))
struct SegmentLogMeasurement {
    @Test func appendThroughput() throws {
        let payload = [UInt8](repeating: 0x5A, count: 200)
        let cases: [(perSync: Int, records: Int, design: String)] = [
            (1, 5_000, "—"), (50, 200_000, "~240k/s"), (1_000, 1_000_000, "~2.9M/s"),
        ]
        print("segment log, 200-byte payloads, SyncMode.full, default 64 MiB segments")
        print("| records per fdatasync | events/s | writer CPU per record (user + sys) | DESIGN §4 plain file |")
        print("| --- | --- | --- | --- |")
        for (perSync, records, design) in cases {
            try LogFixture.with { fixture in
                let log = try fixture.open(try LogConfiguration())
                var batch = LogBatch()
                var head: UInt64 = 0
                let clock = ContinuousClock()
                let cpuBefore = Self.threadCPU()
                let elapsed = try clock.measure {
                    while head < UInt64(records) {
                        for position in (head + 1)...(head + UInt64(perSync)) {
                            try batch.append(position: position, payload: payload)
                        }
                        head = try log.append(&batch)
                    }
                }
                let cpu = Self.threadCPU()
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                let user = (cpu.user - cpuBefore.user) / Double(records) * 1e6
                let system = (cpu.system - cpuBefore.system) / Double(records) * 1e6
                print(
                    "| \(perSync) | \(Int(Double(records) / seconds)) | \(String(format: "%.2f + %.2f µs", user, system)) | \(design) |"
                )
                #expect(log.headPosition == UInt64(records))
                #expect(try log.read(from: UInt64(records), direction: .forwards, countMax: 1, bytesMax: .max).first?.payload.count == 200)
            }
        }
    }

    /// User and system CPU seconds of the calling thread.
    static func threadCPU() -> (user: Double, system: Double) {
        var usage = rusage()
        // RUSAGE_THREAD (1) is Linux-only, so Glibc's module does not export the name.
        getrusage(__rusage_who_t(1), &usage)
        return (
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6,
            Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
        )
    }
}

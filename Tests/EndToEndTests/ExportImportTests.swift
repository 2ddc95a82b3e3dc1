internal import Foundation
internal import Logbook
internal import Testing

/// `logbook export` and `logbook import` (issue 15) between two real daemons: a round trip
/// keeps every event's id, stream order, type, data byte for byte, metadata, correlation
/// and causation; importing again appends nothing.
@Suite("Export and import", .serialized)
final class ExportImportTests {
    let source: Daemon
    let target: Daemon
    let file: URL

    init() throws {
        self.source = try Daemon()
        try self.source.start()
        self.target = try Daemon()
        try self.target.start()
        self.file = self.source.directory.appendingPathComponent("export.jsonl")
    }

    private func run(_ daemon: Daemon, _ arguments: [String], stdin: String? = nil, expect status: Int32 = 0) throws -> CLI.Result {
        let result = try CLI(socketPath: daemon.socketPath).run(arguments, stdin: stdin)
        #expect(result.status == status, "logbook \(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }

    /// The exported objects without what belongs to the log that wrote them.
    private static func withoutPositionsAndTimes(_ result: CLI.Result) throws -> [NSDictionary] {
        try result.json().map { object in
            var object = object
            object["position"] = nil
            object["time"] = nil
            return object as NSDictionary
        }
    }

    @Test func aRoundTripKeepsEveryEventAndAReimportAppendsNothing() async throws {
        // JSON with whitespace (exact bytes), binary data, metadata, correlation and causation,
        // and one stream longer than an import batch.
        _ = try self.run(self.source, ["append", "order-1", "--type", "Placed", "--data", "{ \"total\" : 10,\n \"x\": [1, 2] }", "--meta", "k=v", "--correlation", "c-1"])
        _ = try self.run(self.source, ["append", "blob-1"], stdin: #"{"type":"Bin","content_type":"application/octet-stream","data":"AAEC/w=="}"# + "\n")
        _ = try self.run(self.source, ["append", "order-2", "--type", "N"], stdin: (1...250).map { #"{"n":\#($0)}"# + "\n" }.joined())
        _ = try self.run(self.source, ["append", "order-1", "--type", "Paid", "--data", "{}", "--causation", "c-2"])

        let exported = try self.run(self.source, ["export"])
        #expect(exported.lines.count == 253)
        #expect(exported.stderr.contains("exported 253 events up to position 253"))
        try exported.stdout.write(to: self.file, atomically: true, encoding: .utf8)

        let imported = try self.run(self.target, ["import", self.file.path])
        #expect(imported.stderr.contains("imported 253 events"), "\(imported.stderr)")
        let again = try self.run(self.target, ["export"])
        #expect(try Self.withoutPositionsAndTimes(again) == Self.withoutPositionsAndTimes(exported))

        // The data is the same bytes, whitespace and all.
        let client = try await LogbookClient.connect(socketPath: self.target.socketPath)
        defer { Task { await client.close() } }
        var first: RecordedEvent?
        for try await event in client.read(.stream("order-1"), limit: 1) { first = event }
        #expect(first.map { String(decoding: $0.data, as: UTF8.self) } == "{ \"total\" : 10,\n \"x\": [1, 2] }")

        // Importing again is a retry of every append: nothing new.
        _ = try self.run(self.target, ["import", self.file.path])
        #expect(try self.run(self.target, ["export"]).lines.count == 253)
    }

    @Test func aBadLineStopsTheImportThereNamingIt() throws {
        _ = try self.run(self.source, ["append", "s-1", "--type", "T", "--data", "{}"])
        _ = try self.run(self.source, ["append", "s-2", "--type", "T", "--data", "{}"])
        let lines = try self.run(self.source, ["export"]).lines
        let broken = [lines[0], #"{"type":"T","data":{}}"#, lines[1]].joined(separator: "\n") + "\n"
        try broken.write(to: self.file, atomically: true, encoding: .utf8)

        let refused = try self.run(self.target, ["import", self.file.path], expect: 65)
        #expect(refused.stderr.contains("\(self.file.path):2: the event has no \"stream\""), "\(refused.stderr)")
        #expect(refused.stderr.contains("the 1 events before it are imported"), "\(refused.stderr)")
        #expect(try self.run(self.target, ["read", "--all", "--json"]).lines.count == 1)
        _ = try self.run(self.target, ["import", "/nonexistent/file.jsonl"], expect: 1)
    }

    @Test func anEmptyLogExportsNothing() throws {
        let exported = try self.run(self.source, ["export"])
        #expect(exported.stdout.isEmpty)
        #expect(exported.stderr.contains("exported 0 events"))
        // From standard input too.
        let imported = try self.run(self.target, ["import", "-"], stdin: "")
        #expect(imported.stderr.contains("imported 0 events"))
    }
}

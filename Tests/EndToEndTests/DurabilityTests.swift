internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// What a daemon acknowledged survives restarts, `kill -9`, and shutdown mid-stream.
@Suite("Durability", .serialized, .blocksItsThread)
struct DurabilityTests {
    private func readAll(_ daemon: Daemon) throws -> [RecordedEvent] {
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let result = try client.call(1, .readRequest(ReadRequest(selector: Selector(kind: .all(Empty())))))
        #expect(result.status.code == .ok, "\(result.status)")
        return result.frames.flatMap { frame -> [RecordedEvent] in
            if case .eventBatch(let batch) = frame.body { return batch.events }
            return []
        }
    }

    /// Appends sequentially, one call at a time; returns each acknowledged event's position.
    private func appendAcknowledged(_ daemon: Daemon, count: Int, stream: (Int) -> String) throws -> [UInt64: String] {
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        var acknowledged: [UInt64: String] = [:]
        for index in 0..<count {
            let result = try client.call(UInt64(index + 1), .appendRequest(.single(stream(index), data: "{\"i\":\(index)}")))
            try #require(result.status.code == .ok, "\(result.status)")
            guard case .appendReply(let reply) = result.frames.first?.body else {
                Issue.record("no AppendReply")
                continue
            }
            acknowledged[reply.streams[0].positions[0]] = "{\"i\":\(index)}"
        }
        return acknowledged
    }

    @Test func restartKeepsEveryEvent() throws {
        let daemon = try Daemon()
        try daemon.start()
        let acknowledged = try self.appendAcknowledged(daemon, count: 300) { "restart-\($0 % 13)" }
        let before = try self.readAll(daemon)
        #expect(daemon.stop(signal: SIGTERM) == 0, "a clean shutdown exits 0: \(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), "the socket is removed on shutdown")
        try daemon.start()
        let after = try self.readAll(daemon)
        #expect(after == before)
        #expect(after.count == acknowledged.count)
        #expect(after.map(\.position) == Array(1...UInt64(acknowledged.count)))
        // Revisions keep counting from where they were.
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let next = try client.call(1, .appendRequest(.single("restart-0")))
        guard case .appendReply(let reply) = next.frames.first?.body else {
            Issue.record("no reply: \(next.status)")
            return
        }
        #expect(reply.streams[0].firstRevision == UInt64((0..<300).filter { $0 % 13 == 0 }.count))
    }

    @Test func killNineLosesNothingAcknowledged() throws {
        let daemon = try Daemon()
        try daemon.start()
        let acknowledged = try self.appendAcknowledged(daemon, count: 500) { "kill-\($0 % 17)" }
        daemon.stop(signal: SIGKILL)
        #expect(FileManager.default.fileExists(atPath: daemon.socketPath), "a killed daemon leaves its socket behind")
        try daemon.start()  // replaces the stale socket
        let events = try self.readAll(daemon)
        #expect(events.count == acknowledged.count)
        for event in events {
            #expect(acknowledged[event.position] == String(decoding: event.data, as: UTF8.self))
        }
    }

    @Test func secondDaemonDoesNotTakeOverALiveSocket() throws {
        let first = try Daemon()
        try first.start()
        let second = Process()
        second.executableURL = Daemon.binDirectory.appendingPathComponent("logbookd")
        second.arguments = ["--socket", first.socketPath, "--data", first.dataPath + "-other"]
        let err = Pipe()
        second.standardError = err
        try second.run()
        second.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus != 0)
        #expect(message.contains("already serving"), "\(message)")
        #expect(RawClient.canConnect(first.socketPath), "the first daemon keeps its socket")

        // Nor does one on another socket share the first one's data directory.
        let third = Process()
        third.executableURL = Daemon.binDirectory.appendingPathComponent("logbookd")
        third.arguments = ["--socket", first.socketPath + "-other", "--data", first.dataPath]
        let thirdErr = Pipe()
        third.standardError = thirdErr
        try third.run()
        third.waitUntilExit()
        let thirdMessage = String(decoding: thirdErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(third.terminationStatus != 0)
        #expect(thirdMessage.contains("is using the data directory"), "\(thirdMessage)")
    }

    @Test func aDamagedDatabaseIsRefusedAndLeftAlone() throws {
        let daemon = try Daemon()
        try FileManager.default.createDirectory(
            atPath: daemon.dataPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let database = daemon.dataPath + "/logbook.sqlite"
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: database))
        let process = Process()
        process.executableURL = Daemon.binDirectory.appendingPathComponent("logbookd")
        process.arguments = ["--socket", daemon.socketPath, "--data", daemon.dataPath]
        let err = Pipe()
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 1)
        #expect(message.contains(database), "the refusal names the file: \(message)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: database)) == garbage, "the file is left byte for byte")
        #expect(!RawClient.canConnect(daemon.socketPath))
    }

    @Test func sigtermDuringAppendsAnswersEveryAcceptedAppend() throws {
        let daemon = try Daemon()
        try daemon.start()
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let total = 4000
        // Keep at most 128 appends in flight: the server refuses calls past its open-call limit.
        let window = DispatchSemaphore(value: 128)
        let sender = Thread {
            for index in 1...total {
                window.wait()
                let frame = Frame(callID: UInt64(index), body: .appendRequest(.single("term-\(index % 5)", data: "{\"i\":\(index)}")))
                guard (try? client.send(frame)) != nil else { return }
            }
        }
        sender.start()
        var ok: Set<UInt64> = []
        var refused: Set<UInt64> = []
        var replied: Set<UInt64> = []
        var signalled = false
        while let frame = try client.receive() {
            switch frame.body {
            case .appendReply:
                replied.insert(frame.callID)
            case .status(let status) where frame.callID != 0:
                window.signal()
                if status.code == .ok { ok.insert(frame.callID) } else { refused.insert(frame.callID) }
                #expect(status.code == .ok || status.code == .unavailable, "call \(frame.callID): \(status)")
            default:
                break
            }
            if !signalled, ok.count >= 200 {
                kill(daemon.process!.processIdentifier, SIGTERM)
                signalled = true
            }
        }
        // Release the sender, and leave the semaphore at or above its initial value
        // (libdispatch traps when one is freed below it).
        for _ in 0..<total { window.signal() }
        #expect(signalled)
        #expect(daemon.stop(signal: SIGTERM) == 0, "\(daemon.log)")
        #expect(replied == ok, "every OK carries an AppendReply")
        try daemon.start()
        let events = try self.readAll(daemon)
        // Exactly the acknowledged appends are in the log: none accepted and lost, none
        // written without its client hearing so.
        let written = Set(events.map { event -> UInt64 in
            let text = String(decoding: event.data, as: UTF8.self)
            return UInt64(text.dropFirst(5).dropLast()) ?? 0
        })
        #expect(written == ok)
        #expect(ok.isDisjoint(with: refused))
    }
}

internal import LogbookWire
internal import Testing

@testable internal import LogbookServer

@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    private func opened(openCallsMax: Int = 4) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(openCallsMax: openCallsMax, protocolVersion: 1)
        _ = machine.receive(Frame(callID: 0, body: .hello(Hello(protocolVersion: 1, clientName: "t"))))
        return machine
    }

    private func append(_ callID: UInt64) -> Frame {
        Frame(callID: callID, body: .appendRequest(AppendRequest()))
    }

    private func read(_ callID: UInt64) -> Frame {
        Frame(callID: callID, body: .readRequest(ReadRequest()))
    }

    @Test func helloOpensTheConnection() {
        var machine = ConnectionStateMachine(openCallsMax: 4, protocolVersion: 1)
        let hello = Hello(protocolVersion: 1, clientName: "t")
        #expect(machine.receive(Frame(callID: 0, body: .hello(hello))) == .sendHelloReply(hello))
        #expect(machine.receive(self.append(1)) == .startCall(1, self.append(1)))
    }

    @Test(arguments: [
        Frame(callID: 1, body: .appendRequest(AppendRequest())),
        Frame(callID: 0, body: .readRequest(ReadRequest())),
        Frame(callID: 5, body: .hello(Hello(protocolVersion: 1))),
        Frame(callID: 0, body: nil),
    ])
    func anythingButHelloFirstClosesTheConnection(frame: Frame) {
        var machine = ConnectionStateMachine(openCallsMax: 4, protocolVersion: 1)
        guard case .closeConnection(let status) = machine.receive(frame) else {
            Issue.record("expected the connection to close")
            return
        }
        #expect(status.code == .invalidArgument)
        #expect(machine.receive(self.append(1)) == .none, "a closed connection ignores later frames")
    }

    @Test func wrongProtocolVersionIsRefused() {
        var machine = ConnectionStateMachine(openCallsMax: 4, protocolVersion: 1)
        guard case .closeConnection(let status) = machine.receive(Frame(callID: 0, body: .hello(Hello(protocolVersion: 2)))) else {
            Issue.record("expected the connection to close")
            return
        }
        #expect(status.code == .failedPrecondition)
    }

    @Test func secondHelloAndCallZeroCloseTheConnection() {
        var machine = self.opened()
        guard case .closeConnection = machine.receive(Frame(callID: 0, body: .hello(Hello(protocolVersion: 1)))) else {
            Issue.record("a second Hello must close")
            return
        }
        var other = self.opened()
        guard case .closeConnection = other.receive(self.read(0)) else {
            Issue.record("a call on id 0 must close")
            return
        }
    }

    @Test func reusedCallIDClosesTheConnection() {
        var machine = self.opened()
        _ = machine.receive(self.append(7))
        guard case .closeConnection(let status) = machine.receive(self.read(7)) else {
            Issue.record("expected close")
            return
        }
        #expect(status.message.contains("already open"))
    }

    @Test func serverFramesFromAClientCloseTheConnection() {
        var machine = self.opened()
        guard case .closeConnection = machine.receive(Frame(callID: 3, body: .status(Status(code: .ok)))) else {
            Issue.record("expected close")
            return
        }
    }

    @Test func aBackupIsACallAndItsChunksComeOnlyFromTheServer() {
        var machine = self.opened()
        let backup = Frame(callID: 2, body: .backupRequest(BackupRequest(initialCredit: 4)))
        #expect(machine.receive(backup) == .startCall(2, backup))
        let credit = Frame(callID: 2, body: .credit(Credit(count: 1)))
        #expect(machine.receive(credit) == .forward(2, credit))
        for body: Frame.Body in [.backupChunk(BackupChunk(path: "logbook.sqlite")), .backupManifest(BackupManifest())] {
            var other = self.opened()
            guard case .closeConnection(let status) = other.receive(Frame(callID: 3, body: body)) else {
                Issue.record("a client's \(body.name) must close the connection")
                continue
            }
            #expect(status.message.contains(body.name))
        }
    }

    @Test func openCallsAreLimited() {
        var machine = self.opened(openCallsMax: 2)
        #expect(machine.receive(self.append(1)) == .startCall(1, self.append(1)))
        #expect(machine.receive(self.append(2)) == .startCall(2, self.append(2)))
        guard case .rejectCall(3, let status) = machine.receive(self.append(3)) else {
            Issue.record("the third call must be refused")
            return
        }
        #expect(status.code == .resourceExhausted)
        #expect(machine.callFinished(1) == .none)
        #expect(machine.receive(self.append(3)) == .startCall(3, self.append(3)))
    }

    @Test func cancelReachesOnlyOpenCalls() {
        var machine = self.opened()
        _ = machine.receive(self.read(4))
        let cancel = Frame(callID: 4, body: .cancel(Cancel()))
        #expect(machine.receive(cancel) == .forward(4, cancel))
        #expect(machine.callFinished(4) == .none)
        #expect(machine.receive(cancel) == .none, "a Cancel after the call ended is ignored")
    }

    @Test func drainingCancelsReadsKeepsAppendsAndClosesWhenEmpty() {
        var machine = self.opened()
        _ = machine.receive(self.append(1))
        _ = machine.receive(self.read(2))
        _ = machine.receive(self.append(3))
        let (cancel, closeNow) = machine.startDraining()
        #expect(cancel == [2])
        #expect(!closeNow)
        guard case .rejectCall(9, let status) = machine.receive(self.append(9)) else {
            Issue.record("new calls are refused while draining")
            return
        }
        #expect(status.code == .unavailable)
        #expect(machine.callFinished(2) == .none)
        #expect(machine.callFinished(1) == .none)
        #expect(machine.callFinished(3) == .closeConnection)
    }

    @Test func aRefusedRequestFrameIsAnsweredOnItsCallAlone() {
        var machine = self.opened()
        _ = machine.receive(self.read(2))
        let status = Status(code: .invalidArgument, message: "a string in the frame holds a NUL character")
        #expect(machine.refuse(9, status) == .rejectCall(9, status))
        #expect(machine.receive(self.append(10)) == .startCall(10, self.append(10)), "the connection goes on")
        guard case .closeConnection = machine.refuse(2, status) else {
            Issue.record("a refused frame for an open call ends the connection")
            return
        }
        var fresh = ConnectionStateMachine(openCallsMax: 4, protocolVersion: 1)
        guard case .closeConnection = fresh.refuse(1, status) else {
            Issue.record("before Hello a refused frame ends the connection")
            return
        }
    }

    @Test func aBadFrameWhileDrainingClosesTheConnectionOnce() {
        // Found by the connection fuzz target: the machine stayed draining, so a later
        // bad frame or the last call's end answered a second close.
        var machine = self.opened()
        _ = machine.receive(self.append(1))
        _ = machine.startDraining()
        guard case .closeConnection = machine.receive(Frame(callID: 0, body: .cancel(Cancel()))) else {
            Issue.record("a frame on call 0 closes the connection while draining too")
            return
        }
        #expect(machine.receive(Frame(callID: 3, body: .hello(Hello(protocolVersion: 1)))) == .none)
        #expect(machine.callFinished(1) == .none)
    }

    @Test func drainingAnIdleConnectionClosesAtOnce() {
        var machine = self.opened()
        #expect(machine.startDraining().closeNow)
        var fresh = ConnectionStateMachine(openCallsMax: 1, protocolVersion: 1)
        #expect(fresh.startDraining().closeNow)
    }
}

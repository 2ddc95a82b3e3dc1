internal import LogbookWire
internal import Testing

@testable internal import Logbook

@Suite("Call state machine")
struct CallStateMachineTests {
    private let reply = Frame.Body.appendReply(AppendReply(streams: [StreamAppendResult(stream: "s")]))
    private let ok = Frame.Body.status(Status(code: .ok))

    private func batch(_ revisions: [UInt64]) -> Frame.Body {
        .eventBatch(EventBatch(events: revisions.map { LogbookWire.RecordedEvent(stream: "s", revision: $0) }))
    }

    @Test("a unary call holds its reply until the status says OK")
    func unarySuccess() {
        var machine = CallStateMachine(shape: .unary)
        #expect(machine.receive(self.reply) == .none)
        #expect(!machine.isFinished)
        #expect(machine.receive(self.ok) == .succeed(self.reply))
        #expect(machine.isFinished)
        #expect(machine.receive(self.ok) == .none)
    }

    @Test("a refusal fails the call with the status's code and details")
    func unaryRefused() {
        var machine = CallStateMachine(shape: .unary)
        let status = Status(
            code: .failedPrecondition,
            message: "wrong expected revision",
            detail: .wrongExpectedRevision(WrongExpectedRevision(stream: "s", streamExists: true, actualRevision: 2))
        )
        guard case .fail(let error) = machine.receive(.status(status)) else {
            Issue.record("expected the call to fail")
            return
        }
        #expect(error.code == .failedPrecondition)
        #expect(error.details?.wrongExpectedRevision?.actual == 2)
        #expect(machine.isFinished)
    }

    @Test("OK without a reply, or a second reply, is a protocol error")
    func unaryProtocolErrors() {
        var noReply = CallStateMachine(shape: .unary)
        guard case .fail(let error) = noReply.receive(self.ok) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .internalError)

        var twice = CallStateMachine(shape: .unary)
        _ = twice.receive(self.reply)
        guard case .failAndSendCancel = twice.receive(self.reply) else {
            Issue.record("expected a failure and a cancel")
            return
        }
        #expect(twice.state == .abandoned)
        #expect(twice.receive(self.ok) == .none)
        #expect(twice.isFinished)
    }

    @Test("a stream delivers each batch and finishes on OK")
    func streamSuccess() {
        var machine = CallStateMachine(shape: .stream)
        #expect(machine.receive(self.batch([0, 1])) == .deliver([.init(stream: "s", revision: 0), .init(stream: "s", revision: 1)]))
        #expect(machine.receive(self.batch([2])) == .deliver([.init(stream: "s", revision: 2)]))
        #expect(machine.receive(self.ok) == .finishStream)
        #expect(machine.isFinished)
    }

    @Test("a backup hands on its chunks and its manifest, finishes on OK, and fails on an event batch")
    func bodies() {
        var machine = CallStateMachine(shape: .bodies)
        let chunk = Frame.Body.backupChunk(BackupChunk(path: "logbook.sqlite", offset: 0, data: [1, 2, 3]))
        let manifest = Frame.Body.backupManifest(BackupManifest(position: 7, engine: "log"))
        #expect(machine.receive(chunk) == .deliverBody(chunk))
        #expect(machine.receive(manifest) == .deliverBody(manifest))
        #expect(machine.receive(self.ok) == .finishStream)
        #expect(machine.isFinished)

        var confused = CallStateMachine(shape: .bodies)
        guard case .failAndSendCancel = confused.receive(self.batch([0])) else {
            Issue.record("expected a failure and a cancel")
            return
        }
        var read = CallStateMachine(shape: .stream)
        #expect(read.receive(chunk) != .deliverBody(chunk), "a read takes no backup chunks")
    }

    @Test("a stream that gets a reply meant for a unary call fails")
    func streamUnexpectedFrame() {
        var machine = CallStateMachine(shape: .stream)
        guard case .failAndSendCancel = machine.receive(self.reply) else {
            Issue.record("expected a failure and a cancel")
            return
        }
    }

    @Test("a stream whose consumer leaves is cancelled once and drops what still arrives")
    func streamCancelled() {
        var machine = CallStateMachine(shape: .stream)
        _ = machine.receive(self.batch([0]))
        #expect(machine.cancel() == .sendCancel)
        #expect(machine.cancel() == .none)
        #expect(machine.receive(self.batch([1])) == .none)
        #expect(!machine.isFinished)
        #expect(machine.receive(.status(Status(code: .cancelled))) == .none)
        #expect(machine.isFinished)
    }

    @Test("a cancelled unary call still reports what the server answered")
    func unaryCancelled() {
        var committed = CallStateMachine(shape: .unary)
        #expect(committed.cancel() == .sendCancel)
        #expect(committed.cancel() == .none)
        _ = committed.receive(self.reply)
        #expect(committed.receive(self.ok) == .succeed(self.reply))

        var stopped = CallStateMachine(shape: .unary)
        _ = stopped.cancel()
        guard case .fail(let error) = stopped.receive(.status(Status(code: .cancelled, message: "cancelled"))) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .cancelled)
    }

    @Test("losing the connection fails open calls and forgets abandoned ones")
    func connectionLost() {
        let lost = LogbookError(code: .unavailable, message: "gone")
        var open = CallStateMachine(shape: .unary)
        #expect(open.connectionFailed(lost) == .fail(lost))
        #expect(open.isFinished)

        var abandoned = CallStateMachine(shape: .stream)
        _ = abandoned.cancel()
        #expect(abandoned.connectionFailed(lost) == .none)
        #expect(abandoned.isFinished)
    }
}

@Suite("Call state machine: subscriptions")
struct SubscriptionCallStateMachineTests {
    @Test("a subscription call passes batches and markers on, and ends with its Status")
    func subscriptionFrames() {
        var machine = CallStateMachine(shape: .subscription)
        let events = [LogbookWire.RecordedEvent(stream: "s", revision: 0, position: 1)]
        #expect(machine.receive(.eventBatch(EventBatch(events: events))) == .deliverSubscription(.events(events)))
        #expect(machine.receive(.caughtUp(CaughtUp(position: 1))) == .deliverSubscription(.caughtUp(1)))
        #expect(machine.receive(.fellBehind(FellBehind(position: 2))) == .deliverSubscription(.fellBehind(2)))
        #expect(machine.receive(.checkpoint(Checkpoint(position: 3))) == .deliverSubscription(.checkpoint(3)))
        #expect(!machine.isFinished)
        guard case .fail(let error) = machine.receive(.status(Status(code: .unavailable, message: "shutting down"))) else {
            Issue.record("UNAVAILABLE fails the call")
            return
        }
        #expect(error.code == .unavailable)
        #expect(machine.isFinished)
    }

    @Test("markers on a read are a protocol error; a dropped subscription is cancelled")
    func markersOnlyOnSubscriptions() {
        var read = CallStateMachine(shape: .stream)
        guard case .failAndSendCancel = read.receive(.caughtUp(CaughtUp(position: 1))) else {
            Issue.record("a read does not expect CaughtUp")
            return
        }
        var subscription = CallStateMachine(shape: .subscription)
        #expect(subscription.cancel() == .sendCancel)
        #expect(subscription.receive(.checkpoint(Checkpoint(position: 1))) == .none)
        #expect(subscription.receive(.status(Status(code: .cancelled))) == .none)
        #expect(subscription.isFinished)
    }
}

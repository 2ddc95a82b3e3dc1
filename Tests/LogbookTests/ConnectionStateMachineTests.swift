internal import Logbook
internal import Testing

/// The shared connection's life without sockets: who waits, when to connect, how long to
/// back off, what a loss or a close leads to.
@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine<String>

    private let t0 = ContinuousClock.now
    private let refused = LogbookError(code: .unavailable, message: "cannot connect: Connection refused")
    private let closed = LogbookError(code: .unavailable, message: "the connection to logbookd closed")

    private func machine() -> Machine {
        Machine(backoffInitial: .milliseconds(50), backoffMax: .seconds(2))
    }

    private func connectedMachine() -> Machine {
        Machine(connected: "c1", backoffInitial: .milliseconds(50), backoffMax: .seconds(2))
    }

    @Test("the first call connects, later ones wait for the same attempt, and all get the connection")
    func firstCallConnects() {
        var machine = self.machine()
        guard case .waitAndConnect = machine.waitForConnection(1, now: self.t0) else {
            Issue.record("the first call should start an attempt")
            return
        }
        guard case .wait = machine.waitForConnection(2, now: self.t0) else {
            Issue.record("a second call should wait for the attempt under way")
            return
        }
        // The first connection of a client that never had one is no reconnection.
        #expect(machine.connected("c1") == .resume(generation: 1, waiters: [1, 2], outage: nil))
        #expect(machine.waiters.isEmpty)
        guard case .use(let connection, let generation) = machine.waitForConnection(3, now: self.t0) else {
            Issue.record("a call on a ready connection should use it")
            return
        }
        #expect(connection == "c1")
        #expect(generation == 1)
    }

    @Test("a loss with nobody waiting waits for the next call, which reconnects at once")
    func lossIsRepairedOnDemand() {
        var machine = self.connectedMachine()
        #expect(machine.connectionLost(generation: 1, error: self.closed, now: self.t0) == .idle(self.closed))
        #expect(machine.lastError == self.closed)
        guard case .waitAndConnect = machine.waitForConnection(7, now: self.t0 + .seconds(5)) else {
            Issue.record("the next call should start an attempt at once")
            return
        }
        guard case .resume(let generation, let waiters, let outage?) = machine.connected("c2") else {
            Issue.record("the new connection should resume the call and report the outage")
            return
        }
        #expect(generation == 2)
        #expect(waiters == [7])
        // The outage runs from the loss, not from the call that repaired it.
        #expect(outage.since == self.t0)
        #expect(outage.hadConnection)
        #expect(outage.failures == 0)
    }

    @Test("news of an older connection's loss, or of the same loss twice, changes nothing")
    func staleLossIsIgnored() {
        var machine = self.connectedMachine()
        #expect(machine.connectionLost(generation: 1, error: self.closed, now: self.t0) == .idle(self.closed))
        #expect(machine.connectionLost(generation: 1, error: self.closed, now: self.t0) == .none)
        _ = machine.waitForConnection(1, now: self.t0)
        _ = machine.connected("c2")
        #expect(machine.connectionLost(generation: 1, error: self.closed, now: self.t0) == .none)
        guard case .use("c2", 2) = machine.waitForConnection(2, now: self.t0) else {
            Issue.record("generation 2 should still be in use")
            return
        }
    }

    @Test("failed attempts back off from 50 ms doubling to 2 s, between half and all of each step")
    func backoffDoublesUpToTheMaximum() {
        var machine = self.machine()
        _ = machine.waitForConnection(1, now: self.t0)
        var fullSteps: [Duration] = []
        for _ in 0..<8 {
            guard case .retry(let wait) = machine.connectFailed(self.refused, jitter: 1) else {
                Issue.record("a failed attempt with a call waiting should be retried")
                return
            }
            fullSteps.append(wait)
            #expect(machine.backoffElapsed() == .connect)
        }
        #expect(fullSteps == [50, 100, 200, 400, 800, 1600, 2000, 2000].map { Duration.milliseconds($0) })
        #expect(machine.connectFailed(self.refused, jitter: 0) == .retry(after: .seconds(1)))
        #expect(machine.lastError == self.refused)
    }

    @Test("when nobody waits any more, attempts stop, and the next call tries at once")
    func attemptsStopWithoutWaiters() {
        var machine = self.machine()
        _ = machine.waitForConnection(1, now: self.t0)
        let stopped = machine.stopWaiting(1)
        #expect(stopped)
        #expect(machine.connectFailed(self.refused, jitter: 0.5) == .stop)
        guard case .waitAndConnect = machine.waitForConnection(2, now: self.t0) else {
            Issue.record("the next call should try at once")
            return
        }
        // A waiter that leaves during the back-off stops the attempts too.
        guard case .retry = machine.connectFailed(self.refused, jitter: 0.5) else {
            Issue.record("a failed attempt with a call waiting should be retried")
            return
        }
        let stoppedSecond = machine.stopWaiting(2)
        #expect(stoppedSecond)
        #expect(machine.backoffElapsed() == .none)
        guard case .idle = machine.state else {
            Issue.record("the machine should rest until a call needs it")
            return
        }
    }

    @Test("a waiter that was resumed cannot be given up again")
    func resumedWaiterIsGone() {
        var machine = self.machine()
        _ = machine.waitForConnection(1, now: self.t0)
        _ = machine.connected("c1")
        let stopped = machine.stopWaiting(1)
        #expect(!stopped)
    }

    @Test("run() keeps the client connected: it connects at once, reconnects a loss, and retries with nobody waiting")
    func keepConnected() {
        var machine = self.machine()
        #expect(machine.keepConnected(now: self.t0) == .connect)
        #expect(machine.connectFailed(self.refused, jitter: 0) == .retry(after: .milliseconds(25)))
        #expect(machine.backoffElapsed() == .connect)
        #expect(machine.connected("c1") == .resume(generation: 1, waiters: [], outage: nil))
        #expect(machine.connectionLost(generation: 1, error: self.closed, now: self.t0) == .reconnect(self.closed))
        guard case .connecting = machine.state else {
            Issue.record("a lost connection should be replaced at once")
            return
        }
    }

    @Test("a loss with calls waiting reconnects at once")
    func lossWithWaitersReconnects() {
        var machine = self.connectedMachine()
        #expect(machine.keepConnected(now: self.t0) == .none)
        #expect(machine.connectionLost(generation: 1, error: self.closed, now: self.t0) == .reconnect(self.closed))
        guard case .wait = machine.waitForConnection(1, now: self.t0) else {
            Issue.record("a call during the attempt should wait for it")
            return
        }
        guard case .resume(2, [1], let outage?) = machine.connected("c2") else {
            Issue.record("the reconnection should resume the call")
            return
        }
        #expect(outage.lastError == self.closed)
    }

    @Test("close hands back the connection and the waiters, and then everything fails or is closed")
    func close() {
        var connected = self.connectedMachine()
        let action = connected.close()
        #expect(action.connection == "c1")
        #expect(action.waiters.isEmpty)
        #expect(connected.isClosed)
        guard case .fail = connected.waitForConnection(1, now: self.t0) else {
            Issue.record("a call on a closed client should fail")
            return
        }
        #expect(connected.connectionLost(generation: 1, error: self.closed, now: self.t0) == .none)

        var connecting = self.machine()
        _ = connecting.waitForConnection(1, now: self.t0)
        _ = connecting.waitForConnection(2, now: self.t0)
        let closing = connecting.close()
        #expect(closing.connection == nil)
        #expect(closing.waiters == [1, 2])
        // An attempt that ends after the close: its connection is closed, its failure ignored.
        #expect(connecting.connected("late") == .close)
        #expect(connecting.connectFailed(self.refused, jitter: 0) == .none)
        #expect(connecting.keepConnected(now: self.t0) == .none)
    }
}

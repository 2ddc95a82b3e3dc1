internal import LogbookWire
internal import NIOCore
internal import Synchronization

/// The side of one iteration of a ``GroupSubscription`` that its deliveries share: the
/// ``GroupConsumerStateMachine`` in a lock, the current call, and the acks waiting to go out.
///
/// Three parties reach it: the iterating task (calls start and end, deliveries arrive), any
/// task settling a delivery, and the router on its event loop (`Settled`, the call ending).
/// Acks settled in a burst leave as one Ack frame: the first schedules a flush on the event
/// loop, the others join it, so a consumer acking one delivery at a time costs the daemon
/// one frame per burst, not per event.
final class GroupConsumer: Sendable {
    /// Someone waiting for a settlement's confirmation.
    enum Waiter: Sendable {
        case task(CheckedContinuation<Void, any Error>)
        case callback(@Sendable (Result<Void, LogbookError>) -> Void)

        func resume(_ result: Result<Void, LogbookError>) {
            switch self {
            case .task(let continuation): continuation.resume(with: result.mapError { $0 as any Error })
            case .callback(let callback): callback(result)
            }
        }
    }

    typealias Machine = GroupConsumerStateMachine<Waiter>

    private struct State {
        var machine: Machine
        var call: (connection: ClientConnection, callID: UInt64)?
        var pendingAcks: [PendingAck] = []
    }

    /// An ack settled but not sent yet, with the view writes that go in the same Ack frame
    /// (the daemon applies them in the transaction that records that ack).
    struct PendingAck {
        var deliveryID: UInt64
        var writes: [LogbookWire.ViewWrite]
    }

    private let state: Mutex<State>

    init(configuration: SubscriptionStateMachine.Configuration) {
        self.state = Mutex(State(machine: Machine(configuration: configuration)))
    }

    /// Starts a Subscribe(group) call on `connection`.
    func startCall(
        on connection: ClientConnection,
        _ request: SubscribeRequest
    ) throws(LogbookError) -> (generation: UInt64, callID: UInt64, batches: GroupStream.Producer.AsyncIterator) {
        let generation = self.state.withLock { state in
            state.pendingAcks = []
            state.call = nil
            return state.machine.startCall()
        }
        let hooks = GroupStream.Hooks(
            settled: { [self] ids in self.settled(ids, generation: generation) },
            ended: { [self] in
                self.callClosed(generation: generation)
                return self.takePendingAcks(generation: generation)?.frames ?? []
            }
        )
        let (callID, batches) = try connection.consume(request, hooks: hooks)
        self.state.withLock { state in
            if state.machine.generation == generation { state.call = (connection, callID) }
        }
        return (generation, callID, batches)
    }

    func isCallOpen(_ generation: UInt64) -> Bool {
        self.state.withLock { $0.machine.generation == generation && $0.machine.isCallOpen }
    }

    /// Deliveries of call `generation` are about to be handed out.
    func received(_ deliveryIDs: [UInt64]) {
        let superseded = self.state.withLock { $0.machine.received(deliveryIDs) }
        for waiter in superseded {
            waiter.resume(.failure(Machine.callGone))
        }
    }

    /// Sends an ack or nack of a delivery from call `generation`, unless that call is over.
    func settle(
        _ deliveryID: UInt64,
        generation: UInt64,
        _ settlement: Machine.Settlement,
        writes: [ViewWrite] = [],
        reason: String = "",
        waiter: Waiter?
    ) {
        enum Send {
            case nothing
            case flushAcks(ClientConnection)
            case now(ClientConnection, callID: UInt64, acks: [Ack], nack: Nack)
        }
        let (action, send) = self.state.withLock { state -> (Machine.SettleAction, Send) in
            let action = state.machine.settle(deliveryID, generation: generation, settlement, waiter: waiter)
            switch action {
            case .send, .sendAndResume:
                guard let call = state.call else { return (action, .nothing) }
                switch settlement {
                case .ack:
                    state.pendingAcks.append(PendingAck(deliveryID: deliveryID, writes: writes.map(\.wire)))
                    return (action, state.pendingAcks.count == 1 ? .flushAcks(call.connection) : .nothing)
                case .nack(let nackAction):
                    // Acks settled before this nack leave first.
                    let acks = Self.frames(state.pendingAcks)
                    state.pendingAcks = []
                    let nack = Nack(deliveryIDs: [deliveryID], action: nackAction.wire, reason: reason)
                    return (action, .now(call.connection, callID: call.callID, acks: acks, nack: nack))
                }
            case .drop, .alreadySent:
                return (action, .nothing)
            }
        }
        switch send {
        case .nothing:
            break
        case .flushAcks(let connection):
            let router = connection.router
            router.eventLoop.execute { [self] in
                guard let (callID, frames) = self.takePendingAcks(generation: generation) else { return }
                for ack in frames { router.value.sendControl(callID, .ack(ack)) }
            }
        case .now(let connection, let callID, let acks, let nack):
            let router = connection.router
            router.eventLoop.execute {
                for ack in acks { router.value.sendControl(callID, .ack(ack)) }
                router.value.sendControl(callID, .nack(nack))
            }
        }
        switch action {
        case .sendAndResume(let waiter?):
            waiter.resume(.success(()))
        case .drop(let waiter?, let error):
            waiter.resume(.failure(error))
        default:
            break
        }
    }

    /// Call `generation` ended, or its iterator gave it up: nothing of it can be confirmed
    /// any more. Acks already settled stay queued for the router, which sends them if the
    /// call is still open (see ``GroupStream/Hooks/ended``); the next call drops them.
    func callClosed(generation: UInt64) {
        let waiters = self.state.withLock { $0.machine.callClosed(generation: generation) }
        for waiter in waiters {
            waiter.resume(.failure(Machine.callGone))
        }
    }

    /// After ``callClosed(generation:)``: join again after a wait, or fail.
    func callEnded(_ error: LogbookError?) -> Machine.EndAction {
        self.state.withLock { $0.machine.callEnded(error, jitter: Double.random(in: 0..<1)) }
    }

    private func settled(_ deliveryIDs: [UInt64], generation: UInt64) {
        let waiters = self.state.withLock { $0.machine.settled(deliveryIDs, generation: generation) }
        for waiter in waiters {
            waiter.resume(.success(()))
        }
    }

    private func takePendingAcks(generation: UInt64) -> (callID: UInt64, frames: [Ack])? {
        let taken = self.state.withLock { state -> (callID: UInt64, acks: [PendingAck])? in
            guard state.machine.generation == generation, let call = state.call, !state.pendingAcks.isEmpty else { return nil }
            defer { state.pendingAcks = [] }
            return (call.callID, state.pendingAcks)
        }
        return taken.map { ($0.callID, Self.frames($0.acks)) }
    }

    /// The Ack frames for acks in the order they were settled: as few as the write bytes
    /// allow, each ack whole in one frame with its writes.
    static func frames(_ acks: [PendingAck]) -> [Ack] {
        var frames: [Ack] = []
        var current = Ack()
        var bytes = 0
        for ack in acks {
            let ackBytes = ack.writes.reduce(0) { $0 + $1.view.utf8.count + $1.key.utf8.count + Self.opBytes($1.op) + 24 }
            if !current.deliveryIDs.isEmpty, bytes + ackBytes > ClientLimits.ackFrameWriteBytesMax {
                frames.append(current)
                current = Ack()
                bytes = 0
            }
            current.deliveryIDs.append(ack.deliveryID)
            current.viewWrites += ack.writes
            bytes += ackBytes
        }
        if !current.deliveryIDs.isEmpty { frames.append(current) }
        return frames
    }

    private static func opBytes(_ op: LogbookWire.ViewWrite.Op?) -> Int {
        switch op {
        case .put(let json)?, .merge(let json)?: json.utf8.count
        case .remove?, nil: 1
        }
    }
}

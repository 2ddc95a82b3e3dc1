package import LogbookWire

/// The life of one call on a connection, from the client's side, as a value.
///
/// The router feeds it each frame the server sends on the call and each local event
/// (cancellation, connection loss); it answers with what to do. It does no I/O itself, so
/// it is tested without sockets.
///
/// ```
///                 reply                   Status OK
///   unary:  open ───────▶ open(reply) ────────────────▶ finished   (succeed with the reply)
///   stream: open ──EventBatch──▶ open ──Status OK─────▶ finished   (finish the stream)
///   subscription: open ──EventBatch, CaughtUp, FellBehind, Checkpoint──▶ open ──Status──▶ finished
///   group:  open ──EventBatch (with deliveries), Settled──▶ open ──Status──▶ finished
///           any ──Status not OK───────────────────────▶ finished   (fail)
///           open ──consumer gone / protocol error─────▶ abandoned ──Status──▶ finished
/// ```
package struct CallStateMachine {
    /// The frames a call expects before its Status.
    package enum Shape: Sendable, Hashable {
        /// Exactly one reply (AppendReply, …), then the Status.
        case unary
        /// Any number of EventBatch frames, then the Status.
        case stream
        /// A catch-up subscription: EventBatch, CaughtUp, FellBehind and Checkpoint frames
        /// in any number, then the Status.
        case subscription
        /// A consumer in a persistent group: EventBatch frames whose deliveries carry ids
        /// and attempts, and Settled frames, in any number, then the Status.
        case group
        /// Frames handed on as they are (a backup: BackupChunk frames, then one
        /// BackupManifest), then the Status.
        case bodies
    }

    package enum State: Sendable, Hashable {
        /// Waiting for frames; a unary call holds its reply here until the Status says OK.
        case open(reply: Frame.Body?, cancelSent: Bool)
        /// Nobody waits for the result any more (the caller was told, or the stream's
        /// consumer went away); the call stays registered until the server's Status frees
        /// its id.
        case abandoned
        /// The Status arrived or the connection is gone.
        case finished
    }

    package enum Action: Sendable, Hashable {
        case none
        /// Send `Cancel` on the call.
        case sendCancel
        /// Hand these events to the stream's consumer.
        case deliver([LogbookWire.RecordedEvent])
        /// Hand this frame to the subscription's consumer.
        case deliverSubscription(SubscriptionFrame)
        /// Hand these deliveries to the group consumer.
        case deliverGroup(EventBatch)
        /// Hand this frame to the consumer of a `bodies` call.
        case deliverBody(Frame.Body)
        /// The daemon durably recorded these settlements of the group consumer.
        case settled([UInt64])
        /// The unary call succeeded with this reply.
        case succeed(Frame.Body)
        /// The stream ended normally.
        case finishStream
        /// The call failed; tell the caller.
        case fail(LogbookError)
        /// The server broke the protocol on this call: tell the caller, and send `Cancel`
        /// so the server ends the call.
        case failAndSendCancel(LogbookError)
    }

    package let shape: Shape
    package private(set) var state: State

    package init(shape: Shape) {
        self.shape = shape
        self.state = .open(reply: nil, cancelSent: false)
    }

    /// Whether the call is over and its id can be forgotten.
    package var isFinished: Bool {
        self.state == .finished
    }

    /// A frame the server sent on this call.
    package mutating func receive(_ body: Frame.Body?) -> Action {
        switch self.state {
        case .finished:
            return .none

        case .abandoned:
            if case .status? = body {
                self.state = .finished
            }
            return .none

        case .open(let reply, let cancelSent):
            switch body {
            case .status(let status)?:
                self.state = .finished
                guard status.code == .ok else {
                    return .fail(LogbookError(status: status))
                }
                switch self.shape {
                case .stream, .subscription, .group, .bodies:
                    return .finishStream
                case .unary:
                    guard let reply else {
                        return .fail(Self.protocolError("the server ended the call with OK but sent no reply"))
                    }
                    return .succeed(reply)
                }

            case .eventBatch(let batch)? where self.shape == .stream:
                return .deliver(batch.events)

            case .eventBatch(let batch)? where self.shape == .subscription:
                return .deliverSubscription(.events(batch.events))
            case .caughtUp(let marker)? where self.shape == .subscription:
                return .deliverSubscription(.caughtUp(marker.position))
            case .fellBehind(let marker)? where self.shape == .subscription:
                return .deliverSubscription(.fellBehind(marker.position))
            case .checkpoint(let marker)? where self.shape == .subscription:
                return .deliverSubscription(.checkpoint(marker.position))

            case .eventBatch(let batch)? where self.shape == .group:
                guard batch.deliveries.count == batch.events.count else {
                    self.state = .abandoned
                    return .failAndSendCancel(Self.protocolError(
                        "the server sent \(batch.events.count) events with \(batch.deliveries.count) deliveries"
                    ))
                }
                return .deliverGroup(batch)
            case .settled(let settled)? where self.shape == .group:
                return .settled(settled.deliveryIDs)

            case .backupChunk(let chunk)? where self.shape == .bodies:
                return .deliverBody(.backupChunk(chunk))
            case .backupManifest(let manifest)? where self.shape == .bodies:
                return .deliverBody(.backupManifest(manifest))

            case let other? where self.shape == .unary && reply == nil && !Self.isControl(other):
                self.state = .open(reply: other, cancelSent: cancelSent)
                return .none

            case let other:
                self.state = .abandoned
                let what = other.map(\.name) ?? "an empty frame"
                return .failAndSendCancel(Self.protocolError("the server sent \(what) that this call does not expect"))
            }
        }
    }

    /// The caller no longer wants the result (its task was cancelled, or a stream's
    /// consumer stopped iterating).
    ///
    /// A unary call keeps waiting for its Status, because the server may already have
    /// done the work (an append may have committed): the caller learns which. A stream's
    /// consumer is gone, so the call is abandoned.
    package mutating func cancel() -> Action {
        switch self.state {
        case .open(let reply, let cancelSent):
            switch self.shape {
            case .unary:
                guard !cancelSent else { return .none }
                self.state = .open(reply: reply, cancelSent: true)
                return .sendCancel
            case .stream, .subscription, .group, .bodies:
                self.state = .abandoned
                return .sendCancel
            }
        case .abandoned, .finished:
            return .none
        }
    }

    /// The connection closed or failed before the call ended.
    package mutating func connectionFailed(_ error: LogbookError) -> Action {
        switch self.state {
        case .open:
            self.state = .finished
            return .fail(error)
        case .abandoned, .finished:
            self.state = .finished
            return .none
        }
    }

    private static func isControl(_ body: Frame.Body) -> Bool {
        switch body {
        case .hello, .helloReply, .cancel, .eventBatch, .status: true
        default: false
        }
    }

    private static func protocolError(_ message: String) -> LogbookError {
        LogbookError(code: .internalError, message: message)
    }
}

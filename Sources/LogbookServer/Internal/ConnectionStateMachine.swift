package import LogbookWire

/// The protocol state of one connection: the handshake, the set of open calls, draining at
/// shutdown.
///
/// A plain value: each input returns what the caller must do, and the caller does the I/O
/// (postgres-nio's ConnectionStateMachine). Calls themselves run elsewhere; this only decides
/// whether a frame may start one, reaches one, or ends the connection.
package struct ConnectionStateMachine {
    package enum CallKind: Hashable {
        case append
        case read
        case other
    }

    package enum State {
        case awaitingHello
        case open(openCalls: [UInt64: CallKind])
        case draining(openCalls: [UInt64: CallKind])
        case closed
        /// Held only while an input changes the open calls: with the dictionary out of
        /// `state`, the change is made in place instead of to a copy (an allocation per
        /// call started and per call finished).
        case modifying
    }

    package enum ReceiveAction: Equatable {
        /// Answer the handshake.
        case sendHelloReply(Hello)
        /// Start a call with this id.
        case startCall(UInt64, Frame)
        /// Forward a frame to an open call (Cancel, and later Credit/Ack/Nack).
        case forward(UInt64, Frame)
        /// Refuse this frame's call with a Status; the connection stays open.
        case rejectCall(UInt64, Status)
        /// Send this Status on call 0 and close the connection.
        case closeConnection(Status)
        /// Nothing to do (a late frame for a call that has ended).
        case none
    }

    package enum FinishAction: Equatable {
        case none
        /// The last call of a draining connection ended: close it.
        case closeConnection
    }

    package private(set) var state: State = .awaitingHello
    private let openCallsMax: Int
    private let protocolVersion: UInt32

    package init(openCallsMax: Int, protocolVersion: UInt32) {
        self.openCallsMax = openCallsMax
        self.protocolVersion = protocolVersion
    }

    package mutating func receive(_ frame: Frame) -> ReceiveAction {
        switch self.state {
        case .awaitingHello:
            guard frame.callID == 0, case .hello(let hello) = frame.body else {
                self.state = .closed
                return .closeConnection(Status(code: .invalidArgument, message: "the first frame on a connection must be Hello on call 0"))
            }
            guard hello.protocolVersion == self.protocolVersion else {
                self.state = .closed
                return .closeConnection(Status(
                    code: .failedPrecondition,
                    message: "protocol version \(hello.protocolVersion) is not supported; this server speaks \(self.protocolVersion)"
                ))
            }
            self.state = .open(openCalls: [:])
            return .sendHelloReply(hello)

        case .open(var calls):
            self.state = .modifying
            let action = Self.receive(frame, calls: &calls, openCallsMax: self.openCallsMax, draining: false)
            self.state = .open(openCalls: calls)
            if case .closeConnection = action { self.state = .closed }
            return action

        case .draining(var calls):
            self.state = .modifying
            let action = Self.receive(frame, calls: &calls, openCallsMax: self.openCallsMax, draining: true)
            self.state = .draining(openCalls: calls)
            // A connection closed while draining is closed: what comes after is ignored
            // (the fuzzer found a second close answered here).
            if case .closeConnection = action { self.state = .closed }
            return action

        case .closed:
            return .none
        case .modifying:
            preconditionFailure("ConnectionStateMachine re-entered while modifying")
        }
    }

    private static func receive(
        _ frame: Frame,
        calls: inout [UInt64: CallKind],
        openCallsMax: Int,
        draining: Bool
    ) -> ReceiveAction {
        guard let body = frame.body else {
            return .closeConnection(Status(code: .invalidArgument, message: "frame on call \(frame.callID) has no body"))
        }
        guard frame.callID != 0 else {
            if case .hello = body {
                return .closeConnection(Status(code: .invalidArgument, message: "Hello was already sent on this connection"))
            }
            return .closeConnection(Status(code: .invalidArgument, message: "call 0 is the connection itself; calls need an id above 0"))
        }
        let kind: CallKind
        switch body {
        case .appendRequest: kind = .append
        case .readRequest: kind = .read
        case .subscribeRequest, .queryRequest, .adminRequest, .backupRequest: kind = .other
        case .cancel, .credit, .ack, .nack:
            // Frames for a call already open; a call that already ended ignores them.
            return calls[frame.callID] == nil ? .none : .forward(frame.callID, frame)
        case .hello, .helloReply, .status, .appendReply, .eventBatch, .caughtUp, .fellBehind, .checkpoint, .settled,
            .queryReply, .adminReply, .backupChunk, .backupManifest:
            return .closeConnection(Status(code: .invalidArgument, message: "a client does not send \(body.name) frames"))
        }
        guard calls[frame.callID] == nil else {
            return .closeConnection(Status(code: .invalidArgument, message: "call \(frame.callID) is already open"))
        }
        if draining {
            return .rejectCall(frame.callID, CallError.shuttingDown.status)
        }
        guard calls.count < openCallsMax else {
            return .rejectCall(frame.callID, Status(
                code: .resourceExhausted,
                message: "too many open calls on this connection (limit \(openCallsMax))",
                detail: .limitExceeded(LimitExceeded(limit: "open_calls_per_connection_max", value: UInt64(calls.count + 1), max: UInt64(openCallsMax)))
            ))
        }
        calls[frame.callID] = kind
        return .startCall(frame.callID, frame)
    }

    /// A well-formed frame for `callID` that had to be refused (a NUL or invalid UTF-8 in a
    /// string): a request that would start a call is answered on its own, and the
    /// connection and its other calls go on. Anything else ends the connection.
    package mutating func refuse(_ callID: UInt64, _ status: Status) -> ReceiveAction {
        switch self.state {
        case .open(let calls) where calls[callID] == nil, .draining(let calls) where calls[callID] == nil:
            return .rejectCall(callID, status)
        case .awaitingHello, .open, .draining:
            self.state = .closed
            return .closeConnection(status)
        case .closed, .modifying:
            return .none
        }
    }

    package mutating func callFinished(_ callID: UInt64) -> FinishAction {
        switch self.state {
        case .open(var calls):
            self.state = .modifying
            calls[callID] = nil
            self.state = .open(openCalls: calls)
            return .none
        case .draining(var calls):
            self.state = .modifying
            calls[callID] = nil
            if calls.isEmpty {
                self.state = .closed
                return .closeConnection
            }
            self.state = .draining(openCalls: calls)
            return .none
        case .awaitingHello, .closed:
            return .none
        case .modifying:
            preconditionFailure("ConnectionStateMachine re-entered while modifying")
        }
    }

    /// The server is shutting down: calls that may run forever (reads, subscriptions) are to
    /// be cancelled, appends already accepted finish and are answered.
    package mutating func startDraining() -> (cancel: [UInt64], closeNow: Bool) {
        switch self.state {
        case .awaitingHello:
            self.state = .closed
            return ([], true)
        case .open(let calls):
            if calls.isEmpty {
                self.state = .closed
                return ([], true)
            }
            self.state = .draining(openCalls: calls)
            return (calls.filter { $0.value != .append }.map(\.key).sorted(), false)
        case .draining, .closed, .modifying:
            return ([], false)
        }
    }
}

internal import LogbookServer
internal import LogbookWire

/// A random sequence of inputs to a connection's state machine (frames from the client,
/// calls that finish, frames refused by the decoder, a shutdown), each answer compared
/// with a model written from the protocol's rules (DESIGN §3) rather than from the
/// machine's code. A difference, a trap or a sanitizer report is a finding.
enum ConnectionFuzz {
    /// Small, so that the limit is reached often.
    static let openCallsMax = 4

    static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = Input(bytes: bytes)
        var machine = ConnectionStateMachine(openCallsMax: Self.openCallsMax, protocolVersion: ServerVersion.protocolVersion)
        var model = Model(openCallsMax: Self.openCallsMax)
        while let op = input.next() {
            switch op % 6 {
            case 0, 1, 2:
                let frame = Self.frame(&input)
                Self.agree(Outcome(machine.receive(frame)), model.receive(frame), "receive \(frame)")
            case 3:
                let id = model.pick(input.next() ?? 0)
                Self.agree(machine.callFinished(id) == .closeConnection ? .close : .none, model.finish(id), "finish \(id)")
            case 4:
                let id = UInt64((input.next() ?? 0) % 8)
                Self.agree(Outcome(machine.refuse(id, Status(code: .invalidArgument, message: "refused"))), model.refuse(id), "refuse \(id)")
            default:
                let (cancel, closeNow) = machine.startDraining()
                let expected = model.drain()
                precondition(cancel == expected.cancel && closeNow == expected.closeNow,
                    "startDraining answered \(cancel) \(closeNow), the model \(expected)")
            }
        }
    }

    private static func agree(_ actual: Outcome, _ expected: Outcome, _ input: @autoclosure () -> String) {
        precondition(actual == expected, "\(input()): the machine answered \(actual), the model \(expected)")
    }

    /// A frame from the next bytes: a call id in 0..<8 and a body of any kind.
    private static func frame(_ input: inout Input) -> Frame {
        let callID = UInt64((input.next() ?? 0) % 8)
        let kind = input.next() ?? 0
        let body: Frame.Body?
        switch kind % 14 {
        case 0: body = .hello(Hello(protocolVersion: kind & 0x80 == 0 ? ServerVersion.protocolVersion : 99))
        case 1: body = .appendRequest(AppendRequest())
        case 2: body = .readRequest(ReadRequest())
        case 3: body = .subscribeRequest(SubscribeRequest(target: .group("g")))
        case 4: body = .queryRequest(QueryRequest(view: "v"))
        case 5: body = .adminRequest(AdminRequest(op: .listGroups(Empty())))
        case 6: body = .cancel(Cancel())
        case 7: body = .credit(Credit(count: 1))
        case 8: body = .ack(Ack())
        case 9: body = .nack(Nack())
        case 10: body = .status(Status(code: .ok))
        case 11: body = .eventBatch(EventBatch())
        case 12: body = .helloReply(HelloReply())
        default: body = nil
        }
        return Frame(callID: callID, body: body)
    }

    /// What an input led to, without the Status texts.
    enum Outcome: Equatable {
        case hello
        case start(UInt64)
        case forward(UInt64)
        case reject(UInt64)
        case close
        case none

        init(_ action: ConnectionStateMachine.ReceiveAction) {
            switch action {
            case .sendHelloReply: self = .hello
            case .startCall(let id, _): self = .start(id)
            case .forward(let id, _): self = .forward(id)
            case .rejectCall(let id, _): self = .reject(id)
            case .closeConnection: self = .close
            case .none: self = .none
            }
        }
    }

    /// The protocol's rules for one connection, kept as plainly as they are stated.
    struct Model {
        enum Phase { case awaitingHello, open, draining, closed }

        let openCallsMax: Int
        var phase = Phase.awaitingHello
        /// Open calls, and whether each is an append (appends finish at a shutdown).
        var calls: [UInt64: Bool] = [:]

        init(openCallsMax: Int) {
            self.openCallsMax = openCallsMax
        }

        /// An open call's id most of the time, else any id.
        func pick(_ byte: UInt8) -> UInt64 {
            let open = self.calls.keys.sorted()
            return open.isEmpty || byte & 0x80 != 0 ? UInt64(byte % 8) : open[Int(byte) % open.count]
        }

        mutating func receive(_ frame: Frame) -> Outcome {
            switch self.phase {
            case .closed:
                return .none
            case .awaitingHello:
                if frame.callID == 0, case .hello(let hello) = frame.body, hello.protocolVersion == ServerVersion.protocolVersion {
                    self.phase = .open
                    return .hello
                }
                return self.close()
            case .open, .draining:
                guard let body = frame.body, frame.callID != 0 else { return self.close() }
                switch body {
                case .cancel, .credit, .ack, .nack:
                    return self.calls[frame.callID] == nil ? .none : .forward(frame.callID)
                case .appendRequest, .readRequest, .subscribeRequest, .queryRequest, .adminRequest:
                    if self.calls[frame.callID] != nil { return self.close() }
                    if self.phase == .draining || self.calls.count >= self.openCallsMax { return .reject(frame.callID) }
                    if case .appendRequest = body {
                        self.calls[frame.callID] = true
                    } else {
                        self.calls[frame.callID] = false
                    }
                    return .start(frame.callID)
                default:
                    return self.close()
                }
            }
        }

        mutating func finish(_ id: UInt64) -> Outcome {
            guard self.phase == .open || self.phase == .draining else { return .none }
            self.calls[id] = nil
            if self.phase == .draining && self.calls.isEmpty { return self.close() }
            return .none
        }

        mutating func refuse(_ id: UInt64) -> Outcome {
            switch self.phase {
            case .closed: return .none
            case .awaitingHello: return self.close()
            // A frame the decoder refused: its own call's, unless that call is open.
            case .open, .draining: return self.calls[id] == nil ? .reject(id) : self.close()
            }
        }

        mutating func drain() -> (cancel: [UInt64], closeNow: Bool) {
            switch self.phase {
            case .awaitingHello:
                self.phase = .closed
                return ([], true)
            case .open where self.calls.isEmpty:
                self.phase = .closed
                return ([], true)
            case .open:
                self.phase = .draining
                return (self.calls.filter { !$0.value }.map(\.key).sorted(), false)
            case .draining, .closed:
                return ([], false)
            }
        }

        private mutating func close() -> Outcome {
            self.phase = .closed
            self.calls = [:]
            return .close
        }
    }

    /// The fuzzer's bytes, one at a time.
    struct Input {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func next() -> UInt8? {
            guard self.offset < self.bytes.count else { return nil }
            defer { self.offset += 1 }
            return self.bytes[self.offset]
        }
    }
}

internal import LogbookStorage
internal import Testing

@testable internal import LogbookServer

/// The group machine's dispatch starts past the entries it knows are in flight or settled
/// (`dispatchFrom`), and under by_stream takes the busy streams from its count of what is
/// in flight (`inFlightStreams`). Here two machines get the same random inputs, one taking
/// that shortcut and one walking every entry from the head as dispatch did before it; they
/// must decide exactly the same.
@Suite("Group dispatch shortcut")
struct GroupDispatchShortcutTests {
    typealias Machine = GroupStateMachine<String>

    @Test(arguments: [GroupStrategy.byStream, .roundRobin, .single])
    func theShortcutDecidesAsTheWalkOfEveryEntry(strategy: GroupStrategy) {
        for seed in UInt64(1)...80 {
            var run = Run(strategy: strategy, seed: seed)
            for step in 0..<300 {
                guard run.step() else {
                    Issue.record("seed \(seed), step \(step): \(run.mismatch ?? "")")
                    break
                }
            }
        }
    }

    /// Both machines and the inputs they get.
    struct Run {
        var shortcut: Machine
        var walk: Machine
        var random: SplitMix
        var now = ContinuousClock.now
        var nextPosition: UInt64 = 1
        /// What each consumer holds, by delivery id, as the outputs said.
        var held: [UInt64: [UInt64]] = [:]
        /// The parked store as the outputs left it, and how far a replay has read it.
        var parked: [UInt64: String] = [:]
        var replayedUpTo: UInt64 = 0
        var mismatch: String?

        init(strategy: GroupStrategy, seed: UInt64) {
            let policy = GroupPolicy(
                strategy: strategy, maxInFlight: 4, ackTimeout: .seconds(10), maxDeliveries: 3,
                retryBackoff: .seconds(1), bufferMax: 40, retryBackoffDoublingsMax: 2, compactionEntriesMin: 8)
            self.shortcut = Machine(settings: policy, checkpoint: 0)
            self.walk = Machine(settings: policy, checkpoint: 0, walksAll: true)
            self.random = SplitMix(seed: seed)
        }

        /// One random input to both; false when their outputs differ.
        mutating func step() -> Bool {
            let now = self.now
            let consumer = UInt64(self.random.below(4) + 1)
            let input: (inout Machine) -> [Machine.Output]
            switch self.random.below(10) {
            case 0:
                let limit = self.random.below(4) + 1
                input = { $0.join(consumer, maxInFlight: limit, now: now) }
            case 1:
                self.held[consumer] = nil
                input = { $0.leave(consumer, now: now) }
            case 2, 3:
                let count = min(self.random.below(6), self.shortcut.room)
                let events = (0..<count).map { offset -> (position: UInt64, stream: String, payload: String) in
                    let position = self.nextPosition + UInt64(offset)
                    return (position, "s-\(self.random.below(5))", "e\(position)")
                }
                self.nextPosition += UInt64(count) + UInt64(self.random.below(2))
                let scannedTo = self.nextPosition - 1
                input = { $0.load(events, scannedTo: scannedTo, now: now) }
            case 4, 5, 6:
                let ids = self.take(from: consumer)
                input = { $0.ack(consumer, ids, now: now) }
            case 7:
                let ids = self.take(from: consumer)
                let action = [Machine.NackAction.retry, .park, .skip][self.random.below(3)]
                input = { $0.nack(consumer, ids, action: action, reason: "", now: now) }
            case 8:
                self.now += [.milliseconds(300), .seconds(1), .seconds(11)][self.random.below(3)]
                let later = self.now
                input = { $0.tick(now: later) }
            default:
                // As the driver does: a replay reads the parked store a page at a time in
                // position order, and a stream is released once nothing of it is parked.
                let unread = self.parked.keys.filter { $0 > self.replayedUpTo }.sorted().prefix(3)
                let stream = "s-\(self.random.below(5))"
                if !unread.isEmpty, self.random.below(2) == 0 {
                    let page = unread.map { ($0, self.parked[$0] ?? "", "e\($0)") }
                    self.replayedUpTo = unread.last ?? self.replayedUpTo
                    input = { $0.replay(page, now: now) }
                } else if !self.parked.values.contains(stream) {
                    input = { $0.release(stream, now: now) }
                } else {
                    input = { $0.tick(now: now) }
                }
            }
            let fromShortcut = Self.normalized(input(&self.shortcut))
            let fromWalk = Self.normalized(input(&self.walk))
            guard fromShortcut == fromWalk else {
                self.mismatch = "shortcut \(fromShortcut), walk \(fromWalk)"
                return false
            }
            self.record(input: fromShortcut)
            return true
        }

        /// Some of what `consumer` holds, taken out of `held` (acks of them may be stale;
        /// the machines must ignore those alike).
        mutating func take(from consumer: UInt64) -> [UInt64] {
            let holding = self.held[consumer, default: []]
            let count = self.random.below(holding.count + 1)
            self.held[consumer] = Array(holding.dropFirst(count))
            return Array(holding.prefix(count))
        }

        mutating func record(input outputs: [Output]) {
            for output in outputs {
                switch output {
                case .deliver(let consumer, let deliveries):
                    self.held[consumer, default: []] += deliveries.map(\.id)
                case .park(let parks):
                    for park in parks { self.parked[park.position] = park.stream }
                case .unpark(let positions):
                    for position in positions { self.parked[position] = nil }
                default:
                    break
                }
            }
        }

        /// What the machines decided, in a form that compares: park lists sorted (a tick
        /// visits its entries in dictionary order, which differs between two machines).
        enum Output: Equatable {
            case deliver(UInt64, [DeliveryDescription])
            case settled([UInt64], UInt64)
            case park([PositionStream])
            case unpark([UInt64])
        }

        struct DeliveryDescription: Equatable {
            var id: UInt64
            var attempt: UInt32
            var position: UInt64
            var stream: String
            var payload: String
        }

        struct PositionStream: Equatable {
            var position: UInt64
            var stream: String
        }

        static func normalized(_ outputs: [Machine.Output]) -> [Output] {
            outputs.map { output in
                switch output {
                case .deliver(let consumer, let batch):
                    .deliver(consumer, batch.map {
                        DeliveryDescription(id: $0.deliveryID, attempt: $0.attempt, position: $0.position, stream: $0.stream, payload: $0.payload)
                    })
                case .settled(let positions, let checkpoint):
                    .settled(positions, checkpoint)
                case .park(let parks):
                    .park(parks.map { PositionStream(position: $0.position, stream: $0.stream) }.sorted { $0.position < $1.position })
                case .unpark(let positions):
                    .unpark(positions.sorted())
                }
            }
        }
    }

    struct SplitMix {
        var state: UInt64

        init(seed: UInt64) {
            self.state = seed
        }

        mutating func below(_ bound: Int) -> Int {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(max(1, bound)))
        }
    }
}

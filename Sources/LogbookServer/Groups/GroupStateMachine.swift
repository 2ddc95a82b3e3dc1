internal import LogbookStorage

/// The decisions of one persistent subscription group: who gets which event, when it is
/// retried or parked, and how far the checkpoint may move.
///
/// A plain value (STYLE.md): each input is a `mutating func` returning the `Output`s the
/// caller must carry out (send deliveries, persist settlements and parks); time comes in as
/// an argument. It holds at most `bufferMax` events; the caller loads more from the log as
/// `room` allows.
///
/// Positions below `checkpoint` are all settled (acked, skipped, parked, or not matched by
/// the group's selector). Above it, `settled` entries wait for the ones before them; the
/// checkpoint never passes an unsettled event. Replayed parked events travel beside the main
/// sequence and never move the checkpoint.
struct GroupStateMachine<Payload: Sendable>: Sendable {
    typealias ConsumerID = UInt64
    typealias Instant = ContinuousClock.Instant

    struct Delivery: Sendable {
        var deliveryID: UInt64
        var attempt: UInt32
        var position: UInt64
        var stream: String
        var payload: Payload
    }

    struct Parked: Sendable, Hashable {
        var position: UInt64
        var stream: String
        var reason: String
        var attempts: UInt32
    }

    enum NackAction: Sendable, Hashable {
        case retry
        case park
        case skip
    }

    enum Output: Sendable {
        /// Send these deliveries to the consumer.
        case deliver(ConsumerID, [Delivery])
        /// Persist: these main-sequence positions are settled, and the checkpoint is now this.
        case settled(positions: [UInt64], checkpoint: UInt64)
        /// Persist these events as parked (they count as settled for the checkpoint).
        case park([Parked])
        /// These replayed parked events are settled: remove them from the parked store.
        case unpark([UInt64])
    }

    let settings: GroupPolicy
    private(set) var checkpoint: UInt64
    /// Every position up to here has been loaded or was not matched.
    private(set) var readCursor: UInt64
    private var entries: [Key: Entry] = [:]
    /// The events of entries not yet settled.
    private var payloads: [Key: Payload] = [:]
    /// Main-sequence positions in order; `mainHead` skips the ones already released.
    private var mainOrder: [UInt64] = []
    private var mainHead = 0
    /// No main entry at an index of `mainOrder` below this is pending, so `dispatch` starts
    /// here: in flight, the entries before it would be passed over on every input.
    private var dispatchFrom = 0
    /// by_stream: the streams with an event in flight, and how many (one, but for a
    /// replayed event beside it). `dispatch` treats them as busy without visiting them.
    private var inFlightStreams: [String: Int] = [:]
    private var replayOrder: [UInt64] = []
    private var deliveries: [UInt64: Key] = [:]
    private var consumers: [ConsumerID: Consumer] = [:]
    /// The consumers by when they joined, the order round_robin turns in.
    private var joinOrder: [ConsumerID] = []
    private var joinCounter: UInt64 = 0
    private var nextDeliveryID: UInt64 = 1
    private var roundRobinNext = 0
    /// by_stream: streams whose events are parked behind a poison event (a sequenced park).
    private(set) var heldStreams: Set<String> = []

    /// Whether `dispatch` walks every entry from the head, as it did before `dispatchFrom`
    /// and `inFlightStreams`: the tests run both on the same inputs and compare.
    private let walksAll: Bool

    /// Positions settled above the checkpoint before a restart: never delivered again.
    private var settledBeforeRestart: Set<UInt64>

    /// A group as it was persisted: its checkpoint, what was settled above it, and (under
    /// by_stream) the streams held behind parked events.
    /// `firstDeliveryID` lets a restarted machine (a reset) go on numbering where the old
    /// one stopped, so a consumer's late ack of an old delivery cannot settle a new one.
    init(
        settings: GroupPolicy,
        checkpoint: UInt64,
        settledAbove: Set<UInt64> = [],
        heldStreams: Set<String> = [],
        firstDeliveryID: UInt64 = 1,
        walksAll: Bool = false
    ) {
        self.walksAll = walksAll
        self.nextDeliveryID = firstDeliveryID
        self.settings = settings
        self.checkpoint = checkpoint
        self.readCursor = checkpoint
        self.settledBeforeRestart = settledAbove
        self.heldStreams = settings.strategy == .byStream ? heldStreams : []
    }

    // MARK: Reading

    /// How many more events the caller may load.
    var room: Int { max(0, self.settings.bufferMax - self.entries.count) }

    var inFlightCount: Int { self.deliveries.count }
    /// The id the next delivery will get.
    var upcomingDeliveryID: UInt64 { self.nextDeliveryID }
    var consumerCount: Int { self.consumers.count }

    /// When `tick` next has something to do (an ack deadline or a retry coming due).
    var nextWakeUp: Instant? {
        var earliest: Instant?
        for entry in self.entries.values {
            let due: Instant?
            switch entry.state {
            case .pending(let eligibleAt): due = eligibleAt
            case .inFlight(_, _, let deadline): due = deadline
            case .settled: due = nil
            }
            if let due, earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        return earliest
    }

    /// The stream of the event a delivery in flight carries.
    func stream(ofDelivery deliveryID: UInt64) -> String? {
        self.deliveries[deliveryID].flatMap { self.entries[$0]?.stream }
    }

    /// The consumers that hold a delivery now.
    var holders: Set<ConsumerID> {
        var holders = Set<ConsumerID>()
        for key in self.deliveries.values {
            if case .inFlight(let holder, _, _) = self.entries[key]?.state { holders.insert(holder) }
        }
        return holders
    }

    /// Whether `consumer` holds this delivery now (so an ack of it will settle something).
    func holds(_ consumer: ConsumerID, _ deliveryID: UInt64) -> Bool {
        guard let key = self.deliveries[deliveryID], case .inFlight(let holder, _, _) = self.entries[key]?.state else { return false }
        return holder == consumer
    }

    // MARK: Inputs

    mutating func join(_ consumer: ConsumerID, maxInFlight: Int? = nil, now: Instant) -> [Output] {
        self.joinCounter += 1
        let limit = min(maxInFlight ?? self.settings.maxInFlight, self.settings.maxInFlight)
        self.consumers[consumer] = Consumer(joined: self.joinCounter, maxInFlight: max(1, limit))
        self.joinOrder = self.consumers.sorted { $0.value.joined < $1.value.joined }.map(\.key)
        return self.dispatch(now: now)
    }

    /// A consumer left: what it held goes back to the others, its attempts still counted.
    mutating func leave(_ consumer: ConsumerID, now: Instant) -> [Output] {
        guard let left = self.consumers.removeValue(forKey: consumer) else { return [] }
        self.joinOrder.removeAll { $0 == consumer }
        for deliveryID in left.inFlight {
            guard let key = self.deliveries.removeValue(forKey: deliveryID) else { continue }
            self.landed(key)
            self.makePending(key, eligibleAt: nil)
        }
        return self.dispatch(now: now)
    }

    /// Events read from the log after `readCursor`, in position order, and how far the read
    /// looked (`scannedTo` ≥ the last event's position: positions in between did not match).
    mutating func load(_ events: [(position: UInt64, stream: String, payload: Payload)], scannedTo: UInt64, now: Instant) -> [Output] {
        var parks: [Parked] = []
        for event in events where event.position > self.readCursor {
            self.readCursor = event.position
            if self.settledBeforeRestart.remove(event.position) != nil {
                self.insert(Entry(position: event.position, stream: event.stream, origin: .main, state: .settled))
                continue
            }
            if self.heldStreams.contains(event.stream) {
                // A later event of a stream parked behind a poison event waits in the
                // parked store too, so the stream's order survives the replay.
                parks.append(Parked(position: event.position, stream: event.stream, reason: "held behind a parked event of its stream", attempts: 0))
                self.insert(Entry(position: event.position, stream: event.stream, origin: .main, state: .settled))
                continue
            }
            self.insert(Entry(position: event.position, stream: event.stream, origin: .main, state: .pending(eligibleAt: nil)))
            self.payloads[Key(origin: .main, position: event.position)] = event.payload
        }
        self.readCursor = max(self.readCursor, scannedTo)
        var outputs: [Output] = parks.isEmpty ? [] : [.park(parks)]
        outputs += self.advance(settledNow: parks.map(\.position))
        return outputs + self.dispatch(now: now)
    }

    /// Parked events fed back for another round of deliveries, in position order.
    mutating func replay(_ events: [(position: UInt64, stream: String, payload: Payload)], now: Instant) -> [Output] {
        for event in events where self.entries[Key(origin: .replay, position: event.position)] == nil {
            let key = Key(origin: .replay, position: event.position)
            self.entries[key] = Entry(position: event.position, stream: event.stream, origin: .replay, state: .pending(eligibleAt: nil))
            self.payloads[key] = event.payload
            self.replayOrder.append(event.position)
        }
        return self.dispatch(now: now)
    }

    /// The caller found no parked events left for `stream`: its new events flow again.
    mutating func release(_ stream: String, now: Instant) -> [Output] {
        guard self.heldStreams.remove(stream) != nil else { return [] }
        return self.dispatch(now: now)
    }

    mutating func ack(_ consumer: ConsumerID, _ deliveryIDs: [UInt64], now: Instant) -> [Output] {
        var settledMain: [UInt64] = []
        var unparked: [UInt64] = []
        for deliveryID in deliveryIDs {
            guard let key = self.take(deliveryID, from: consumer) else { continue }
            self.settle(key)
            if key.origin == .main { settledMain.append(key.position) } else { unparked.append(key.position) }
        }
        return self.finishSettling(main: settledMain, replayed: unparked, now: now)
    }

    mutating func nack(_ consumer: ConsumerID, _ deliveryIDs: [UInt64], action: NackAction, reason: String, now: Instant) -> [Output] {
        var settledMain: [UInt64] = []
        var unparked: [UInt64] = []
        var parks: [Parked] = []
        for deliveryID in deliveryIDs {
            guard let key = self.take(deliveryID, from: consumer), let entry = self.entries[key] else { continue }
            switch action {
            case .skip:
                self.settle(key)
                if key.origin == .main { settledMain.append(key.position) } else { unparked.append(key.position) }
            case .park:
                parks += self.park(key, reason: reason.isEmpty ? "parked by a consumer" : reason, settled: &settledMain)
            case .retry:
                parks += self.retryOrPark(key, entry: entry, reason: reason.isEmpty ? "retried by a consumer" : reason, now: now, settled: &settledMain)
            }
        }
        var outputs: [Output] = parks.isEmpty ? [] : [.park(parks)]
        outputs += self.finishSettling(main: settledMain, replayed: unparked, now: now)
        return outputs
    }

    /// Ack deadlines that passed become retries (or parks); retries coming due are sent.
    mutating func tick(now: Instant) -> [Output] {
        var settledMain: [UInt64] = []
        var parks: [Parked] = []
        for (key, entry) in self.entries {
            guard case .inFlight(let consumer, let deliveryID, let deadline) = entry.state, deadline <= now else { continue }
            _ = self.take(deliveryID, from: consumer)
            parks += self.retryOrPark(key, entry: entry, reason: "not acked within \(self.settings.ackTimeout)", now: now, settled: &settledMain)
        }
        var outputs: [Output] = parks.isEmpty ? [] : [.park(parks)]
        outputs += self.finishSettling(main: settledMain, replayed: [], now: now)
        return outputs
    }

    // MARK: Internals

    private mutating func insert(_ entry: Entry) {
        self.entries[Key(origin: .main, position: entry.position)] = entry
        self.mainOrder.append(entry.position)
    }

    /// Settles an entry; a settled entry only waits for the checkpoint, without its event.
    private mutating func settle(_ key: Key) {
        self.entries[key]?.state = .settled
        self.payloads[key] = nil
    }

    /// Makes an entry pending again, and `dispatch` look at it.
    private mutating func makePending(_ key: Key, eligibleAt: Instant?) {
        self.entries[key]?.state = .pending(eligibleAt: eligibleAt)
        guard key.origin == .main else { return }
        // `mainOrder` ascends: the first index at or past the position.
        var (low, high) = (self.mainHead, self.mainOrder.count)
        while low < high {
            let middle = (low + high) / 2
            if self.mainOrder[middle] < key.position { low = middle + 1 } else { high = middle }
        }
        self.dispatchFrom = min(self.dispatchFrom, low)
    }

    /// An entry's delivery is over (settled, taken back or given back): its stream is no
    /// longer busy on its account.
    private mutating func landed(_ key: Key) {
        guard self.settings.strategy == .byStream, let stream = self.entries[key]?.stream else { return }
        if let count = self.inFlightStreams[stream], count > 1 {
            self.inFlightStreams[stream] = count - 1
        } else {
            self.inFlightStreams[stream] = nil
        }
    }

    /// Removes a delivery if `consumer` holds it; nil for a stale or foreign delivery id.
    private mutating func take(_ deliveryID: UInt64, from consumer: ConsumerID) -> Key? {
        guard let key = self.deliveries[deliveryID],
            case .inFlight(let holder, _, _) = self.entries[key]?.state, holder == consumer
        else { return nil }
        self.deliveries[deliveryID] = nil
        self.consumers[consumer]?.inFlight.remove(deliveryID)
        self.landed(key)
        return key
    }

    private mutating func retryOrPark(_ key: Key, entry: Entry, reason: String, now: Instant, settled: inout [UInt64]) -> [Parked] {
        if entry.attempts >= self.settings.maxDeliveries {
            return self.park(key, reason: "\(reason); delivered \(entry.attempts) times", settled: &settled)
        }
        let exponent = min(Int(entry.attempts) - 1, self.settings.retryBackoffDoublingsMax)
        let backoff = self.settings.retryBackoff * (1 << max(0, exponent))
        self.makePending(key, eligibleAt: now + backoff)
        return []
    }

    /// Parks an event; under by_stream also every later event of its stream held here, so
    /// the stream's order survives (a sequenced park).
    private mutating func park(_ key: Key, reason: String, settled: inout [UInt64]) -> [Parked] {
        guard let entry = self.entries[key] else { return [] }
        self.settle(key)
        if key.origin == .replay {
            // Parked again: it stays in the parked store; only its replay copy goes.
            self.entries[key] = nil
            return []
        }
        settled.append(key.position)
        var parks = [Parked(position: key.position, stream: entry.stream, reason: reason, attempts: entry.attempts)]
        guard self.settings.strategy == .byStream else { return parks }
        self.heldStreams.insert(entry.stream)
        for position in self.mainOrder[self.mainHead...] where position > key.position {
            let later = Key(origin: .main, position: position)
            guard let held = self.entries[later], held.stream == entry.stream, case .pending = held.state else { continue }
            self.settle(later)
            settled.append(position)
            parks.append(Parked(position: position, stream: held.stream, reason: "held behind the parked event at \(key.position)", attempts: held.attempts))
        }
        return parks
    }

    private mutating func finishSettling(main: [UInt64], replayed: [UInt64], now: Instant) -> [Output] {
        for position in replayed {
            self.entries[Key(origin: .replay, position: position)] = nil
        }
        self.replayOrder.removeAll { self.entries[Key(origin: .replay, position: $0)] == nil }
        var outputs: [Output] = replayed.isEmpty ? [] : [.unpark(replayed)]
        outputs += self.advance(settledNow: main)
        return outputs + self.dispatch(now: now)
    }

    /// Moves the checkpoint over the settled prefix and releases those entries.
    private mutating func advance(settledNow: [UInt64]) -> [Output] {
        let before = self.checkpoint
        while self.mainHead < self.mainOrder.count {
            let key = Key(origin: .main, position: self.mainOrder[self.mainHead])
            guard case .settled = self.entries[key]?.state else { break }
            self.entries[key] = nil
            self.mainHead += 1
        }
        if self.mainHead < self.mainOrder.count {
            self.checkpoint = max(self.checkpoint, self.mainOrder[self.mainHead] - 1)
        } else {
            self.checkpoint = max(self.checkpoint, self.readCursor)
        }
        if self.mainHead > self.settings.compactionEntriesMin, self.mainHead * 2 > self.mainOrder.count {
            self.mainOrder.removeFirst(self.mainHead)
            self.dispatchFrom = max(0, self.dispatchFrom - self.mainHead)
            self.mainHead = 0
        }
        guard !settledNow.isEmpty || self.checkpoint != before else { return [] }
        return [.settled(positions: settledNow.filter { $0 > self.checkpoint }.sorted(), checkpoint: self.checkpoint)]
    }

    /// Hands eligible events to consumers with room, replayed ones first, each sequence in
    /// position order. Main entries before `dispatchFrom` are in flight or settled: they are
    /// not visited, and under by_stream `inFlightStreams` stands for what they would add to
    /// the busy streams.
    private mutating func dispatch(now: Instant) -> [Output] {
        guard self.consumers.values.contains(where: \.hasRoom) else { return [] }
        var batches: [ConsumerID: [Delivery]] = [:]
        var busyStreams = self.walksAll ? [] : Set(self.inFlightStreams.keys)
        for position in self.replayOrder {
            if self.offer(Key(origin: .replay, position: position), now: now, busy: &busyStreams, to: &batches) == .noRoom {
                return Self.outputs(batches)
            }
        }
        var index = self.walksAll ? self.mainHead : max(self.mainHead, self.dispatchFrom)
        var firstLeft: Int?
        offering: while index < self.mainOrder.count {
            switch self.offer(Key(origin: .main, position: self.mainOrder[index]), now: now, busy: &busyStreams, to: &batches) {
            case .noRoom:
                firstLeft = firstLeft ?? index
                break offering
            case .left:
                firstLeft = firstLeft ?? index
            case .delivered, .notPending:
                break
            }
            index += 1
        }
        self.dispatchFrom = firstLeft ?? self.mainOrder.count
        return Self.outputs(batches)
    }

    private enum Offer {
        /// No consumer has room: nothing more can go out now.
        case noRoom
        /// In flight, settled or gone.
        case notPending
        case delivered
        /// Pending, but not deliverable now (its stream is busy or held, its retry is not
        /// due, or its stream's consumer is full).
        case left
    }

    /// Delivers the entry at `key` if it may go out now.
    private mutating func offer(_ key: Key, now: Instant, busy: inout Set<String>, to batches: inout [ConsumerID: [Delivery]]) -> Offer {
        guard self.consumers.values.contains(where: \.hasRoom) else { return .noRoom }
        guard let entry = self.entries[key] else { return .notPending }
        if case .settled = entry.state { return .notPending }
        if self.settings.strategy == .byStream {
            // Only the first unsettled event of a stream may be out; replayed events of a
            // stream go before its held main events.
            guard busy.insert(entry.stream).inserted else {
                if case .pending = entry.state { return .left }
                return .notPending
            }
            if key.origin == .main, self.heldStreams.contains(entry.stream) { return .left }
        }
        guard case .pending(let eligibleAt) = entry.state else { return .notPending }
        guard eligibleAt.map({ $0 <= now }) ?? true, let payload = self.payloads[key],
            let consumer = self.pickConsumer(for: entry.stream)
        else { return .left }
        let deliveryID = self.nextDeliveryID
        self.nextDeliveryID += 1
        let attempt = entry.attempts + 1
        self.entries[key]?.attempts = attempt
        self.entries[key]?.state = .inFlight(consumer: consumer, deliveryID: deliveryID, deadline: now + self.settings.ackTimeout)
        self.deliveries[deliveryID] = key
        self.consumers[consumer]?.inFlight.insert(deliveryID)
        if self.settings.strategy == .byStream { self.inFlightStreams[entry.stream, default: 0] += 1 }
        batches[consumer, default: []].append(
            Delivery(deliveryID: deliveryID, attempt: attempt, position: entry.position, stream: entry.stream, payload: payload)
        )
        return .delivered
    }

    private static func outputs(_ batches: [ConsumerID: [Delivery]]) -> [Output] {
        batches.sorted { $0.key < $1.key }.map { .deliver($0.key, $0.value) }
    }

    private mutating func pickConsumer(for stream: String) -> ConsumerID? {
        switch self.settings.strategy {
        case .single:
            // The longest-standing consumer is active; the others stand by.
            guard let active = self.consumers.min(by: { $0.value.joined < $1.value.joined }) else { return nil }
            return active.value.hasRoom ? active.key : nil
        case .roundRobin:
            let ids = self.joinOrder
            for offset in 0..<ids.count {
                let id = ids[(self.roundRobinNext + offset) % ids.count]
                if self.consumers[id]?.hasRoom == true {
                    self.roundRobinNext = (self.roundRobinNext + offset + 1) % ids.count
                    return id
                }
            }
            return nil
        case .byStream:
            // Rendezvous hashing: a stream keeps its consumer while that consumer stays, and
            // only the streams of one that leaves move.
            guard let owner = self.consumers.keys.max(by: { Self.weight(stream, $0) < Self.weight(stream, $1) }) else { return nil }
            return self.consumers[owner]?.hasRoom == true ? owner : nil
        }
    }

    /// FNV-1a over the stream name and the consumer id: stable across runs, unlike Hasher.
    static func weight(_ stream: String, _ consumer: ConsumerID) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3
        }
        var id = consumer
        for _ in 0..<8 {
            hash = (hash ^ (id & 0xFF)) &* 0x0100_0000_01b3
            id >>= 8
        }
        return hash
    }
}

// The machine's bookkeeping types live outside the generic struct: nested in it, each is
// generic too, and dictionary operations on them looked up type metadata at run time
// (4% of the daemon's samples draining a group; about as much CPU per event went).

private enum Origin: Hashable {
    case main
    case replay
}

private enum EntryState {
    case pending(eligibleAt: ContinuousClock.Instant?)
    case inFlight(consumer: UInt64, deliveryID: UInt64, deadline: ContinuousClock.Instant)
    case settled
}

/// An event the machine holds; its payload is in `payloads` until it settles, so that
/// looking an entry up copies no event.
private struct Entry {
    var position: UInt64
    var stream: String
    var origin: Origin
    var state: EntryState
    var attempts: UInt32 = 0
}

private struct Key: Hashable {
    var origin: Origin
    var position: UInt64
}

private struct Consumer {
    var joined: UInt64
    var maxInFlight: Int
    var inFlight: Set<UInt64> = []
    var hasRoom: Bool { self.inFlight.count < self.maxInFlight }
}

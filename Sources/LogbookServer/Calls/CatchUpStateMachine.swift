/// The decisions of one catch-up subscription: what to read next, and when to tell the
/// client `CaughtUp`, `FellBehind` or `Checkpoint` (DESIGN.md §5).
///
/// A plain value (STYLE.md): each input is a `mutating func` that returns what the caller
/// must do; the caller reads the log, sends the frames, waits for credit and for the head
/// to move, and passes the time in. The subscription reads the log by position up to the
/// published head, then waits for the head to move and reads again: one source of truth
/// for history and live events, so the switch has no gap and no duplicate.
struct CatchUpStateMachine {
    /// An event as the machine sees it: where it is in the log and in its stream.
    protocol Event {
        var position: UInt64 { get }
        var revision: UInt64 { get }
    }

    enum State: Equatable {
        /// Reading history: CaughtUp has not been sent since the start or since the
        /// subscription fell behind.
        case catchingUp
        /// At the head once (CaughtUp sent): live until it drops `fellBehindEventsMin`
        /// behind.
        case live
    }

    /// What to do when the head is known.
    enum HeadAction: Equatable {
        /// Read the matching events with positions in (`after`, `upTo`], at most
        /// `batchLimit(credit:)` of them once there is credit, and pass them to `read`.
        case read(after: UInt64, upTo: UInt64)
        /// Send CaughtUp at this position, then wait for a head above it.
        case sendCaughtUp(UInt64)
        /// Wait for a head above this position.
        case waitForHead(after: UInt64)
    }

    /// What to do with a batch that was read, in order.
    enum ReadAction<E: Event> {
        /// Send these events (never empty) and spend their count of credit.
        case send([E])
        case sendFellBehind(UInt64)
        case sendCheckpoint(UInt64)
    }

    private(set) var state: State = .catchingUp
    /// The position after which events are still to be sent: every matching event at or
    /// below it was sent (or left out by `minRevision`).
    private(set) var cursor: UInt64
    /// For a stream started at a revision: the first revision to send.
    private let minRevision: UInt64?
    private var lastCheckpoint: (position: UInt64, time: ContinuousClock.Instant)
    private let batchEventsMax: Int
    private let fellBehindEventsMin: UInt64
    private let checkpointInterval: Duration

    /// A subscription that sends the events after `cursor` (with `minRevision` or later,
    /// when given), starting at `now`.
    init(
        cursor: UInt64, minRevision: UInt64?, batchEventsMax: Int, fellBehindEventsMin: UInt64, checkpointInterval: Duration,
        now: ContinuousClock.Instant
    ) {
        self.cursor = cursor
        self.minRevision = minRevision
        self.lastCheckpoint = (cursor, now)
        self.batchEventsMax = batchEventsMax
        self.fellBehindEventsMin = fellBehindEventsMin
        self.checkpointInterval = checkpointInterval
    }

    /// The log's head is `head` (read now, or just published).
    mutating func head(_ head: UInt64) -> HeadAction {
        if self.cursor < head {
            return .read(after: self.cursor, upTo: head)
        }
        guard self.state == .catchingUp else { return .waitForHead(after: self.cursor) }
        self.state = .live
        return .sendCaughtUp(self.cursor)
    }

    /// How many events one read may return with `credit` granted: credit bounds what a
    /// subscriber that stops reading costs.
    func batchLimit(credit: UInt64) -> Int {
        Int(min(credit, UInt64(self.batchEventsMax)))
    }

    /// The events a `.read(after:upTo:)` returned, oldest first, asked for with `limit`.
    mutating func read<E: Event>(
        _ events: [E], limit: Int, upTo head: UInt64, now: ContinuousClock.Instant
    ) -> [ReadAction<E>] {
        // A short batch means nothing else matches up to the head.
        let scannedTo = events.count < limit ? head : (events.last?.position ?? head)
        var toSend = events
        if let minRevision = self.minRevision {
            toSend.removeAll { $0.revision < minRevision }
        }
        var actions: [ReadAction<E>] = []
        if !toSend.isEmpty {
            actions.append(.send(toSend))
        }
        self.cursor = max(self.cursor, scannedTo)
        if self.state == .live, head - self.cursor >= self.fellBehindEventsMin {
            self.state = .catchingUp
            actions.append(.sendFellBehind(self.cursor))
        }
        // A filtered subscription says how far it has looked, so a client that stores its
        // position does not scan the skipped events again; never more often than the
        // interval.
        if toSend.isEmpty, self.cursor > self.lastCheckpoint.position,
            now - self.lastCheckpoint.time >= self.checkpointInterval
        {
            self.lastCheckpoint = (self.cursor, now)
            actions.append(.sendCheckpoint(self.cursor))
        }
        return actions
    }
}

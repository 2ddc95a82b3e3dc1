internal import Dispatch
internal import Foundation
internal import GRDB
internal import Logging
internal import SystemPackage

/// The event-id filter kept on disk, so a start adds only the ids committed after it was
/// saved instead of reading the whole event-id index (which grows with the log).
///
/// The file says up to which position it covers every id, and names the event at that
/// position (its id, the anchor); a start checks the anchor against the log, so a file
/// that belongs to another log, or to a log whose tail was cut, is not used. A file that
/// is damaged, torn or missing is rebuilt from SQLite as before: the filter only has to
/// hold every id it claims to, and extra bits cost no more than a lookup.
///
/// Layout, little-endian: magic (8 bytes), covered-up-to position, anchor id (high, low),
/// id count, word count, the words, then a CRC32C of everything before it.
extension EventIDFilter {
    static let fileName = "event-ids.filter"

    /// Beside `logbook.sqlite` in the data directory, with what else is derived from the
    /// log: `log/` holds the segment log's own files only.
    static func path(besides log: SegmentLog) -> String {
        log.directory.removingLastComponent().appending(fileName).string
    }
    private static let magic = Array("LBIDFLT1".utf8)
    private static let headerBytes = 48

    /// The file's bytes for a filter that holds every id up to `coveredUpTo`, the event
    /// at which has id `anchor`.
    func encoded(coveredUpTo: UInt64, anchor: EventID) -> [UInt8] {
        let total = Self.headerBytes + words.count * 8 + 4
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.copyBytes(from: Self.magic)
            raw.storeLittleEndian(coveredUpTo, at: 8)
            raw.storeLittleEndian(anchor.high, at: 16)
            raw.storeLittleEndian(anchor.low, at: 24)
            raw.storeLittleEndian(UInt64(count), at: 32)
            raw.storeLittleEndian(UInt64(words.count), at: 40)
            for (index, word) in words.enumerated() {
                raw.storeLittleEndian(word, at: Self.headerBytes + index * 8)
            }
            let body = UnsafeRawBufferPointer(rebasing: raw[..<(total - 4)])
            raw.storeLittleEndian(CRC32C.checksum(body), at: total - 4)
            initialized = total
        }
    }

    /// What a file holds, nil when it is not a whole, undamaged filter file.
    static func decode(_ bytes: [UInt8]) -> (filter: EventIDFilter, coveredUpTo: UInt64, anchor: EventID)? {
        bytes.withUnsafeBytes { raw -> (EventIDFilter, UInt64, EventID)? in
            guard raw.count >= headerBytes + 4, raw.prefix(magic.count).elementsEqual(magic) else { return nil }
            let wordCount = raw.loadLittleEndian(at: 40, as: UInt64.self)
            // A power of two of bits, as `init(expected:)` makes them.
            guard wordCount > 0, wordCount.nonzeroBitCount == 1, wordCount <= UInt64(raw.count / 8),
                raw.count == headerBytes + Int(wordCount) * 8 + 4
            else { return nil }
            let body = UnsafeRawBufferPointer(rebasing: raw[..<(raw.count - 4)])
            guard CRC32C.checksum(body) == raw.loadLittleEndian(at: raw.count - 4, as: UInt32.self) else { return nil }
            var words = [UInt64](repeating: 0, count: Int(wordCount))
            for index in words.indices {
                words[index] = raw.loadLittleEndian(at: headerBytes + index * 8, as: UInt64.self)
            }
            let filter = EventIDFilter(words: words, count: Int(clamping: raw.loadLittleEndian(at: 32, as: UInt64.self)))
            let anchor = EventID(
                high: raw.loadLittleEndian(at: 16, as: UInt64.self), low: raw.loadLittleEndian(at: 24, as: UInt64.self))
            return (filter, raw.loadLittleEndian(at: 8, as: UInt64.self), anchor)
        }
    }

    /// The filter for a log whose events up to `log.headPosition` exist and whose SQLite
    /// tables hold those up to the database's head: from the saved file when it is sound
    /// (adding the ids committed after it from SQLite, and `extra`), else built from the
    /// whole event-id index. Reports which it did in `rebuilt`.
    static func open(
        _ db: Database, log: SegmentLog, adding extra: [EventID], expectedMore: Int, logger: Logger
    ) throws -> (filter: EventIDFilter, rebuilt: Bool) {
        let path = path(besides: log)
        if let bytes = FileManager.default.contents(atPath: path), let saved = decode([UInt8](bytes)) {
            // A filter too full for the ids to come is still used: the writer rebuilds it
            // larger when it overflows (`LogAppender.growFilter`), not the start.
            if saved.coveredUpTo <= log.headPosition, try anchorID(at: saved.coveredUpTo, in: log) == saved.anchor,
                saved.filter.count + extra.count <= saved.filter.capacity
            {
                var filter = saved.filter
                let ids = try Row.fetchCursor(
                    db, sql: "SELECT event_id FROM events WHERE position > ?", arguments: [Int64(clamping: saved.coveredUpTo)])
                while let row = try ids.next() {
                    filter.insert(try eventID(row))
                }
                for id in extra {
                    filter.insert(id)
                }
                return (filter, false)
            }
            logger.info("the saved event-id filter does not match the log; rebuilding it", metadata: ["file": "\(path)"])
        }
        return (try build(db, adding: extra, expectedMore: expectedMore), true)
    }

    /// The id of the event at `position` in the log; the zero id for position 0 (the
    /// empty log, whose filter is empty).
    static func anchorID(at position: UInt64, in log: SegmentLog) throws -> EventID? {
        guard position > 0 else { return EventID(high: 0, low: 0) }
        let records = try log.read(from: position, direction: .forwards, countMax: 1, bytesMax: .max)
        guard let record = records.first, record.position == position else { return nil }
        return record.payload.withUnsafeBytes { EventRecord.decode($0, position: position)?.id }
    }

    static func eventID(_ row: Row) throws -> EventID {
        guard let id = try row.withUnsafeData(atIndex: 0, { $0.flatMap { EventID(byteSequence: $0) } }) else {
            throw StorageError.corrupt("an event id in the events table is not 16 bytes")
        }
        return id
    }
}

/// Writes the log writer's filter to disk off its thread: the writer hands over a copy
/// (copy-on-write, so the hand-over costs a retain until its next insert) and goes on.
/// Saves replace the file whole (a temporary file renamed over it), one at a time; a
/// save asked for while one runs is skipped, the next one covers it.
final class EventIDFilterSaver: @unchecked Sendable {
    private let path: String
    private let logger: Logger
    private let queue = DispatchQueue(label: "logbook.event-id-filter")
    /// Touched on the log writer thread only.
    private var inFlight: DispatchWorkItem?

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    func save(_ filter: EventIDFilter, coveredUpTo: UInt64, anchor: EventID) {
        if let inFlight, !inFlight.isCancelled, inFlight.wait(timeout: .now()) == .timedOut { return }
        let path = path
        let logger = logger
        let work = DispatchWorkItem {
            Self.write(filter.encoded(coveredUpTo: coveredUpTo, anchor: anchor), to: path, logger: logger)
        }
        inFlight = work
        queue.async(execute: work)
    }

    /// Saves now and returns once the file is written (the store is closing).
    func saveAndWait(_ filter: EventIDFilter, coveredUpTo: UInt64, anchor: EventID) {
        queue.sync {}
        let bytes = filter.encoded(coveredUpTo: coveredUpTo, anchor: anchor)
        Self.write(bytes, to: path, logger: logger)
    }

    private static func write(_ bytes: [UInt8], to path: String, logger: Logger) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            // The next start rebuilds it from SQLite: slower, never wrong.
            logger.warning("cannot save the event-id filter", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }
}

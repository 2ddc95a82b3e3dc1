internal import LogbookCommandLine
internal import Synchronization

/// Standard output with a buffer: the read path prints many lines, and one `write` per
/// 64 KiB instead of one per line keeps it cheap.
struct StandardOutput {
    private var buffer: [UInt8] = []
    private static let flushBytes = 64 << 10

    init() {
        self.buffer.reserveCapacity(Self.flushBytes + 4096)
    }

    /// Appends bytes; the caller ends each line with `endLine()`.
    mutating func write(_ body: (inout [UInt8]) -> Void) {
        body(&self.buffer)
    }

    mutating func write(_ text: String) {
        self.buffer.append(contentsOf: text.utf8)
    }

    mutating func endLine() {
        self.buffer.append(UInt8(ascii: "\n"))
        if self.buffer.count >= Self.flushBytes {
            self.flush()
        }
    }

    mutating func line(_ text: String) {
        self.write(text)
        self.endLine()
    }

    mutating func flush() {
        System.writeAll(self.buffer, to: 1)
        self.buffer.removeAll(keepingCapacity: true)
    }
}

/// ``StandardOutput`` shared by a consuming task and the confirmations that arrive on the
/// connection's event loop; each line is written whole.
final class SharedOutput: Sendable {
    private let output = Mutex(StandardOutput())

    func line(_ body: (inout [UInt8]) -> Void) {
        self.output.withLock { output in
            output.write(body)
            output.endLine()
        }
    }

    func flush() {
        self.output.withLock { $0.flush() }
    }
}

/// How a command prints its result: `--json` chooses between one JSON object per line and
/// readable lines.
extension GlobalOptions {
    /// Prints one result: the JSON object `object` appends with `--json`, else `lines`.
    func print(_ object: (inout [UInt8]) -> Void, orLines lines: @autoclosure () -> [String]) {
        var output = StandardOutput()
        defer { output.flush() }
        if self.json {
            output.write(object)
            output.endLine()
        } else {
            for line in lines() {
                output.line(line)
            }
        }
    }

    /// Prints one result: the JSON object `object` appends with `--json`, else `line`.
    func print(_ object: (inout [UInt8]) -> Void, orLine line: @autoclosure () -> String) {
        self.print(object, orLines: [line()])
    }

    /// Prints a list: with `--json` one object per item, else `table` (a heading, then a
    /// row per item), or `empty` when there is no item.
    func print<Item>(
        _ items: [Item],
        object: (Item, inout [UInt8]) -> Void,
        orTable table: @autoclosure () -> [[String]],
        empty: String
    ) {
        var output = StandardOutput()
        defer { output.flush() }
        if self.json {
            for item in items {
                output.write { object(item, &$0) }
                output.endLine()
            }
        } else {
            output.table(table(), empty: empty)
        }
    }
}

extension StandardOutput {
    /// Prints rows (the first is the heading) as aligned columns, or `empty` when there is
    /// only the heading.
    mutating func table(_ rows: [[String]], empty: String) {
        guard rows.count > 1 else {
            return self.line(empty)
        }
        for line in PlainText.table(rows) {
            self.line(line)
        }
    }
}

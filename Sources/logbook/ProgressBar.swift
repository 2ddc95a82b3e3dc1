#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A progress bar on standard error, redrawn in place at most ten times a second, and only
/// when standard error is a terminal: a pipe or a log gets the closing summary alone.
struct ProgressBar {
    private static let width = 30
    private static let redrawNanoseconds: UInt64 = 100_000_000

    private let total: UInt64?
    private let unit: String
    private let isShown = isatty(2) != 0
    private var lastDrawn: UInt64 = 0

    /// `total`: the amount at 100 % (nil: unknown, a count is shown); `unit`: what the
    /// count counts.
    init(total: UInt64?, unit: String) {
        (self.total, self.unit) = (total, unit)
    }

    /// `done` of `total`, and `count` of the unit so far.
    mutating func update(done: UInt64, count: Int) {
        guard self.isShown else { return }
        let now = System.monotonicNanoseconds()
        guard now - self.lastDrawn >= Self.redrawNanoseconds else { return }
        self.lastDrawn = now
        var line = "\r"
        if let total = self.total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let filled = Int(fraction * Double(Self.width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: Self.width - filled) + "] "
            line += "\(Int(fraction * 100))% "
        }
        line += "\(count) \(self.unit)\u{1B}[K"
        System.writeAll(Array(line.utf8), to: 2)
    }

    /// Clears the bar, for a command whose summary goes elsewhere (standard output).
    func clear() {
        if self.isShown { System.writeAll(Array("\r\u{1B}[K".utf8), to: 2) }
    }

    /// Clears the bar and writes `summary` on its own line.
    func finish(_ summary: String) {
        let clear = self.isShown ? "\r\u{1B}[K" : ""
        System.writeAll(Array((clear + summary + "\n").utf8), to: 2)
    }
}

/// What `logbook top` shows, as lines of text, from two scrapes of the daemon's metrics
/// (Prometheus text, `logbook metrics`) a moment apart; no I/O, so it is tested as values.
package enum TopScreen {
    /// One scrape: each sample by its family name, with its labels.
    package struct Scrape: Sendable {
        package var samples: [String: [(labels: [String: String], value: Double)]] = [:]
        /// When it was taken, on a monotonic clock in nanoseconds.
        package var takenAt: UInt64

        /// Parses the text exposition; lines it does not understand are skipped.
        package init(text: String, takenAt: UInt64) {
            self.takenAt = takenAt
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
                let series = line[..<space]
                var name = Substring(series)
                var labels: [String: String] = [:]
                if let brace = series.firstIndex(of: "{"), series.hasSuffix("}") {
                    name = series[..<brace]
                    labels = Self.labels(series[series.index(after: brace)..<series.index(before: series.endIndex)])
                }
                self.samples[String(name), default: []].append((labels, value))
            }
        }

        /// `a="x",b="y"`; values as Prometheus escapes them (`\"`, `\\`, `\n`).
        private static func labels(_ text: Substring) -> [String: String] {
            var labels: [String: String] = [:]
            var rest = text
            while let equals = rest.firstIndex(of: "=") {
                let key = String(rest[..<equals]).trimmingLeadingComma()
                var index = rest.index(after: equals)
                guard index < rest.endIndex, rest[index] == "\"" else { break }
                index = rest.index(after: index)
                var value = ""
                while index < rest.endIndex, rest[index] != "\"" {
                    if rest[index] == "\\", rest.index(after: index) < rest.endIndex {
                        index = rest.index(after: index)
                        value.append(rest[index] == "n" ? "\n" : rest[index])
                    } else {
                        value.append(rest[index])
                    }
                    index = rest.index(after: index)
                }
                labels[key] = value
                rest = index < rest.endIndex ? rest[rest.index(after: index)...] : ""
            }
            return labels
        }

        /// The value of an unlabelled sample, or the sum of a family's samples.
        package func value(_ name: String) -> Double? {
            self.samples[name].map { $0.reduce(0) { $0 + $1.value } }
        }

        /// The samples of `name`, by the value of their label `key`.
        package func byLabel(_ name: String, _ key: String) -> [String: Double] {
            var values: [String: Double] = [:]
            for sample in self.samples[name] ?? [] {
                if let label = sample.labels[key] { values[label] = sample.value }
            }
            return values
        }
    }

    /// The screen for `current`, with rates since `previous` (none on the first).
    package static func lines(socket: String, previous: Scrape?, current: Scrape, width: Int) -> [String] {
        let seconds = previous.map { Double(current.takenAt &- $0.takenAt) / 1e9 } ?? 0
        func rate(_ name: String) -> String {
            guard let previous, seconds > 0, let now = current.value(name), let then = previous.value(name) else { return "-" }
            return Self.number(max(0, now - then) / seconds)
        }
        let head = current.value("logbook_head_position") ?? 0
        let writer = current.value("logbook_writer_ok") == 0 ? "FAILED (the daemon's log says why)" : "ok"
        let calls = current.byLabel("logbook_open_calls", "kind").filter { $0.key != "admin" }
            .sorted { $0.key < $1.key }.map { "\($0.key) \(Self.number($0.value))" }.joined(separator: ", ")
        var lines = [
            "logbook top: \(socket), up \(Self.duration(current.value("logbook_uptime_seconds") ?? 0))    q or Ctrl-C quits",
            "",
            "writer \(writer)    head position \(Self.number(head))    connections \(Self.number(current.value("logbook_connections") ?? 0))",
            "appends/s \(rate("logbook_appends_total"))    events/s \(rate("logbook_events_appended_total"))    open calls: \(calls.isEmpty ? "none" : calls)",
            "",
        ]
        lines += Self.groups(current, head: head, width: width)
        lines.append("")
        lines += Self.views(current)
        return lines.map { String($0.prefix(width)) }
    }

    private static func groups(_ scrape: Scrape, head: Double, width: Int) -> [String] {
        let lag = scrape.byLabel("logbook_group_lag", "group")
        guard !lag.isEmpty else { return ["no groups"] }
        let inFlight = scrape.byLabel("logbook_group_in_flight", "group")
        let parked = scrape.byLabel("logbook_group_parked", "group")
        let consumers = scrape.byLabel("logbook_group_consumers", "group")
        let nameWidth = max(5, lag.keys.map(\.count).max() ?? 0)
        // The name, four columns of 12, two spaces and the brackets leave the rest to the bar.
        let barWidth = max(10, min(40, width - nameWidth - 4 * 12 - 4))
        var lines = [Self.pad("GROUP", nameWidth) + Self.columns(["LAG", "IN-FLIGHT", "PARKED", "CONSUMERS"]) + "  DONE"]
        for name in lag.keys.sorted() {
            let behind = lag[name] ?? 0
            // How much of the log the group has settled: full when it lags by nothing.
            let done = head > 0 ? max(0, min(1, (head - behind) / head)) : 1
            let filled = Int((done * Double(barWidth)).rounded(.down))
            let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "]"
            let values = [behind, inFlight[name] ?? 0, parked[name] ?? 0, consumers[name] ?? 0].map(Self.number)
            lines.append(Self.pad(name, nameWidth) + Self.columns(values) + "  " + bar)
        }
        return lines
    }

    private static func views(_ scrape: Scrape) -> [String] {
        let lag = scrape.byLabel("logbook_view_lag", "view")
        guard !lag.isEmpty else { return ["no views"] }
        let nameWidth = max(4, lag.keys.map(\.count).max() ?? 0)
        return [Self.pad("VIEW", nameWidth) + Self.columns(["LAG"])]
            + lag.keys.sorted().map { Self.pad($0, nameWidth) + Self.columns([Self.number(lag[$0] ?? 0)]) }
    }

    private static func columns(_ values: [String]) -> String {
        values.map { String(repeating: " ", count: max(1, 12 - $0.count)) + $0 }.joined()
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    /// A whole number with thousands separators: 1,234,567.
    package static func number(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var out = ""
        for (index, digit) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, digit != "-" { out.append(",") }
            out.append(digit)
        }
        return String(out.reversed())
    }

    private static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? "\(hours)h\(minutes)m" : minutes > 0 ? "\(minutes)m\(rest)s" : "\(rest)s"
    }
}

extension String {
    fileprivate func trimmingLeadingComma() -> String {
        self.hasPrefix(",") ? String(self.dropFirst()) : self
    }
}

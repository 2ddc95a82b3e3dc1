internal import Foundation
@testable internal import LogbookCommandLine
internal import Testing

@Suite("logbook top's screen")
struct TopScreenTests {
    private static let before = """
        # TYPE logbook_appends_total counter
        logbook_appends_total 100
        logbook_events_appended_total 400
        logbook_head_position 400.0
        logbook_connections 3.0
        logbook_writer_ok 1.0
        logbook_uptime_seconds 3725.0
        logbook_open_calls{kind="read"} 1.0
        logbook_open_calls{kind="admin"} 1.0
        logbook_group_lag{group="orders"} 100.0
        logbook_group_in_flight{group="orders"} 7.0
        logbook_group_parked{group="orders"} 2.0
        logbook_group_consumers{group="orders"} 1.0
        logbook_view_lag{view="sum\\"mary"} 100.0
        """

    @Test("labels are read with Prometheus's escapes, and families sum")
    func parsing() {
        let scrape = TopScreen.Scrape(text: Self.before, takenAt: 0)
        #expect(scrape.value("logbook_appends_total") == 100)
        #expect(scrape.value("logbook_open_calls") == 2)
        #expect(scrape.byLabel("logbook_view_lag", "view") == ["sum\"mary": 100])
        #expect(scrape.byLabel("logbook_group_in_flight", "group") == ["orders": 7])
        #expect(scrape.value("missing") == nil)
    }

    @Test("rates come from two scrapes; a group's bar shows how much of the log it settled")
    func screen() {
        let before = TopScreen.Scrape(text: Self.before, takenAt: 0)
        let after = TopScreen.Scrape(
            text: Self.before.replacingOccurrences(of: "logbook_appends_total 100", with: "logbook_appends_total 150")
                .replacingOccurrences(of: "logbook_events_appended_total 400", with: "logbook_events_appended_total 1400"),
            takenAt: 2_000_000_000)
        let lines = TopScreen.lines(socket: "s.sock", previous: before, current: after, width: 100)
        #expect(lines[0].hasPrefix("logbook top: s.sock, up 1h2m"))
        #expect(lines.contains { $0.contains("appends/s 25") && $0.contains("events/s 500") && $0.contains("open calls: read 1") })
        let orders = lines.first { $0.hasPrefix("orders") } ?? ""
        #expect(orders.contains("100") && orders.contains("7") && orders.contains("2"))
        // 300 of 400 settled: three quarters of the bar.
        let bar = orders.drop { $0 != "[" }
        #expect(bar.filter { $0 == "#" }.count * 4 == (bar.count - 2) * 3, "\(bar)")
        #expect(lines.contains { $0.hasPrefix("sum\"mary") })
        #expect(lines.allSatisfy { $0.count <= 100 })
        #expect(orders.hasSuffix("]"), "the whole bar fits: \(orders)")
        #expect(TopScreen.lines(socket: "s", previous: before, current: after, width: 80).first { $0.hasPrefix("orders") }?.hasSuffix("]") == true)
        #expect(TopScreen.lines(socket: "s", previous: nil, current: after, width: 100)[3].contains("appends/s -"))
    }

    @Test func numbersHaveThousandsSeparators() {
        #expect(TopScreen.number(1_234_567) == "1,234,567")
        #expect(TopScreen.number(999) == "999")
        #expect(TopScreen.number(0) == "0")
    }
}

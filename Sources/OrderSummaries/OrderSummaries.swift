internal import Foundation
internal import Logbook
internal import Logging
internal import ServiceLifecycle
internal import UnixSignals

/// A projection worker run as its own process: it keeps one document per customer in the
/// view `order_summaries` (order count and total), from the `OrderPlaced` events of the
/// `order` category.
///
/// ```
/// order-summaries [--socket PATH]          (default: $LOGBOOK_SOCKET, else ./logbook.sock)
/// logbook append order-1 --type OrderPlaced --data '{"customer":"ann","total":42.5}' --json
/// logbook query order_summaries --key ann --min-position POSITION
/// ```
///
/// Each summary is written through the event's ack, so the daemon applies it exactly once,
/// even when the event is delivered again. The worker handles one event at a time, and
/// reads the summary as of every event before it (`minPosition`), so it always adds to
/// the summary its previous write made.
///
/// The worker rides out daemon restarts: its group consumer rejoins, and the client it
/// queries through reconnects (both log it on stderr). It runs the client and the worker
/// in a `ServiceGroup`, so SIGTERM or SIGINT stops it cleanly.
@main
struct OrderSummaries {
    static let group = "order-summaries"
    static let view = "order_summaries"

    struct OrderPlaced: Decodable {
        var customer: String
        var total: Double
    }

    struct Summary: Codable {
        var customer: String
        var orders = 0
        var total = 0.0
    }

    static func main() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "order-summaries")
        let arguments = CommandLine.arguments
        // Without --socket the client reads $LOGBOOK_SOCKET, else ./logbook.sock.
        let socket = arguments.firstIndex(of: "--socket").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
        let client = try await LogbookClient.connect(socketPath: socket, clientName: "order-summaries", logger: logger)

        // Define the group and its view if they are missing (both calls are safe to repeat).
        do {
            try await client.createGroup(GroupSettings(name: group, selector: .category("order")))
        } catch let error as LogbookError where error.code == .alreadyExists {}
        try await client.defineView(ViewDefinition(name: view, group: group, indexedPaths: ["$.customer"]))
        logger.info("projecting category order into view \(view)")

        let worker = ProjectionWorker.writingViews(client: client, group: group, maxInFlight: 1) { event in
            guard event.type == "OrderPlaced" else { return [] }
            let order = try JSONDecoder().decode(OrderPlaced.self, from: Data(event.data))
            let current = try await client.query(view, keys: .key(order.customer), minPosition: event.position - 1)
            var summary = try current.rows.first?.decode(Summary.self) ?? Summary(customer: order.customer)
            summary.orders += 1
            summary.total += order.total
            return [try .put(view, key: order.customer, summary)]
        }
        let services = ServiceGroup(services: [client, worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await services.run()
    }
}

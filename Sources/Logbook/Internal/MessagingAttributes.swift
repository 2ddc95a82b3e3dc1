#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import Tracing

/// The span attributes Logbook's spans share, named after OpenTelemetry's semantic
/// conventions for messaging (`messaging.*`), with `logbook.*` for what they have no name for.
enum MessagingAttributes {
    static let system = "messaging.system"
    static let operationName = "messaging.operation.name"
    static let operationType = "messaging.operation.type"
    static let destinationName = "messaging.destination.name"
    static let destinationTemplate = "messaging.destination.template"
    static let subscriptionName = "messaging.destination.subscription.name"
    static let consumerGroupName = "messaging.consumer.group.name"
    static let messageID = "messaging.message.id"
    static let conversationID = "messaging.message.conversation_id"
    static let batchMessageCount = "messaging.batch.message_count"
    static let errorType = "error.type"

    /// What every Logbook span says: the system, the operation, and the daemon's socket
    /// (`server.address` is a Unix socket's path, by the conventions).
    static func common(operation: String, type: String, socketPath: String) -> SpanAttributes {
        [
            Self.system: "logbook",
            Self.operationName: .string(operation),
            Self.operationType: .string(type),
            "server.address": .string(socketPath),
            "network.transport": "unix",
        ]
    }

    /// `messaging.message.id`: an event's id, lowercase, as the CLI and the Python client print it.
    static func messageID(_ id: UUID) -> String {
        id.uuidString.lowercased()
    }

    /// The part of a stream name before its first `-`, or the whole name without one
    /// (`order` for `order-42`): the daemon's category of the stream.
    static func category(of stream: String) -> Substring {
        guard let dash = stream.utf8.firstIndex(of: UInt8(ascii: "-")) else { return stream[...] }
        return stream[..<dash]
    }

    /// `error.type`: a ``LogbookError``'s code as the protocol spells it
    /// (`FAILED_PRECONDITION`), else the error's type name.
    static func errorType(of error: any Error) -> String {
        if let error = error as? LogbookError {
            return error.code.description
        }
        return String(reflecting: type(of: error))
    }
}

/// Checks a group write before it is queued, on the calling task, so the writer only
/// runs statements and a bad request never costs a savepoint.
///
/// Positions are stored as SQLite integers (signed 64-bit): larger ones are refused,
/// never wrapped.
package enum GroupValidator {
    package static func validate(_ definition: GroupDefinition) throws(StorageError) {
        try validateName(definition.name)
        switch definition.selector {
        case .all:
            break
        case .stream(let value), .category(let value), .eventType(let value), .correlationID(let value):
            guard !value.isEmpty, value.utf8.count <= StorageLimits.streamNameBytesMax else {
                throw .invalidArgument(
                    "a group's selector needs a name of 1…\(StorageLimits.streamNameBytesMax) bytes, not \(value.utf8.count)")
            }
        }
        if case .position(let position) = definition.start {
            try validatePosition(position, what: "start position", allowsZero: true)
        }
        guard definition.filter.eventTypes.count <= StorageLimits.filterEventTypesMax else {
            throw .invalidArgument("a group's filter may name at most \(StorageLimits.filterEventTypesMax) event types")
        }
        guard definition.filter.eventTypes.allSatisfy({ $0.utf8.count <= StorageLimits.eventTypeBytesMax }),
              definition.filter.streamPrefix.utf8.count <= StorageLimits.streamNameBytesMax
        else {
            throw .invalidArgument("a group's filter names an event type or a stream prefix that is too long")
        }
        guard definition.maxInFlight > 0, definition.maxDeliveries > 0, definition.ackTimeoutMilliseconds > 0 else {
            throw .invalidArgument("a group's max_in_flight, max_deliveries and ack_timeout must be above 0")
        }
    }

    package static func validateName(_ name: String) throws(StorageError) {
        try NameValidator.validate(name, kind: "group", bytesMax: StorageLimits.groupNameBytesMax, reserved: "reserved")
    }

    /// The progress with reasons cut to their bound; refuses what cannot be stored.
    package static func validate(_ progress: GroupProgress) throws(StorageError) -> GroupProgress {
        try validateName(progress.name)
        let count = progress.settled.count + progress.parked.count + progress.unparked.count
        guard count <= StorageLimits.groupPositionsPerSaveMax else {
            throw .invalidArgument(
                "one progress save may carry at most \(StorageLimits.groupPositionsPerSaveMax) positions, not \(count)")
        }
        try validatePosition(progress.checkpoint, what: "checkpoint", allowsZero: true)
        try ViewValidator.validateShape(progress.viewWrites, countMax: StorageLimits.viewWritesPerSaveMax)
        for position in progress.settled {
            try validatePosition(position, what: "settled position")
        }
        for position in progress.unparked {
            try validatePosition(position, what: "unparked position")
        }
        var progress = progress
        for index in progress.parked.indices {
            try validatePosition(progress.parked[index].position, what: "parked position")
            progress.parked[index].reason = truncated(progress.parked[index].reason, toBytes: StorageLimits.parkReasonBytesMax)
        }
        return progress
    }

    package static func validatePosition(_ position: UInt64, what: String, allowsZero: Bool = false) throws(StorageError) {
        guard position <= UInt64(Int64.max), allowsZero || position > 0 else {
            throw .invalidArgument("\(position) is not a valid \(what)")
        }
    }

    /// The longest prefix of `text` of at most `bytes` UTF-8 bytes, cut between characters.
    static func truncated(_ text: String, toBytes bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            guard used + size <= bytes else { break }
            result.append(character)
            used += size
        }
        return result
    }
}

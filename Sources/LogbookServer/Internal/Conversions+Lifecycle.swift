internal import LogbookStorage
internal import LogbookWire

extension Conversions {
    /// The wire's stream metadata as bounds: 0 leaves a bound unset.
    static func bounds(_ metadata: StreamMetadata?) throws(CallError) -> StreamLifecycle.Bounds {
        let metadata = metadata ?? StreamMetadata()
        var bounds = StreamLifecycle.Bounds()
        if metadata.maxCount > 0 { bounds.maxCount = metadata.maxCount }
        if metadata.truncateBefore > 0 { bounds.truncateBefore = metadata.truncateBefore }
        if metadata.maxAgeSeconds > 0 {
            guard metadata.maxAgeSeconds <= Limits.streamMaxAgeSecondsMax else {
                throw CallError.badField(
                    "StreamMetadata.max_age_seconds", "at most \(Limits.streamMaxAgeSecondsMax) seconds (about 1000 years)")
            }
            bounds.maxAgeMicros = Int64(metadata.maxAgeSeconds) * 1_000_000
        }
        return bounds
    }

    static func streamInfo(_ stream: String, _ lifecycle: StreamLifecycle) -> StreamInfo {
        StreamInfo(
            stream: stream,
            metadata: StreamMetadata(
                maxCount: lifecycle.maxCount ?? 0,
                maxAgeSeconds: lifecycle.maxAgeMicros.map { UInt64($0 / 1_000_000) } ?? 0,
                truncateBefore: lifecycle.truncateBefore),
            exists: lifecycle.lastRevision != nil,
            lastRevision: lifecycle.lastRevision ?? 0,
            deleted: lifecycle.isDeleted,
            tombstoned: lifecycle.isTombstoned)
    }
}

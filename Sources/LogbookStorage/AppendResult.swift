/// The answer to one successful append: per stream, in the order the streams were given.
package struct AppendResult: Sendable, Equatable {
    package var streams: [StreamWriteResult]
    /// Microseconds since the Unix epoch at which the events were committed (for an
    /// idempotent replay: when the original was committed).
    package var commitTimeMicros: Int64

    package init(streams: [StreamWriteResult], commitTimeMicros: Int64) {
        (self.streams, self.commitTimeMicros) = (streams, commitTimeMicros)
    }
}

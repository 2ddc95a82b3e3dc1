extension Duration {
    /// The duration in whole milliseconds, rounded up so that a positive duration never
    /// becomes 0 (a deadline, a wait or a group's timeout of less than a millisecond is 1 ms,
    /// not "none" or "the default"); 0 for zero or a negative duration, `UInt64.max` past it.
    ///
    /// The one conversion of a duration for the wire, whose times are whole milliseconds.
    package var roundedUpMilliseconds: UInt64 {
        guard self > .zero else { return 0 }
        // A positive duration has non-negative components.
        let (seconds, attoseconds) = self.components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let fraction = UInt64((attoseconds + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond)
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1000)
        let (total, carry) = whole.addingReportingOverflow(fraction)
        return overflow || carry ? .max : total
    }
}

extension Duration {
    /// The duration for a log line or a message: whole milliseconds under 10 seconds
    /// ("250 ms"), whole seconds from there ("30 s").
    package var readable: String {
        let milliseconds = self.roundedUpMilliseconds
        return milliseconds < 10_000 ? "\(milliseconds) ms" : "\(milliseconds / 1000) s"
    }
}

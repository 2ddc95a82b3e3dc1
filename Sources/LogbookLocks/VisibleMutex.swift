#if LOGBOOK_TSAN
public import NIOConcurrencyHelpers

/// `Synchronization.Mutex`'s interface over a lock ThreadSanitizer can see, for the
/// ThreadSanitizer build only (`scripts/sanitize.sh thread` sets `LOGBOOK_TSAN`).
///
/// `Mutex` locks with a futex inside the standard library, which is not instrumented:
/// ThreadSanitizer sees none of its acquires and releases and reports every access to the
/// state it guards as a race. `NIOLock` is a pthread mutex, whose calls ThreadSanitizer
/// intercepts. Each module that uses `Mutex` declares, in that build only,
/// `typealias Mutex = VisibleMutex` (a module's own declaration shadows an imported one).
public final class VisibleMutex<Value>: @unchecked Sendable {
    private let lock = NIOLock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    public func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.value)
    }
}
#endif

#if LOGBOOK_TSAN
internal import LogbookLocks

/// The ThreadSanitizer build's `Mutex` (see `VisibleMutex`).
typealias Mutex = VisibleMutex
#endif

internal import Foundation

#if canImport(Glibc)
internal import Glibc
#endif

/// Waits until `condition` holds, checking every 10 ms for up to `seconds`; false when it
/// never did. For conditions the test can only observe by looking (a process's output, a
/// group's checkpoint), never in place of an event the test could wait on.
func eventually(seconds: Double = 30, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}

/// The same for a synchronous test, which may block its thread.
func eventuallyBlocking(seconds: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}

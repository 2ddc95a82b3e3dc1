internal import LogbookServer
internal import ServiceLifecycle
internal import UnixSignals

/// Reloads the access rules on SIGHUP, as daemons do with their configuration. A file that
/// does not load keeps the rules in force (`AccessControl.reload()` logs why).
struct ReloadOnHangup: Service {
    let access: AccessControl

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            self.access.reload()
        }
    }
}

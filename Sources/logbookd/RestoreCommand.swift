internal import ArgumentParser
internal import Logging
internal import LogbookStorage

/// `logbookd restore BACKUP --data NEW`: a data directory from a backup `logbook backup`
/// made, for a daemon to serve.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbookd restore",
        abstract: "Make a data directory from a backup.",
        discussion: """
            Verifies the backup whole (every file's size and CRC32C, every log record's CRC, \
            the database's integrity and schema) before it writes anything, then copies it \
            into --data, which must be new or empty, and opens it once as the daemon would. \
            The restored store holds every event up to the backup's position; the groups and \
            views are as they were when the backup was taken. Start logbookd on it afterwards.
            """
    )

    @Argument(help: "The backup directory (logbook backup DIR).", completion: .directory)
    var backup: String

    @Option(help: "The new data directory; it must not exist or be empty.", completion: .directory)
    var data: String

    @Flag(help: "Let the data directory's group read it (mode 750, files 640), as logbookd --allow-group-read.")
    var allowGroupRead = false

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        DataDirectory.restrictNewFiles(allowGroupRead: self.allowGroupRead)
        let report: BackupRestore.Report
        do {
            report = try await BackupRestore.restore(from: self.backup, to: self.data, logger: Logger(label: "logbookd.restore"))
        } catch let error as StorageError {
            LogbookDaemon.fail("cannot restore \(self.backup): \(error.message)")
        } catch {
            LogbookDaemon.fail("cannot restore \(self.backup) into \(self.data): \(error)")
        }
        let manifest = report.manifest
        print("""
            restored \(self.backup) into \(self.data): position \(manifest.position), \(manifest.engine) engine, \
            \(manifest.files.count) files, \(report.bytes >> 20) MiB (backup taken \(manifest.created))
            """)
    }
}

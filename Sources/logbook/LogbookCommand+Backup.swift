internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine
internal import LogbookStorage

extension LogbookCommand {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the daemon's store into a directory while it serves, or verify such a copy.",
            discussion: """
                The daemon takes a consistent copy at one position, while appends go on, and \
                sends it over the socket: the files belong to whoever runs this. The copy holds \
                every event up to that position, and the groups' progress, parked events and \
                views as they were when it was taken. DIR must be new or empty; manifest.json \
                is written last, once every file is synced and matches the CRC32C the daemon \
                read. logbookd restore DIR --data NEW makes a data directory of it. \
                With --verify, nothing is asked of the daemon: the backup in DIR is checked \
                (every file's size and CRC32C, every log record's CRC, the database's integrity \
                and schema version). Under --acl a backup needs admin. A PostgreSQL store \
                answers UNIMPLEMENTED: back it up with PostgreSQL's own tools.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Check the backup already in DIR instead of taking one.")
        var verify = false

        @Argument(help: "The backup's directory.", completion: .directory)
        var directory: String

        func run() async throws {
            if self.verify {
                try self.verifyBackup()
                return
            }
            let started = System.monotonicNanoseconds()
            var bar = ProgressBar(total: nil, unit: "MiB")
            var received: UInt64 = 0
            // Connected first: with no daemon to ask, nothing is written.
            let manifest = try await self.global.withClient { client in
                var writer = try BackupWriter(directory: self.directory)
                do {
                    for try await part in client.backup() {
                        switch part {
                        case .chunk(let path, let offset, let bytes):
                            try writer.write(path: path, offset: offset, bytes: bytes)
                            received += UInt64(bytes.count)
                            bar.update(done: received, count: Int(received >> 20))
                        case .manifest(let manifest):
                            return try writer.finish(manifest)
                        }
                    }
                    throw BackupWriter.Failure(description: "the daemon ended the backup without its manifest")
                } catch {
                    writer.abandon()
                    throw error
                }
            }
            let seconds = Double(System.monotonicNanoseconds() - started) / 1e9
            bar.clear()
            self.report(manifest, bytes: received, seconds: seconds)
        }

        private func report(_ manifest: LogbookStorage.BackupManifest, bytes: UInt64, seconds: Double) {
            var output = StandardOutput()
            defer { output.flush() }
            if self.global.json {
                output.write { out in
                    self.appendMembers(of: manifest, to: &out)
                    JSON.appendMember("bytes", bytes, to: &out)
                    JSON.appendKey("seconds", to: &out)
                    out.append(contentsOf: Self.rounded(seconds).utf8)
                    out.append(UInt8(ascii: "}"))
                }
                output.endLine()
            } else {
                output.write("""
                    backed up position \(manifest.position) to \(self.directory): \(manifest.files.count) files, \
                    \(Self.megabytes(bytes)) in \(Self.rounded(seconds)) s
                    """)
                output.endLine()
            }
        }

        private func verifyBackup() throws {
            let report: BackupVerifier.Report
            do {
                report = try BackupVerifier.verify(directory: self.directory)
            } catch {
                Terminal.printError("error: \(self.directory) failed verification: \(error.message)")
                // DATA_LOSS for damage, as the daemon answers for its own; 1 for the rest.
                throw ExitCode(error.code == .corrupt ? Int32(LogbookError.Code.dataLoss.rawValue) : 1)
            }
            let manifest = report.manifest
            var output = StandardOutput()
            defer { output.flush() }
            if self.global.json {
                output.write { out in
                    self.appendMembers(of: manifest, to: &out)
                    JSON.appendMember("schema_version", manifest.schemaVersion, to: &out)
                    JSON.appendMember("records_checked", report.recordsChecked, to: &out)
                    JSON.appendMember("bytes", report.bytes, to: &out)
                    out.append(UInt8(ascii: "}"))
                }
            } else {
                output.write("""
                    \(self.directory) is a whole backup of position \(manifest.position) (\(manifest.engine) engine, \
                    schema \(manifest.schemaVersion), taken \(manifest.created)): \(manifest.files.count) files and \
                    \(Self.megabytes(UInt64(report.bytes))) match their CRC32C, \(report.recordsChecked) log records \
                    their CRC, and the database passes its integrity check
                    """)
            }
            output.endLine()
        }

        /// `{` and the members both reports share.
        private func appendMembers(of manifest: LogbookStorage.BackupManifest, to out: inout [UInt8]) {
            out.append(UInt8(ascii: "{"))
            JSON.appendMember("directory", self.directory, to: &out)
            JSON.appendMember("position", manifest.position, to: &out)
            JSON.appendMember("engine", manifest.engine, to: &out)
            JSON.appendMember("files", manifest.files.count, to: &out)
        }

        private static func rounded(_ seconds: Double) -> String {
            String(Double((seconds * 100).rounded()) / 100)
        }

        private static func megabytes(_ bytes: UInt64) -> String {
            bytes < 1 << 20 ? "\(bytes) bytes" : "\(Double((Double(bytes) / 1_048_576 * 10).rounded()) / 10) MiB"
        }
    }
}

internal import Foundation
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Three daemons sharing one PostgreSQL database, on one host or on three.
///
/// - `oneHost`: the daemons reach the test cluster (`LOGBOOK_TEST_POSTGRES`) over its Unix
///   socket, in a database of their own.
/// - `threeHosts`: each daemon runs in a network namespace of its own, and reaches a
///   PostgreSQL of the test's own, in a fourth namespace, over TCP on a veth pair
///   (`scripts/netns.sh`, `scripts/postgres.sh` with `NETNS` and `LISTEN`): the hosts share
///   nothing but that network path, and the files of `/tmp` this process reaches their
///   sockets by. Needs root, as CI has.
final class SharedStoreCluster {
    enum Topology: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case oneHost
        case threeHosts

        var testDescription: String { rawValue }
    }

    /// The topologies this machine can run: network namespaces need root and `ip`.
    static var topologies: [Topology] {
        let namespaces = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
        return namespaces ? Topology.allCases : [.oneHost]
    }

    let daemons: [Daemon]
    private let database: SharedDatabase?
    private let network: Network?

    init(_ topology: Topology) throws {
        switch topology {
        case .oneHost:
            let database = try SharedDatabase()
            self.database = database
            self.network = nil
            self.daemons = try (0..<3).map { _ in try Daemon(storeURL: database.url) }
        case .threeHosts:
            let network = try Network(hosts: 3)
            self.database = nil
            self.network = network
            self.daemons = try (1...3).map { host in
                let daemon = try Daemon(storeURL: network.url(fromHost: host))
                daemon.launcher = ["/usr/sbin/ip", "netns", "exec", network.namespace(ofHost: host)]
                return daemon
            }
        }
        for daemon in daemons { try daemon.start() }
    }

    deinit {
        for daemon in daemons { daemon.stop(signal: SIGKILL) }
        database?.drop()
        network?.tearDown()
    }

    /// Namespaces standing in for hosts, and a PostgreSQL in one of them.
    private struct Network {
        let name: String
        let hosts: Int
        let directory: String

        /// The repository's `scripts/`, found from this file.
        private static let scripts = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts")

        init(hosts: Int) throws {
            // Interface names (NAME-aK) must stay within 15 bytes.
            self.name = "lb" + UUID().uuidString.prefix(6).lowercased()
            self.hosts = hosts
            self.directory = "/tmp/\(name)-pg"
            try Self.run("netns.sh", ["up", name, "\(hosts)"])
            do {
                try Self.run("postgres.sh", ["start", directory], environment: ["NETNS": "\(name)-db", "LISTEN": "*"])
            } catch {
                try? Self.run("netns.sh", ["down", name, "\(hosts)"])
                throw error
            }
        }

        func namespace(ofHost host: Int) -> String { "\(name)-h\(host)" }

        /// The database as host `host` reaches it: over TCP, at the cluster's address on
        /// that host's veth pair.
        func url(fromHost host: Int) -> String { "postgresql://postgres@10.231.\(host).1:5432/postgres" }

        func tearDown() {
            try? Self.run("postgres.sh", ["stop", directory], environment: ["NETNS": "\(name)-db"])
            try? Self.run("netns.sh", ["down", name, "\(hosts)"])
            try? FileManager.default.removeItem(atPath: directory)
        }

        private static func run(_ script: String, _ arguments: [String], environment: [String: String] = [:]) throws {
            let process = Process()
            process.executableURL = scripts.appendingPathComponent(script)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            // The cluster outlives the script: nothing of this process may be left to it.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw Daemon.DaemonError(message: "\(script) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
            }
        }
    }
}

package import Logbook

/// What `logbook ping` prints: what the daemon said about itself in the handshake, and how
/// long connecting and the handshake took.
package struct PingReport: Sendable, Hashable {
    /// The socket the daemon answered on.
    package var socketPath: String
    /// The daemon's version, as its handshake reply said.
    package var serverVersion: String
    /// The protocol version the daemon speaks.
    package var protocolVersion: UInt32
    /// From the start of a connect to the handshake's reply: one round trip to a daemon
    /// that serves, plus what opening the socket costs.
    package var roundTrip: Duration

    package init(socketPath: String, serverVersion: String, protocolVersion: UInt32, roundTrip: Duration) {
        self.socketPath = socketPath
        self.serverVersion = serverVersion
        self.protocolVersion = protocolVersion
        self.roundTrip = roundTrip
    }

    package init(_ info: ServerInfo, socketPath: String, roundTrip: Duration) {
        self.init(
            socketPath: socketPath,
            serverVersion: info.serverVersion,
            protocolVersion: info.protocolVersion,
            roundTrip: roundTrip
        )
    }

    /// The round trip in whole microseconds, rounded down; never negative.
    package var roundTripMicroseconds: Int64 {
        let (seconds, attoseconds) = self.roundTrip.components
        return max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }

    /// `{"socket","server_version","protocol_version","round_trip_us"}`.
    package func appendJSON(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("socket", self.socketPath, to: &out)
        JSON.appendMember("server_version", self.serverVersion, to: &out)
        JSON.appendKey("protocol_version", to: &out)
        JSON.appendInteger(self.protocolVersion, to: &out)
        JSON.appendKey("round_trip_us", to: &out)
        JSON.appendInteger(self.roundTripMicroseconds, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `logbookd 0.1.0 at ./logbook.sock: protocol 1, round trip 0.412 ms`.
    package var line: String {
        let micros = self.roundTripMicroseconds
        let fraction = String(micros % 1000)
        let milliseconds = "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
        return "logbookd \(self.serverVersion) at \(self.socketPath): protocol \(self.protocolVersion), round trip \(milliseconds) ms"
    }
}

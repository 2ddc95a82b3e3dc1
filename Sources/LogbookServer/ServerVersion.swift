internal import LogbookWire

/// The versions this build speaks and reports.
package enum ServerVersion {
    package static let server = WireProtocol.release
    /// The protocol version Hello must name: the wire contract's (`WireProtocol.version`).
    package static let protocolVersion: UInt32 = WireProtocol.version
}

internal import Logging
internal import LogbookWire
internal import NIOCore
internal import ServiceLifecycle

/// The task side of a connection: runs the long calls (reads, subscriptions, queries,
/// Admin) that `ConnectionHandler` passes on, each in its own child task, writing through
/// the outbound writer whose back-pressure holds a call that outruns the socket.
struct Connection: Sendable {
    let channel: NIOAsyncChannel<Frame, Frame>
    let peer: PeerCredentials
    let handler: NIOLoopBound<ConnectionHandler>
    let calls: RunningCalls
    let context: ServerContext
    /// Who the peer is, under `--acl`; nil when it may do anything.
    let caller: Caller?
    /// Why the connection was refused at accept; nil when it was admitted. A refused one's
    /// handler is not in the pipeline: nothing it sends is answered.
    let refusal: Status?
    let logger: Logger

    func run() async {
        let loop = self.channel.channel.eventLoop
        do {
            try await self.channel.executeThenClose { inbound, outbound in
                try await withGracefulShutdownHandler {
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await frame in inbound {
                            guard let control = self.calls.control(for: frame.callID) else { continue }
                            group.addTask {
                                await self.runCall(frame, control: control, outbound: outbound)
                            }
                        }
                        self.calls.stopAll(.shutdown)
                    }
                } onGracefulShutdown: {
                    loop.execute { self.handler.value.drain() }
                }
            }
        } catch {
            self.logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Sends a connection-level Status and closes: a connection refused at accept. Through
    /// the async channel, which must be run to its end (NIO traps on a writer dropped while
    /// still open: a refused connection crashed the debug daemon).
    func refuse(_ status: Status) async {
        try? await self.channel.executeThenClose { _, outbound in
            try await outbound.write(Frame(callID: 0, body: .status(status)))
        }
    }

    private func runCall(_ frame: Frame, control: CallControl, outbound: NIOAsyncChannelOutboundWriter<Frame>) async {
        let callID = frame.callID
        let runner = CallRunner(context: self.context, callID: callID, caller: self.caller, outbound: outbound, logger: self.logger)
        let deadline: ContinuousClock.Instant? = frame.timeoutMs > 0 ? .now + .milliseconds(frame.timeoutMs) : nil
        let status = await runner.run(frame, control: control, deadline: deadline)
        try? await outbound.write(Frame(callID: callID, body: .status(status)))
        self.calls.remove(callID)
        let handler = self.handler
        self.channel.channel.eventLoop.execute { handler.value.callFinished(callID) }
    }
}

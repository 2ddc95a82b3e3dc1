internal import ArgumentParser
internal import Dispatch
internal import Logbook
internal import LogbookCommandLine

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

extension LogbookCommand {
    struct Top: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A live view of the daemon, refreshed every second: q or Ctrl-C quits.",
            discussion: """
                Shows appends/s and events/s, the head position, connections and open calls, \
                the writer's state, each group's lag, in-flight, parked and consumers with a \
                bar of how much of the log it has settled, and each view's lag, from the \
                daemon's metrics (under --acl it needs admin). With --once, or when standard \
                output is not a terminal, it prints one screen (rates over one second) and exits.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Print one screen and exit.")
        var once = false

        private static let interval: Duration = .seconds(1)

        func run() async throws {
            let socket = self.global.socketPath
            if self.once || isatty(1) == 0 {
                let lines = try await self.global.withClient { client in
                    let first = try await Self.scrape(client)
                    try await Task.sleep(for: Self.interval)
                    return TopScreen.lines(socket: socket, previous: first, current: try await Self.scrape(client), width: 120)
                }
                var output = StandardOutput()
                lines.forEach { output.line($0) }
                output.flush()
                return
            }
            try await self.global.withClient { client in
                try await Self.live(client, socket: socket)
            }
        }

        private static func scrape(_ client: LogbookClient) async throws -> TopScreen.Scrape {
            TopScreen.Scrape(text: try await client.metrics(), takenAt: System.monotonicNanoseconds())
        }

        /// Redraws every second until q, Ctrl-C or SIGTERM; the terminal is given back as
        /// it was however the loop ends.
        private static func live(_ client: LogbookClient, socket: String) async throws {
            let screen = try TerminalScreen()
            defer { screen.restore() }
            let (events, input) = AsyncStream.makeStream(of: ScreenEvent.self)
            let keys = screen.readKeys { input.yield(.key($0)) }
            defer { keys.cancel() }
            let ticks = Task {
                while !Task.isCancelled {
                    input.yield(.tick)
                    try? await Task.sleep(for: Self.interval)
                }
            }
            defer { ticks.cancel() }
            try await System.handlingTerminationSignals({ input.yield(.quit) }) {
                var previous: TopScreen.Scrape?
                for await event in events {
                    switch event {
                    case .key(UInt8(ascii: "q")), .key(UInt8(ascii: "Q")), .quit:
                        return
                    case .key:
                        continue
                    case .tick:
                        let current = try await Self.scrape(client)
                        screen.draw(TopScreen.lines(socket: socket, previous: previous, current: current, width: screen.width))
                        previous = current
                    }
                }
            }
        }

        private enum ScreenEvent: Sendable {
            case tick, key(UInt8), quit
        }
    }
}

/// The terminal `logbook top` draws on: the alternate screen, no cursor, keys read one
/// at a time without echo; `restore` puts everything back.
private final class TerminalScreen: Sendable {
    private let saved: termios

    init() throws {
        var attributes = termios()
        guard tcgetattr(0, &attributes) == 0 else {
            throw ValidationError("logbook top needs a terminal on standard input (or use --once)")
        }
        self.saved = attributes
        // Keys arrive one by one and are not echoed; Ctrl-C still raises SIGINT.
        attributes.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(0, TCSANOW, &attributes)
        System.writeAll(Array("\u{1B}[?1049h\u{1B}[?25l".utf8), to: 1)
    }

    func restore() {
        var saved = self.saved
        tcsetattr(0, TCSANOW, &saved)
        System.writeAll(Array("\u{1B}[?25h\u{1B}[?1049l".utf8), to: 1)
    }

    /// Columns of the terminal, 80 when it does not say.
    var width: Int {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// Draws over the last screen in one write: each line overwrites the old one and
    /// clears the rest of it, then what is below is cleared. Nothing is blanked first, so
    /// nothing flickers.
    func draw(_ lines: [String]) {
        var frame = "\u{1B}[H"
        for line in lines {
            frame += line + "\u{1B}[K\r\n"
        }
        frame += "\u{1B}[J"
        System.writeAll(Array(frame.utf8), to: 1)
    }

    /// Calls `key` with each byte typed, until the returned source is cancelled.
    func readKeys(_ key: @escaping @Sendable (UInt8) -> Void) -> any DispatchSourceRead {
        let source = DispatchSource.makeReadSource(fileDescriptor: 0, queue: .global())
        source.setEventHandler {
            var byte: UInt8 = 0
            if read(0, &byte, 1) == 1 { key(byte) }
        }
        source.resume()
        return source
    }
}

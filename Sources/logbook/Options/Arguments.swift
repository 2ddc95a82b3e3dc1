internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

/// `--from`: `start`, `end` or a number (a position, or a revision when reading a stream).
enum FromArgument: ExpressibleByArgument {
    case start
    case end
    case number(UInt64)

    init?(argument: String) {
        switch argument.lowercased() {
        case "start": self = .start
        case "end": self = .end
        default:
            guard let number = UInt64(argument) else { return nil }
            self = .number(number)
        }
    }

    /// The words a shell completes; a number is typed.
    static var defaultCompletionKind: CompletionKind {
        .list(["start", "end"])
    }
}

/// `--expect`: any, no-stream, exists, or a revision.
struct ExpectArgument: ExpressibleByArgument {
    let value: ExpectedRevision

    init(_ value: ExpectedRevision) {
        self.value = value
    }

    init?(argument: String) {
        switch argument.lowercased() {
        case "any": self.value = .any
        case "no-stream", "no_stream", "nostream": self.value = .noStream
        case "exists", "stream-exists", "stream_exists": self.value = .streamExists
        default:
            guard let revision = UInt64(argument) else { return nil }
            self.value = .exact(revision)
        }
    }

    var defaultValueDescription: String { "any" }

    static var allValueStrings: [String] { ["any", "no-stream", "exists", "N"] }

    /// The words a shell completes: the values help lists, less the revision, which is typed.
    static var defaultCompletionKind: CompletionKind {
        .list(Self.allValueStrings.filter { $0 != "N" })
    }
}

/// An RFC 3339 time argument, e.g. `2024-05-01T12:00:00Z` or `2024-05-01T14:00:00.5+02:00`.
struct TimeArgument: ExpressibleByArgument {
    let date: Date

    init?(argument: String) {
        guard let micros = RFC3339.parse(argument) else { return nil }
        self.date = Date(unixMicros: micros)
    }
}

/// `--strategy`: one of the library's spellings (``GroupSettings/Strategy/description``).
struct StrategyArgument: ExpressibleByArgument {
    let strategy: GroupSettings.Strategy

    init?(argument: String) {
        guard let strategy = GroupSettings.Strategy(argument) else { return nil }
        self.strategy = strategy
    }

    static var allValueStrings: [String] {
        GroupSettings.Strategy.all.map(\.description)
    }

    /// A shell completes the spellings help lists (only `CaseIterable` types get this by
    /// default; without it, a shell offers file names).
    static var defaultCompletionKind: CompletionKind {
        .list(Self.allValueStrings)
    }
}

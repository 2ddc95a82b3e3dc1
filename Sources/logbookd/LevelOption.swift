internal import ArgumentParser
internal import Logging

/// `--log-level`: the least severe message logbookd writes to stderr.
enum LevelOption: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: self.rawValue) ?? .info }
}

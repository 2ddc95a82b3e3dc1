internal import ArgumentParser
internal import LogbookStorage

/// `--engine`: which store a new data directory gets. An existing directory keeps the
/// engine that wrote it; naming another one is refused.
enum EngineOption: String, ExpressibleByArgument, CaseIterable {
    case log, sqlite

    var engine: StorageEngine { self == .log ? .log : .sqlite }
}

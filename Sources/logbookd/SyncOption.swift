internal import ArgumentParser
internal import LogbookStorage

/// `--sync`: when an acknowledged append is on disk.
enum SyncOption: String, ExpressibleByArgument, CaseIterable {
    case full, normal

    var mode: SyncMode { self == .full ? .full : .normal }
}

internal import ArgumentParser
internal import Logbook

/// `--as-of POSITION | --as-of-time TIME`: the log as it was, for `read` and `streams`.
struct AsOfOptions: ParsableArguments {
    @Option(name: .customLong("as-of"), help: ArgumentHelp("The log as it was when this was its last position.", valueName: "position"))
    var position: UInt64?

    @Option(name: .customLong("as-of-time"), help: ArgumentHelp("The log as it was at this RFC 3339 time.", valueName: "time"))
    var time: TimeArgument?

    func validate() throws {
        if self.position != nil, self.time != nil {
            throw ValidationError("give only one of --as-of and --as-of-time")
        }
    }
}

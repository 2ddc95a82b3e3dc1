internal import ArgumentParser
internal import Logbook

/// `STREAM | --all | --category C | --type T`: what `read` reads, `subscribe` follows and
/// a group created with `groups create` delivers.
struct SelectorOptions: ParsableArguments {
    @Argument(help: "One stream, e.g. order-42.")
    var stream: String?

    @Flag(help: "The whole log ($all).")
    var all = false

    @Option(help: "The streams of a category (the stream-name part before the first '-').")
    var category: String?

    @Option(help: "The events of one type.")
    var type: String?

    /// How many of the four were given; a command takes exactly one.
    var count: Int {
        [self.stream != nil, self.all, self.category != nil, self.type != nil].filter { $0 }.count
    }

    /// The selector given; the whole log when none was (a command's `validate` makes sure
    /// one was).
    var selector: ReadSelector {
        if let stream = self.stream { return .stream(stream) }
        if let category = self.category { return .category(category) }
        if let type = self.type { return .eventType(type) }
        return .all
    }
}

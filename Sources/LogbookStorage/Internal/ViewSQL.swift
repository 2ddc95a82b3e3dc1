/// SQL fragments every view statement shares.
enum ViewSQL {
    /// The value at `path`, written exactly as the indexes were created so SQLite uses
    /// them. `path` must have passed `ViewValidator.validatePath`.
    static func extract(_ path: String) -> String {
        "json_extract(doc, '\(path)')"
    }

    /// The JSON type at `path` (nil when the path is missing).
    static func type(_ path: String) -> String {
        "json_type(doc, '\(path)')"
    }
}

package import Logbook

/// The JSON the command-line tool prints for views, their rows, and what it removed, one
/// object per line.
package enum ViewJSON {
    /// `{"name","group","indexed_paths":[…]}`.
    package static func append(_ view: ViewDefinition, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("name", view.name, to: &out)
        JSON.appendMember("group", view.group, to: &out)
        JSON.appendMember("indexed_paths", view.indexedPaths, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `{"key":KEY,"doc":DOC}`, the line `logbook query --json` prints for a row.
    package static func append(_ row: QueryRow, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("key", row.key, to: &out)
        JSON.appendKey("doc", to: &out)
        JSON.appendCompact(row.json.utf8, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `{"name":NAME,"<done>":true}`: what `groups delete` and `views drop` print.
    package static func appendRemoved(_ name: String, done: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("name", name, to: &out)
        JSON.appendKey(done, to: &out)
        out.append(contentsOf: "true".utf8)
        out.append(UInt8(ascii: "}"))
    }
}

/// Content-type checks shared by the library and the command-line tool.
package enum ContentType {
    package static let json = "application/json"
    package static let octetStream = "application/octet-stream"

    /// Whether a content type is JSON: `application/json` or any `…/…+json`, parameters
    /// (`; charset=utf-8`) and case ignored.
    package static func isJSON(_ contentType: String) -> Bool {
        var essence = Substring(contentType)
        if let semicolon = essence.firstIndex(of: ";") {
            essence = essence[..<semicolon]
        }
        let lowered = essence.trimmingSpaces().lowercased()
        return lowered == "application/json" || (lowered.contains("/") && lowered.hasSuffix("+json"))
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}

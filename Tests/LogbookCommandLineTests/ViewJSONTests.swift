internal import Logbook
internal import LogbookCommandLine
internal import Testing

@Suite("Views, rows and documents as the command line prints them")
struct ViewJSONTests {
    @Test("a document's members keep their order, strings read without quotes")
    func documents() {
        let members = DocumentJSON.members(#"{"name":"order-1","n":3,"t":"a\"b","o":{"x":[1]}}"#)
        #expect(members?.map(\.key) == ["name", "n", "t", "o"])
        #expect(members?.map { DocumentJSON.plain($0.value) } == ["order-1", "3", #"a"b"#, #"{"x":[1]}"#])
        #expect(DocumentJSON.members("[1]") == nil)
    }

    @Test("a row is its key and its document, compacted")
    func row() {
        #expect(JSON.line { ViewJSON.append(QueryRow(key: "k\t1", json: "{ \"a\" : 1 }"), to: &$0) } == #"{"key":"k\t1","doc":{"a":1}}"#)
    }

    @Test("a view is its name, group and indexed paths")
    func view() {
        let view = ViewDefinition(name: "v", group: "g", indexedPaths: ["$.a", "$.b"])
        #expect(JSON.line { ViewJSON.append(view, to: &$0) } == #"{"name":"v","group":"g","indexed_paths":["$.a","$.b"]}"#)
        let bare = ViewDefinition(name: "w", group: "g")
        #expect(JSON.line { ViewJSON.append(bare, to: &$0) } == #"{"name":"w","group":"g","indexed_paths":[]}"#)
        #expect(PlainText.summary(view) == "v (group g, indexes $.a, $.b)")
        #expect(PlainText.summary(bare) == "w (group g, no indexes)")
    }

    @Test("what was removed is its name and what happened to it")
    func removed() {
        #expect(JSON.line { ViewJSON.appendRemoved("a\"b", done: "dropped", to: &$0) } == #"{"name":"a\"b","dropped":true}"#)
    }

    @Test("a table aligns its columns and leaves the last one unpadded")
    func table() {
        #expect(PlainText.table([["NAME", "N"], ["a-long-name", "1"], ["b", "22"]]) == ["NAME         N", "a-long-name  1", "b            22"])
    }
}

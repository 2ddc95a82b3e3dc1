internal import Foundation
@testable internal import LogbookStorage
internal import Testing

/// Queries through a `ViewLookupReader` (an event loop's own connection) and through the
/// store's pool of readers. The view query tests run every query both ways through
/// `LookupParity.query`; the tests here cover what only the reader has: its read
/// transaction per lookup, its kept statements, and a view dropped or redefined under it.
@Suite struct ViewLookupReaderTests {
    @Test func eachLookupSeesTheDocumentsCommittedBeforeIt() async throws {
        try await ViewStoreTests.withViews { store in
            let reader = try store.makeViewLookupReader()
            #expect(try reader.query(ViewQuery(view: "v", keys: .key("a"))).rows.isEmpty)
            try await ViewStoreTests.save(store, [ViewStoreTests.put("a", #"{"n":1}"#)])
            #expect(try reader.query(ViewQuery(view: "v", keys: .key("a"))).rows == [ViewRow(key: "a", json: #"{"n":1}"#)])
            try await ViewStoreTests.save(store, [ViewStoreTests.put("a", #"{"n":2}"#)])
            let predicate = ViewPredicate(path: "$.n", op: .equal, values: ["2"])
            #expect(try reader.query(ViewQuery(view: "v", predicates: [predicate])).rows.map(\.key) == ["a"])
        }
    }

    @Test func aDroppedViewIsNotFoundAndANewOneUnderItsIDIsNotConfusedWithIt() async throws {
        try await ViewStoreTests.withViews { store in
            let reader = try store.makeViewLookupReader()
            try await ViewStoreTests.save(store, [ViewStoreTests.put("a", #"{"n":1}"#)])
            #expect(try reader.query(ViewQuery(view: "v", keys: .key("a"))).rows.count == 1)
            try await store.dropView("v")
            #expect(ViewQueryTests.code { _ = try reader.query(ViewQuery(view: "v", keys: .key("a"))) } == .notFound)
            // A view defined next may get the dropped view's id, and so its table's name.
            try await store.defineView(ViewDefinition(name: "w", group: "g", indexedPaths: []))
            try await ViewStoreTests.save(store, [ViewStoreTests.put("b", "{}", view: "w")])
            #expect(ViewQueryTests.code { _ = try reader.query(ViewQuery(view: "v")) } == .notFound)
            #expect(try reader.query(ViewQuery(view: "w")).rows.map(\.key) == ["b"])
            try await store.defineView(ViewDefinition(name: "v", group: "g", indexedPaths: ["$.m"]))
            #expect(try reader.query(ViewQuery(view: "v")).rows.isEmpty)
            let predicate = ViewPredicate(path: "$.m", op: .equal, values: ["1"])
            #expect(try reader.query(ViewQuery(view: "v", predicates: [predicate])).rows.isEmpty)
        }
    }

    @Test func systemViewsAndTimeTravelAreNotLookups() async throws {
        try await ViewStoreTests.withViews { store in
            let reader = try store.makeViewLookupReader()
            #expect(ViewQueryTests.code { _ = try reader.query(ViewQuery(view: "$streams")) } == .notFound)
            #expect(ViewQueryTests.code { _ = try reader.query(ViewQuery(view: "v", asOfPosition: 1)) } == .invalidArgument)
            #expect(ViewQueryTests.code { _ = try store.query(ViewQuery(view: "v", asOfPosition: 1)) } == .invalidArgument)
        }
    }

    @Test func moreShapesThanItKeepsStillAnswerRight() async throws {
        try await ViewQueryTests.withDocuments(count: 40) { store, _ in
            let ops: [ViewPredicate.Operator] = [.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual]
            var shapes = 0
            for first in ViewQueryTests.paths {
                for second in ViewQueryTests.paths {
                    for op in ops {
                        for (orderBy, descending) in [(nil, false), (second, false), (second, true)] {
                            let query = ViewQuery(
                                view: "v",
                                predicates: [
                                    ViewPredicate(path: first, op: op, values: ["1"]),
                                    ViewPredicate(path: second, op: .notEqual, values: [#""a""#]),
                                ],
                                orderBy: orderBy, descending: descending, limit: 5)
                            _ = try ViewQueryTests.all(store, query)
                            shapes += 1
                        }
                    }
                }
            }
            #expect(shapes > StorageLimits.lookupStatementsKeptMax)
        }
    }

    @Test func aClosedStoreOrReaderRefusesLookups() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            let reader = try store.makeViewLookupReader()
            let other = try store.makeViewLookupReader()
            other.close()
            #expect(ViewQueryTests.code { _ = try other.query(ViewQuery(view: "v")) } == .stopped)
            other.close()
            await store.close()
            #expect(ViewQueryTests.code { _ = try reader.query(ViewQuery(view: "v")) } == .stopped)
            #expect(throws: StorageError.self) { try store.makeViewLookupReader() }
        }
    }
}

/// Runs a query of a user view both ways, expecting the same page or the same refusal.
/// System views are computed from the log and never looked up this way.
enum LookupParity {
    /// One reader per store, kept for the store's test: its kept statements then serve
    /// many queries, as on an event loop. A reader holds its store, so no other store can
    /// take the identifier while the reader is here.
    private final class Readers: @unchecked Sendable {
        private let lock = NSLock()
        private var byStore = [ObjectIdentifier: ViewLookupReader]()

        func reader(for store: EventStore) throws -> ViewLookupReader {
            try lock.withLock {
                if let reader = byStore[ObjectIdentifier(store)] { return reader }
                let reader = try store.makeViewLookupReader()
                byStore[ObjectIdentifier(store)] = reader
                return reader
            }
        }

        func forget(_ store: EventStore) {
            lock.withLock { byStore.removeValue(forKey: ObjectIdentifier(store)) }?.close()
        }
    }

    private static let readers = Readers()

    /// The store's page of `query`, checked against the reader's.
    static func query(_ store: EventStore, _ query: ViewQuery, sourceLocation: SourceLocation = #_sourceLocation) throws -> ViewPage {
        guard !query.view.hasPrefix("$") else { return try store.query(query) }  // never a lookup
        let viaPool = Result { try store.query(query) }
        let viaReader = Result { try readers.reader(for: store).query(query) }
        switch (viaPool, viaReader) {
        case (.success(let pool), .success(let reader)):
            #expect(pool == reader, "\(query)", sourceLocation: sourceLocation)
        case (.failure(let pool), .failure(let reader)):
            let (poolError, readerError) = (pool as? StorageError, reader as? StorageError)
            #expect(poolError?.code == readerError?.code, "\(query)", sourceLocation: sourceLocation)
            #expect(poolError?.message == readerError?.message, "\(query)", sourceLocation: sourceLocation)
        case (.success, .failure(let error)), (.failure(let error), .success):
            Issue.record("only one way failed, with \(error): \(query)", sourceLocation: sourceLocation)
        }
        return try viaPool.get()
    }

    /// Closes the store's reader; the view tests call it before closing the store.
    static func forget(_ store: EventStore) {
        readers.forget(store)
    }
}

internal import LogbookStorage
internal import LogbookWire
internal import Testing

@testable internal import LogbookServer

/// The numbers the wire contract promises and the store enforces on its own, since
/// LogbookStorage cannot see LogbookWire: they must say the same.
@Suite("Limits agree across modules")
struct LimitsTests {
    @Test func aQueryPageHoldsAsManyRowsAsTheWirePromises() {
        #expect(StorageLimits.queryRowsMax == QueryDefaults.rowsMax)
    }

    @Test func anAppendHoldsAsManyEventsAsTheStoreAccepts() {
        #expect(Limits().eventsPerAppendMax == StorageLimits.eventsPerAppendMax)
    }

    @Test func aQueryWaitsTheWiresDefault() {
        #expect(Limits().queryWaitDefault == QueryDefaults.wait)
        #expect(Limits().queryWaitDefault <= Limits().queryWaitMax)
    }
}

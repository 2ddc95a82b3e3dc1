internal import LogbookStorage
internal import LogbookWire
internal import Testing

@testable internal import LogbookServer

/// The one reading of a wire `StartFrom`, for each call that takes one.
@Suite("Reading StartFrom")
struct StartFromTests {
    private func from(_ kind: StartFrom.Kind?) -> StartFrom? {
        kind.map { StartFrom(kind: $0) }
    }

    @Test func aReadStartsWhereItSaysAndUnsetFollowsTheDirection() throws {
        let stream = LogbookStorage.Selector.stream("s")
        #expect(try Conversions.readStart(nil, selector: .all, direction: .forwards) == .start)
        #expect(try Conversions.readStart(nil, selector: .all, direction: .backwards) == .end)
        #expect(try Conversions.readStart(self.from(.end(Empty())), selector: .all, direction: .forwards) == .end)
        #expect(try Conversions.readStart(self.from(.position(4)), selector: .all, direction: .forwards) == .position(4))
        #expect(try Conversions.readStart(self.from(.revision(2)), selector: stream, direction: .forwards) == .revision(2))
    }

    @Test func aSubscriptionSendsWhatComesAfterItsStart() throws {
        let stream = LogbookStorage.Selector.stream("s")
        #expect(try Conversions.subscriptionStart(nil, selector: .all, head: 9) == (0, nil))
        #expect(try Conversions.subscriptionStart(self.from(.end(Empty())), selector: .all, head: 9) == (9, nil))
        #expect(try Conversions.subscriptionStart(self.from(.position(4)), selector: .all, head: 9) == (4, nil))
        #expect(try Conversions.subscriptionStart(self.from(.revision(2)), selector: stream, head: 9) == (0, 3))
        #expect(try Conversions.subscriptionStart(self.from(.revision(.max)), selector: stream, head: 9) == (0, .max))
    }

    @Test func aRevisionIsAPlaceInOneStreamOnly() {
        for selector in [LogbookStorage.Selector.all, .category("c"), .eventType("t"), .correlationID("x")] {
            #expect(throws: CallError.self) { try Conversions.readStart(self.from(.revision(1)), selector: selector, direction: .forwards) }
            #expect(throws: CallError.self) { try Conversions.subscriptionStart(self.from(.revision(1)), selector: selector, head: 0) }
        }
    }

    @Test func aGroupStartsAtAPlaceInTheLogNeverARevision() throws {
        #expect(try Conversions.groupStart(nil) == .start)
        #expect(try Conversions.groupStart(self.from(.end(Empty()))) == .end)
        #expect(try Conversions.groupStart(self.from(.position(3))) == .position(3))
        let error = #expect(throws: CallError.self) { try Conversions.groupStart(self.from(.revision(1))) }
        #expect(error?.status.code == .invalidArgument)
        #expect(error?.status.message.hasPrefix("GroupSettings.from") == true)
    }
}

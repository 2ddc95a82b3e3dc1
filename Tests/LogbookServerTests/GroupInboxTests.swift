internal import Testing

@testable internal import LogbookServer

@Suite("Group inbox")
struct GroupInboxTests {
    @Test func takeReturnsEverythingWaitingInOrder() async {
        let inbox = GroupInbox<Int>()
        inbox.send(1)
        inbox.send(2)
        #expect(await inbox.take(until: nil) == [1, 2])
        inbox.send(3)
        #expect(await inbox.take(until: nil) == [3])
    }

    @Test func aSendWakesTheWaitingDriver() async throws {
        let inbox = GroupInbox<Int>()
        let taking = Task { await inbox.take(until: nil) }
        try await untilWaiting { inbox.isWaiting }
        inbox.send(7)
        #expect(await taking.value == [7])
    }

    @Test func aPassedDeadlineReturnsNothingToDo() async {
        let inbox = GroupInbox<Int>()
        #expect(await inbox.take(until: .now) == [])
    }

    @Test func closingEndsTheWaitAndRefusesLaterCommands() async throws {
        let inbox = GroupInbox<Int>()
        let taking = Task { await inbox.take(until: nil) }
        try await untilWaiting { inbox.isWaiting }
        inbox.close()
        #expect(await taking.value == nil)
        inbox.send(1)
        #expect(await inbox.take(until: nil) == nil)
    }

    @Test func commandsSentBeforeCloseAreStillTaken() async {
        let inbox = GroupInbox<Int>()
        inbox.send(1)
        inbox.close()
        #expect(await inbox.take(until: nil) == [1])
        #expect(await inbox.take(until: nil) == nil)
    }

    @Test func cancellingTheDriverEndsItsWait() async throws {
        let inbox = GroupInbox<Int>()
        let taking = Task { await inbox.take(until: nil) }
        try await untilWaiting { inbox.isWaiting }
        taking.cancel()
        #expect(await taking.value == nil)
    }
}

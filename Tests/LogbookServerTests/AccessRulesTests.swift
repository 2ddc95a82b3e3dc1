internal import LogbookWire
internal import Testing

@testable internal import LogbookServer

/// The access file's grammar and what a grant covers, without a daemon or real accounts.
@Suite("Access rules")
struct AccessRulesTests {
    static let accounts = AccessRules.Accounts(
        userID: { ["alice": 1001, "bob": 1002][$0] },
        groupID: { ["ops": 500][$0] }
    )

    static func rules(_ text: String) throws -> AccessRules {
        try AccessRules(parsing: text, accounts: Self.accounts)
    }

    static let alice: (uid: UInt32, gids: [UInt32]) = (1001, [100])
    static let opsMember: (uid: UInt32, gids: [UInt32]) = (1003, [100, 500])

    static func allows(_ rules: AccessRules, _ who: (uid: UInt32, gids: [UInt32]), _ permission: AccessRules.Permissions, _ resource: Resource) -> Bool {
        rules.allows(uid: who.uid, gids: who.gids, permission, on: resource)
    }

    @Test func aStreamPrefixCoversItsStreamsAndNoOthers() throws {
        let rules = try Self.rules("user:alice read,append stream:orders-*")
        #expect(Self.allows(rules, Self.alice, .read, .stream("orders-1")))
        #expect(Self.allows(rules, Self.alice, .append, .stream("orders-")))
        #expect(!Self.allows(rules, Self.alice, .read, .stream("orders")))
        #expect(!Self.allows(rules, Self.alice, .read, .stream("payments-1")))
        #expect(!Self.allows(rules, Self.alice, .consume, .stream("orders-1")))
        #expect(!Self.allows(rules, Self.alice, .admin, .stream("orders-1")))
        // Someone else: nothing.
        #expect(!Self.allows(rules, (1002, [100]), .read, .stream("orders-1")))
    }

    @Test func anExactNameCoversThatNameOnly() throws {
        let rules = try Self.rules("uid:1001 read stream:audit view:totals group:billing\nuid:1001 consume group:billing")
        #expect(Self.allows(rules, Self.alice, .read, .stream("audit")))
        #expect(!Self.allows(rules, Self.alice, .read, .stream("audit-1")))
        #expect(Self.allows(rules, Self.alice, .read, .view("totals")))
        #expect(!Self.allows(rules, Self.alice, .read, .view("totals-2")))
        #expect(Self.allows(rules, Self.alice, .consume, .group("billing")))
    }

    @Test func aCategoryCoversItsStreamsAndItsCategoryRead() throws {
        let rules = try Self.rules("user:alice read category:invoice")
        #expect(Self.allows(rules, Self.alice, .read, .stream("invoice-7")))
        #expect(Self.allows(rules, Self.alice, .read, .stream("invoice")))
        #expect(Self.allows(rules, Self.alice, .read, .category("invoice")))
        #expect(!Self.allows(rules, Self.alice, .read, .stream("invoices-7")))
        #expect(!Self.allows(rules, Self.alice, .read, .streams(prefix: "invoice")))
    }

    @Test func aStreamPrefixCoversTheReadsItBounds() throws {
        let rules = try Self.rules("user:alice read stream:ord*")
        // Every stream of the category `orders` starts with `ord`.
        #expect(Self.allows(rules, Self.alice, .read, .category("orders")))
        #expect(Self.allows(rules, Self.alice, .read, .streams(prefix: "orders-")))
        #expect(!Self.allows(rules, Self.alice, .read, .streams(prefix: "or")))
        #expect(!Self.allows(rules, Self.alice, .read, .streams(prefix: "")))
        #expect(!Self.allows(rules, Self.alice, .read, .category("or")))
        let everyStream = try Self.rules("user:alice read stream:*")
        #expect(Self.allows(everyStream, Self.alice, .read, .streams(prefix: "")))
        #expect(!Self.allows(everyStream, Self.alice, .read, .view("v")))
    }

    @Test func namesCompareInCanonicalForm() throws {
        // `cafe*` must not cover a stream the store knows as `café-1`, however it is spelled.
        let rules = try Self.rules("user:alice append stream:cafe*\nuser:alice append stream:thé-*")
        #expect(!Self.allows(rules, Self.alice, .append, .stream("cafe\u{301}-1")))
        #expect(!Self.allows(rules, Self.alice, .append, .stream("caf\u{E9}-1")))
        #expect(Self.allows(rules, Self.alice, .append, .stream("cafe-1")))
        #expect(Self.allows(rules, Self.alice, .append, .stream("the\u{301}-1")))
    }

    @Test func everythingCoversEveryResourceAndAllEveryPermission() throws {
        let rules = try Self.rules("group:ops all *")
        for resource: Resource in [.stream("a"), .streams(prefix: ""), .category("c"), .group("g"), .allGroups, .someView, .server] {
            for permission: AccessRules.Permissions in [.read, .append, .consume, .admin] {
                #expect(Self.allows(rules, Self.opsMember, permission, resource))
                #expect(!Self.allows(rules, Self.alice, permission, resource))
            }
        }
    }

    @Test func groupsAndViewsListedOrAllNeedTheirGrants() throws {
        let rules = try Self.rules("user:alice admin group:team-* view:team-*\n* admin group:*")
        #expect(Self.allows(rules, Self.alice, .admin, .someGroup))
        #expect(Self.allows(rules, Self.alice, .admin, .someView))
        #expect(Self.allows(rules, (7, []), .admin, .allGroups))
        let teamOnly = try Self.rules("user:alice admin group:team-*")
        #expect(!Self.allows(teamOnly, Self.alice, .admin, .allGroups))
        #expect(!Self.allows(teamOnly, Self.alice, .admin, .someView))
        #expect(!Self.allows(teamOnly, Self.alice, .admin, .server))
    }

    @Test func commentsBlankLinesAndTabsAreAllowed() throws {
        let rules = try Self.rules("""
            # a comment

            user:alice\tread   stream:a-*   # trailing comment
            *  read view:public-*\r
            """)
        #expect(rules.grants.count == 2)
        #expect(rules.grants[1].who == .anyone)
        #expect(rules.grants[1].line == 4)
    }

    @Test(arguments: [
        ("user:alice read", "line 1: a grant is WHO PERMISSIONS WHAT"),
        ("user:carol read *", "line 1: no user is named carol"),
        ("group:dev read *", "line 1: no group is named dev"),
        ("uid:x read *", "a uid is a number"),
        ("alice read *", "say who with uid:N"),
        ("user: read *", "names no one"),
        ("user:alice write *", "'write' is not a permission"),
        ("user:alice read,,append *", "'' is not a permission"),
        ("user:alice read topic:x", "say what with stream:"),
        ("user:alice read stream:", "names nothing"),
        ("user:alice read stream:a*b", "`*` may only end a name"),
        ("user:alice consume stream:a-*", "consume applies to none of stream:a-*"),
        ("user:alice append view:v", "append applies to none of view:v"),
        ("user:alice read group:g", "read applies to none of group:g"),
        ("# ok\nuser:alice read stream:a\nuser:alice fly stream:a", "line 3:"),
    ])
    func badLinesAreRefusedWithTheirLineAndReason(text: String, says: String) {
        #expect {
            _ = try Self.rules(text)
        } throws: { error in
            "\(error)".contains(says)
        }
    }

    @Test func aLineMayGrantPermissionsThatEachApplyToSomeOfItsResources() throws {
        let rules = try Self.rules("user:alice read,append,consume stream:orders-* group:orders")
        #expect(Self.allows(rules, Self.alice, .consume, .group("orders")))
        #expect(!Self.allows(rules, Self.alice, .read, .group("orders")))
    }

    // MARK: What requests need

    @Test func requestsNeedWhatTheyTouch() {
        func needs(_ body: Frame.Body) -> [String] {
            AccessNeeds.of(body).map { "\($0.permission.rawValue) \($0.resource)" }
        }
        let append = AppendRequest(streams: [StreamAppend(stream: "a-1"), StreamAppend(stream: "b-1")])
        #expect(needs(.appendRequest(append)) == ["2 stream a-1", "2 stream b-1"])
        #expect(needs(.readRequest(ReadRequest(selector: Selector(kind: .stream("$all"))))) == ["1 every stream"])
        #expect(needs(.readRequest(ReadRequest(selector: Selector(kind: .all(Empty())), filter: Filter(streamPrefix: "a-")))) == [
            "1 every stream starting with a-",
        ])
        #expect(needs(.readRequest(ReadRequest(selector: Selector(kind: .eventType("T"))))) == ["1 every stream"])
        #expect(needs(.readRequest(ReadRequest(selector: Selector(kind: .category("a"))))) == ["1 category a"])
        #expect(needs(.subscribeRequest(SubscribeRequest(target: .group("g")))) == ["4 group g"])
        #expect(needs(.queryRequest(QueryRequest(view: "v"))) == ["1 view v"])
        #expect(needs(.queryRequest(QueryRequest(view: "$streams"))) == ["1 every stream"])
        #expect(needs(.queryRequest(QueryRequest(view: "$groups"))) == ["8 every group"])
        #expect(needs(.queryRequest(QueryRequest(view: "$stats"))) == ["8 the server"])
        #expect(needs(.queryRequest(QueryRequest(view: "$whatever"))) == ["8 the server"])
        let create = GroupSettings(name: "g", selector: Selector(kind: .stream("a-1")))
        #expect(needs(.adminRequest(AdminRequest(op: .createGroup(create)))) == ["8 group g", "1 stream a-1"])
        #expect(needs(.adminRequest(AdminRequest(op: .listGroups(Empty())))) == ["8 any group"])
        #expect(needs(.adminRequest(AdminRequest(op: .dropView("v")))) == ["8 view v"])
        #expect(needs(.adminRequest(AdminRequest(op: .deleteStream(DeleteStream(stream: "s")))))  == ["8 stream s"])
        #expect(needs(.adminRequest(AdminRequest(op: .setStreamMetadata(SetStreamMetadata(stream: "s"))))) == ["8 stream s"])
        #expect(needs(.adminRequest(AdminRequest(op: .getStreamMetadata("s")))) == ["1 stream s"])
        #expect(needs(.cancel(Cancel())).isEmpty)
    }
}

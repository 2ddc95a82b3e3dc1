/// What one query returns: its rows, and a cursor when more may follow.
package struct ViewPage: Sendable, Hashable {
    package var rows: [ViewRow]
    package var nextCursor: [UInt8]?

    package init(rows: [ViewRow], nextCursor: [UInt8]?) {
        self.rows = rows
        self.nextCursor = nextCursor
    }
}

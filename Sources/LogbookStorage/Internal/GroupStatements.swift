internal import GRDB

/// The writer's prepared statements for group writes, compiled on the first one.
///
/// Progress saves arrive with most acks, so they reuse statements like appends do.
struct GroupStatements {
    let findGroup: Statement
    let findGroupProgress: Statement
    let insertGroup: Statement
    let updateGroupSettings: Statement
    let insertGroupProgress: Statement
    let setGroupCheckpoint: Statement
    let insertSettled: Statement
    let deleteSettledUpTo: Statement
    let deleteAllSettled: Statement
    let upsertParked: Statement
    let deleteParked: Statement
    let deleteAllParked: Statement
    let deleteGroupProgress: Statement
    let deleteGroup: Statement

    init(_ db: Database) throws {
        findGroup = try db.makeStatement(sql: Schema.SQL.findGroup)
        findGroupProgress = try db.makeStatement(sql: Schema.SQL.findGroupProgress)
        insertGroup = try db.makeStatement(sql: Schema.SQL.insertGroup)
        updateGroupSettings = try db.makeStatement(sql: Schema.SQL.updateGroupSettings)
        insertGroupProgress = try db.makeStatement(sql: Schema.SQL.insertGroupProgress)
        setGroupCheckpoint = try db.makeStatement(sql: Schema.SQL.setGroupCheckpoint)
        insertSettled = try db.makeStatement(sql: Schema.SQL.insertSettled)
        deleteSettledUpTo = try db.makeStatement(sql: Schema.SQL.deleteSettledUpTo)
        deleteAllSettled = try db.makeStatement(sql: Schema.SQL.deleteAllSettled)
        upsertParked = try db.makeStatement(sql: Schema.SQL.upsertParked)
        deleteParked = try db.makeStatement(sql: Schema.SQL.deleteParked)
        deleteAllParked = try db.makeStatement(sql: Schema.SQL.deleteAllParked)
        deleteGroupProgress = try db.makeStatement(sql: Schema.SQL.deleteGroupProgress)
        deleteGroup = try db.makeStatement(sql: Schema.SQL.deleteGroup)
    }
}

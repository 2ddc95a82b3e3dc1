internal import Logging
internal import LogbookStorage
internal import NIOPosix

/// What every connection shares.
struct ServerContext: Sendable {
    var store: any ServedStore
    var limits: Limits
    var logger: Logger
    var threadPool: NIOThreadPool
    var groups: GroupManager
    var views: ViewCatalog
    var queries: QueryService
    var stats: ServerStats
    var metrics: ServerMetrics
    var lanes: AppendLanes
    var access: AccessControl?
}

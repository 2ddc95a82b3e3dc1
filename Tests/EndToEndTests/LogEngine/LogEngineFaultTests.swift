internal import Testing

/// The log engine's fault tests (issue 11), end to end against `logbookd --engine log`.
///
/// Their suites run one after another, not beside each other: each kills, starts and
/// fills daemons as fast as it can, and together they would starve the rest of the
/// end-to-end suite, whose tests wait for outcomes with bounded patience.
@Suite("Log engine faults", .serialized)
enum LogEngineFaultTests {}

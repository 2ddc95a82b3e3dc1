/// A condition on the value at a JSON path of each document.
package struct ViewPredicate: Sendable, Hashable {
    package enum Operator: Sendable, Hashable {
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual, prefix, `in`
    }

    package var path: String
    package var op: Operator
    /// JSON literals (number, string, true, false, null): one for every operator but
    /// `in`, which takes one or more.
    ///
    /// A value matches a literal of its own type class only: numbers (1 equals 1.0),
    /// strings, true, false. `= null` matches null or a missing path, and `!=` matches
    /// whatever `=` does not, missing paths included. `<`, `<=`, `>`, `>=` take a number
    /// or a string, `prefix` a string.
    package var values: [String]

    package init(path: String, op: Operator, values: [String]) {
        self.path = path
        self.op = op
        self.values = values
    }
}

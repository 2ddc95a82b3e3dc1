/// RFC 3339 timestamps in UTC with microseconds, e.g. `2024-05-01T12:34:56.789012Z`,
/// written without a date formatter (the read path formats one per event).
package enum RFC3339 {
    /// Appends the timestamp for `unixMicros` microseconds since the Unix epoch.
    package static func append(unixMicros: Int64, to out: inout [UInt8]) {
        let micros = Int64(unixMicros)
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = Self.civil(daysSinceEpoch: days)
        Self.appendDigits(year, count: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.appendDigits(month, count: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.appendDigits(day, count: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        Self.appendDigits(secondOfDay / 3600, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.appendDigits(secondOfDay / 60 % 60, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.appendDigits(secondOfDay % 60, count: 2, to: &out)
        out.append(UInt8(ascii: "."))
        Self.appendDigits(fraction, count: 6, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// The timestamp for `unixMicros` as a string.
    package static func string(unixMicros: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        self.append(unixMicros: unixMicros, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`).
    static func civil(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func appendDigits(_ value: Int64, count: Int, to out: inout [UInt8]) {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: count)
        var rest = max(0, value)
        var position = count - 1
        while position >= 0 {
            digits[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            position -= 1
        }
        out.append(contentsOf: digits)
    }
}

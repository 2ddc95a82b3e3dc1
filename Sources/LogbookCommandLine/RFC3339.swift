/// RFC 3339 timestamps in UTC with microseconds, e.g. `2024-05-01T12:34:56.789012Z`,
/// written without a date formatter (the read path formats one per event).
package enum RFC3339 {
    /// Appends the timestamp for `unixMicros` microseconds since the Unix epoch.
    package static func append(unixMicros: Int64, to out: inout [UInt8]) {
        var seconds = unixMicros / 1_000_000
        var fraction = unixMicros % 1_000_000
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

    /// Appends the timestamp in double quotes, as a JSON string.
    package static func appendQuoted(unixMicros: Int64, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        self.append(unixMicros: unixMicros, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// The timestamp for `unixMicros` as a string.
    package static func string(unixMicros: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        self.append(unixMicros: unixMicros, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Microseconds since the Unix epoch for an RFC 3339 timestamp: `2024-05-01T12:34:56Z`,
    /// with an optional fraction (digits past the sixth are dropped) and `Z` or an offset
    /// `±HH:MM`; `t`, `z` and a space in place of `T` are accepted. Nil for anything else.
    package static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + count)] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        var micros: Int64 = 0
        if expect(".") {
            var digits = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                if digits < 6 { micros = micros * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if !expect("Zz") {
            guard index < bytes.count else { return nil }
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard expect("+-"), let offsetHours = number(2), expect(":"), let offsetMinutes = number(2),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        let days = Self.days(year: year, month: month, day: day)
        guard Self.civil(daysSinceEpoch: days) == (year, month, day) else { return nil }  // e.g. 02-30
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000 + micros
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
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

    /// Appends `value` in decimal, zero-padded to `count` digits, in place (the read path
    /// writes seven of these per event).
    private static func appendDigits(_ value: Int64, count: Int, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        var rest = max(0, value)
        for index in (start..<out.count).reversed() {
            out[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
    }
}

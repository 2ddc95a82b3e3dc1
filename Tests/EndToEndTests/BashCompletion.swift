internal import Foundation
internal import Testing

/// Runs a generated bash completion script as bash runs it when TAB is pressed.
struct BashCompletion {
    let script: String

    /// The words bash offers for `line` with the cursor at its end.
    func complete(_ line: String) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lb-completion-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scriptPath = directory.appendingPathComponent("logbook.bash").path
        try Data(self.script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        let driver = """
            source "$1"
            COMP_LINE="$2"
            COMP_POINT=${#COMP_LINE}
            read -ra COMP_WORDS <<< "$COMP_LINE"
            [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
            COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
            COMPREPLY=()
            _logbook logbook "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", driver, "bash", scriptPath, line]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && errors.isEmpty, "bash: \(errors)")
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

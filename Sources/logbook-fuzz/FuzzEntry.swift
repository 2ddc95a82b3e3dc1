internal import Foundation

/// `logbook-fuzz`: the fuzz targets (issue 14). `LOGBOOK_FUZZ_TARGET` chooses one:
/// - `frames`: bytes → frames → the Status of the server's request checks (`FrameFuzz`);
/// - `connection`: a random sequence of frames and events through a connection's state
///   machine, against a model of what it must answer (`ConnectionFuzz`).
///
/// Built with `-sanitize=fuzzer -DFUZZING` (scripts/fuzz.sh), it is a libFuzzer binary.
/// Built plainly, it replays the files or directories it is given through the target,
/// which is how the tests run the committed corpus.
enum FuzzTarget: String {
    case frames
    case connection

    static var chosen: FuzzTarget {
        let name = ProcessInfo.processInfo.environment["LOGBOOK_FUZZ_TARGET"] ?? "frames"
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("LOGBOOK_FUZZ_TARGET is frames or connection, not \(name)")
        }
        return target
    }

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .frames: FrameFuzz.run(bytes)
        case .connection: ConnectionFuzz.run(bytes)
        }
    }
}

#if FUZZING
/// libFuzzer's driver, in the `-sanitize=fuzzer` runtime. Called from `main` rather than
/// taking libFuzzer's own `main`: SwiftPM links an executable's entry point as its own.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

private let target = FuzzTarget.chosen

/// The entry libFuzzer's own `main` (linked with the runtime, unused) names.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    target.run(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}

@main
struct FuzzDriver {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        let status = runFuzzerDriver(&argc, &argv, fuzzOneInput)
        exit(status)
    }
}
#else
@main
struct ReplayCorpus {
    static func main() throws {
        let target = FuzzTarget.chosen
        var files = 0
        for path in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                fatalError("no such file: \(path)")
            }
            let paths = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 } : [path]
            for file in paths {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                data.withUnsafeBytes { target.run($0) }
                files += 1
            }
        }
        print("\(target.rawValue): \(files) inputs replayed, no finding")
    }
}
#endif

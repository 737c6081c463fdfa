import ArgumentParser
import Foundation
import Scenarios

/// A scenario file read and validated before anything is sent: a file that is not valid stops the command
/// with exit 64, naming the file and the field at fault.
enum ScenarioFile {
    /// Reads `path` (`-` for standard input) and returns the validated scenario.
    static func load(_ path: String) throws -> Scenario {
        let text: String
        let shown = path == "-" ? "standard input" : path
        do {
            if path == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                text = try String(contentsOfFile: path, encoding: .utf8)
            }
        } catch {
            Console.error("error: cannot read the scenario file \(shown): \(Self.reason(error))")
            throw ExitCode(64)
        }
        do {
            return try Scenario.parse(text).validated()
        } catch {
            let location = error.field.isEmpty ? "" : " \(error.field):"
            Console.error("error: \(shown):\(location) \(error.reason)")
            Console.error("  See the README, section \"Scenarios\", for the file format.")
            throw ExitCode(64)
        }
    }

    private static func reason(_ error: any Error) -> String {
        let error = error as NSError
        if error.domain == NSCocoaErrorDomain, error.code == NSFileReadNoSuchFileError { return "no such file" }
        if error.domain == NSCocoaErrorDomain, error.code == NSFileReadNoPermissionError { return "permission denied" }
        return error.localizedDescription
    }
}

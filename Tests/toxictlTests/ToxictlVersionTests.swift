import Testing
import ToxiproxyTestSupport

@Suite
struct ToxictlVersionTests {
    @Test
    func versionFlagPrintsTheVersion() async throws {
        let result = try await Toxictl.run(["--version"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "0.1.0\n")
        #expect(result.stderr.isEmpty)
    }
}

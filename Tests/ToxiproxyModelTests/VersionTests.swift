import Testing
import ToxiproxyModel

@Suite struct VersionTests {
    @Test func compatibleVersionIsTheReferenceRelease() {
        #expect(ToxiproxyVersion.compatible == "2.12.0")
    }
}

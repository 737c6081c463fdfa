import Testing
import ToxiproxyModel

@Suite struct StreamDirectionTests {
    @Test(arguments: [
        ("upstream", StreamDirection.upstream), ("UpStream", .upstream), ("UPSTREAM", .upstream),
        ("downstream", .downstream), ("DownStream", .downstream),
    ])
    func parsingIsCaseInsensitive(text: String, direction: StreamDirection) {
        #expect(StreamDirection(parsing: text) == direction)
    }

    @Test(arguments: ["", "up", "down", " upstream", "upstream ", "upſtream", "sideways"])
    func otherStringsAreInvalid(text: String) {
        #expect(StreamDirection(parsing: text) == nil)
    }

    @Test func rawValuesAreTheWireNames() {
        #expect(StreamDirection.allCases.map(\.rawValue) == ["upstream", "downstream"])
    }
}

import Testing
import ToxiproxyModel

@testable import ToxiproxyServer

/// The versioned toxic set that links catch up with: identities, revisions, versions, and failed changes
/// that leave it as it was.
struct ToxicSetTests {
    private func toxic(_ name: String, _ direction: StreamDirection = .downstream, latency: Int = 10) -> Toxic {
        var attributes = ToxicAttributes(type: .latency)
        attributes["latency"] = Int64(latency)
        return Toxic(
            name: name,
            type: .latency,
            stream: direction.rawValue,
            direction: direction,
            attributes: attributes
        )
    }

    @Test
    func addAppendsInCreationOrderWithIncreasingIdentities() throws {
        var set = ToxicSet()
        try set.add(self.toxic("a"))
        try set.add(self.toxic("b", .upstream))
        try set.add(self.toxic("c"))
        #expect(set.version == 3)
        #expect(set.entries(.downstream).map(\.toxic.name) == ["a", "c"])
        #expect(set.entries(.upstream).map(\.toxic.name) == ["b"])
        let ids = set.entries(.downstream).map(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)
        // The API's order: upstream first.
        #expect(set.toxics.map(\.name) == ["b", "a", "c"])
    }

    @Test
    func replaceKeepsTheIdentityAndBumpsTheRevision() throws {
        var set = ToxicSet()
        try set.add(self.toxic("a"))
        let before = try #require(set.entries(.downstream).first)
        try set.replace(self.toxic("a", latency: 99))
        let after = try #require(set.entries(.downstream).first)
        #expect(after.id == before.id)
        #expect(after.revision == before.revision + 1)
        #expect(set.toxic(named: "a") == self.toxic("a", latency: 99))
        #expect(set.version == 2)
    }

    /// A link that missed both changes must see a different toxic, not an update of the old one.
    @Test
    func aToxicRemovedAndAddedAgainIsANewEntry() throws {
        var set = ToxicSet()
        try set.add(self.toxic("a"))
        try set.add(self.toxic("b"))
        let first = try #require(set.entries(.downstream).first { $0.toxic.name == "a" })
        try set.remove(named: "a")
        try set.add(self.toxic("a"))
        let second = try #require(set.entries(.downstream).first { $0.toxic.name == "a" })
        #expect(second.id > first.id)
        #expect(set.entries(.downstream).map(\.toxic.name) == ["b", "a"])
        #expect(set.version == 4)
    }

    @Test
    func failedChangesLeaveTheSetAndItsVersionAlone() throws {
        var set = ToxicSet()
        try set.add(self.toxic("a"))
        let before = set
        #expect(throws: APIError.toxicAlreadyExists) { try set.add(self.toxic("a", .upstream)) }
        #expect(throws: APIError.toxicNotFound) { try set.replace(self.toxic("missing")) }
        #expect(throws: APIError.toxicNotFound) { try set.remove(named: "missing") }
        #expect(set.version == before.version)
        #expect(set.entries(.downstream) == before.entries(.downstream))
        #expect(set.entries(.upstream).isEmpty)
    }
}

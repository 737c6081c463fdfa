import ToxiproxyModel

/// A proxy's toxics, versioned so that each live link can bring its chains up to date by itself.
///
/// An admin change edits this set and returns without waiting for the links' event loops (a loop busy with
/// a thousand streams would otherwise set the admin API's pace); each link compares `version` with the one
/// it applied last, before it handles any more bytes, and catches up with `entries(_:)`. Entries keep an
/// identity across updates and a revision per update, so catching up is exact however many changes were
/// missed: a toxic removed and added again under the same name is a new entry, not an update.
struct ToxicSet: Sendable {
    struct Entry: Sendable, Equatable {
        /// Unique within the proxy, increasing in creation order.
        let id: Int
        /// Bumped by every update of the toxic.
        var revision: Int
        var toxic: Toxic
    }

    private(set) var upstream: [Entry] = []
    private(set) var downstream: [Entry] = []
    /// Bumped by every change.
    private(set) var version = 0
    private var nextID = 0

    /// The toxics in the API's order: upstream ones first, each direction in creation order.
    var toxics: [Toxic] { (self.upstream + self.downstream).map(\.toxic) }

    func toxic(named name: String) -> Toxic? {
        (self.upstream.first { $0.toxic.name == name } ?? self.downstream.first { $0.toxic.name == name })?.toxic
    }

    func entries(_ direction: StreamDirection) -> [Entry] {
        direction == .upstream ? self.upstream : self.downstream
    }

    /// Adds a toxic at the end of its direction's chain.
    mutating func add(_ toxic: Toxic) throws(APIError) {
        guard self.toxic(named: toxic.name) == nil else { throw APIError.toxicAlreadyExists }
        let entry = Entry(id: self.nextID, revision: 0, toxic: toxic)
        self.nextID += 1
        switch toxic.direction {
        case .upstream: self.upstream.append(entry)
        case .downstream: self.downstream.append(entry)
        }
        self.version += 1
    }

    /// Replaces the settings of the toxic of the same name (its type and direction do not change).
    mutating func replace(_ toxic: Toxic) throws(APIError) {
        if let index = self.upstream.firstIndex(where: { $0.toxic.name == toxic.name }) {
            self.upstream[index].toxic = toxic
            self.upstream[index].revision += 1
        } else if let index = self.downstream.firstIndex(where: { $0.toxic.name == toxic.name }) {
            self.downstream[index].toxic = toxic
            self.downstream[index].revision += 1
        } else {
            throw APIError.toxicNotFound
        }
        self.version += 1
    }

    mutating func remove(named name: String) throws(APIError) {
        if let index = self.upstream.firstIndex(where: { $0.toxic.name == name }) {
            self.upstream.remove(at: index)
        } else if let index = self.downstream.firstIndex(where: { $0.toxic.name == name }) {
            self.downstream.remove(at: index)
        } else {
            throw APIError.toxicNotFound
        }
        self.version += 1
    }
}

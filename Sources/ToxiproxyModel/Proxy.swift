/// A proxy as reported by the API.
public struct Proxy: Sendable, Equatable {
    public var name: String
    /// The bound address once started (`127.0.0.1:PORT`), or the string as given if never started.
    public var listen: String
    public var upstream: String
    public var enabled: Bool
    /// Upstream toxics first in creation order, then downstream ones in creation order.
    public var toxics: [Toxic]

    /// Creates a proxy description.
    public init(name: String, listen: String, upstream: String, enabled: Bool, toxics: [Toxic] = []) {
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = enabled
        self.toxics = toxics
    }
}

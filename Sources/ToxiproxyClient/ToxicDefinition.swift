import ToxiproxyModel

/// A toxic to create: what `POST /proxies/{proxy}/toxics` takes.
public struct ToxicDefinition: Sendable, Equatable {
    /// nil lets the server choose `<type>_<stream>`.
    public var name: String?
    public var type: String
    public var stream: StreamDirection
    public var toxicity: Float
    /// Integer attributes in the order they are sent.
    public var attributes: [(name: String, value: Int64)]

    public init(
        name: String? = nil,
        type: String,
        stream: StreamDirection = .downstream,
        toxicity: Float = 1,
        attributes: [(name: String, value: Int64)] = []
    ) {
        self.name = name
        self.type = type
        self.stream = stream
        self.toxicity = toxicity
        self.attributes = attributes
    }

    public static func == (lhs: ToxicDefinition, rhs: ToxicDefinition) -> Bool {
        lhs.name == rhs.name && lhs.type == rhs.type && lhs.stream == rhs.stream && lhs.toxicity == rhs.toxicity
            && lhs.attributes.elementsEqual(rhs.attributes) { $0.name == $1.name && $0.value == $1.value }
    }

    /// The request body.
    public var jsonBody: String {
        var writer = JSONWriter()
        writer.beginObject()
        if let name = self.name {
            writer.key("name")
            writer.string(name)
        }
        writer.key("type")
        writer.string(self.type)
        writer.key("stream")
        writer.string(self.stream.rawValue)
        writer.key("toxicity")
        writer.float32(self.toxicity)
        writer.key("attributes")
        writeAttributes(self.attributes, to: &writer)
        writer.endObject()
        return writer.output
    }
}

func writeAttributes(_ attributes: [(name: String, value: Int64)], to writer: inout JSONWriter) {
    writer.beginObject()
    for (name, value) in attributes {
        writer.key(name)
        writer.int(value)
    }
    writer.endObject()
}

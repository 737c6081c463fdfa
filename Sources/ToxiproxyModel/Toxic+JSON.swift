extension Toxic {
    /// Writes the toxic in the reference key order:
    /// `{"attributes":{...},"name":...,"type":...,"stream":...,"toxicity":...}`.
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("attributes")
        writer.beginObject()
        for attribute in attributes.values {
            writer.key(attribute.name)
            writer.int(attribute.value)
        }
        writer.endObject()
        writer.key("name")
        writer.string(name)
        writer.key("type")
        writer.string(type.name)
        writer.key("stream")
        writer.string(stream)
        writer.key("toxicity")
        writer.float32(toxicity)
        writer.endObject()
    }

    /// The toxic as compact JSON.
    public var jsonString: String {
        var writer = JSONWriter()
        writeJSON(to: &writer)
        return writer.output
    }
}

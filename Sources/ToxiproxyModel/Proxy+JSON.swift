extension Proxy {
    /// Writes the proxy in the reference key order, including the `"Logger":{}` member that Go leaks
    /// from an exported field; it is kept for byte-level parity.
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("name")
        writer.string(name)
        writer.key("listen")
        writer.string(listen)
        writer.key("upstream")
        writer.string(upstream)
        writer.key("enabled")
        writer.bool(enabled)
        writer.key("Logger")
        writer.beginObject()
        writer.endObject()
        writer.key("toxics")
        writer.beginArray()
        for toxic in toxics {
            toxic.writeJSON(to: &writer)
        }
        writer.endArray()
        writer.endObject()
    }

    /// The proxy as compact JSON.
    public var jsonString: String {
        var writer = JSONWriter()
        writeJSON(to: &writer)
        return writer.output
    }
}

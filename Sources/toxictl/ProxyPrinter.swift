import Impairments
import ToxiproxyModel

/// How proxies, toxics and calls are shown: aligned text for people, JSON for scripts.
enum ProxyPrinter {
    static func text(_ proxy: Proxy) -> String {
        var lines = [
            "proxy \(proxy.name): \(proxy.enabled ? "enabled" : "DISABLED (connections refused)"), "
                + "listen \(proxy.listen), upstream \(proxy.upstream)"
        ]
        if proxy.toxics.isEmpty {
            lines.append("toxics: none")
            return lines.joined(separator: "\n")
        }
        lines.append("toxics:")
        let rows =
            [["NAME", "TYPE", "STREAM", "TOXICITY", "ATTRIBUTES"]]
            + proxy.toxics.map { toxic in
                [
                    toxic.name, toxic.type.name, toxic.stream, self.formatToxicity(toxic.toxicity),
                    toxic.attributes.values.map { "\($0.name)=\($0.value)" }.joined(separator: " "),
                ]
            }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }
            lines.append("  " + cells.joined())
        }
        return lines.joined(separator: "\n")
    }

    static func writeJSON(_ proxy: Proxy, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("name")
        writer.string(proxy.name)
        writer.key("listen")
        writer.string(proxy.listen)
        writer.key("upstream")
        writer.string(proxy.upstream)
        writer.key("enabled")
        writer.bool(proxy.enabled)
        writer.key("toxics")
        writer.beginArray()
        for toxic in proxy.toxics {
            toxic.writeJSON(to: &writer)
        }
        writer.endArray()
        writer.endObject()
    }

    static func writeJSON(_ calls: [APICall], to writer: inout JSONWriter) {
        writer.beginArray()
        for call in calls {
            writer.string(call.description)
        }
        writer.endArray()
    }

    static func formatToxicity(_ toxicity: Float) -> String {
        var writer = JSONWriter()
        writer.float32(toxicity)
        return writer.output
    }
}

extension String {
    fileprivate func padding(toLength length: Int, withPad pad: Character, startingAt _: Int) -> String {
        self.count >= length ? self : self + String(repeating: pad, count: length - self.count)
    }
}

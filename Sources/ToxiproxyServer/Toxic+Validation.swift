import ToxiproxyModel

extension Toxic {
    /// Refuses the values the reference accepts but then crashes or hangs on, with a message that says what
    /// is allowed. Everything else the reference accepts is accepted (negative latencies mean none, as there).
    func validateForServer() throws(APIError) {
        switch self.type {
        case .bandwidth where self.attributes["rate"] < 0:
            throw APIError.invalidAttribute(
                "bandwidth rate must be 0 or more KB/s (got \(self.attributes["rate"])); 0 stops the traffic"
            )
        case .slicer:
            let average = self.attributes["average_size"]
            let variation = self.attributes["size_variation"]
            let (sum, overflow) = average.addingReportingOverflow(variation)
            if overflow || sum < 1 {
                throw APIError.invalidAttribute(
                    "slicer average_size + size_variation must be at least 1 byte (got \(average) and \(variation))"
                )
            }
        default:
            break
        }
    }
}

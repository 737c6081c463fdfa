import ToxiproxyClient

/// A failure told the way an operator can act on it: what went wrong, then what to do.
struct CLIError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { self.message }

    /// Translates a client error for `proxy` on `target` into an actionable message.
    init(_ error: ToxiproxyClientError, proxy: String, target: String) {
        switch error.code {
        case .unreachable:
            self.message = """
                \(error.message).
                Is the server running? Start one here with `toxictl serve`, or point --admin-url or \
                TOXIPROXY_URL at yours.
                """
        case .server where error.status == 404 && error.message == "proxy not found":
            self.message = """
                proxy "\(proxy)" does not exist on \(target): run `toxictl enable` first \
                (or choose another with --proxy).
                """
        case .server:
            self.message = "the admin API refused \(error.request): HTTP \(error.status ?? 0): \(error.message)"
        case .invalidResponse:
            self.message = "\(error.request): \(error.message)"
        default:
            self.message = error.description
        }
    }
}

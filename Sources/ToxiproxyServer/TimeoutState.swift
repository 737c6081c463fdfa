import NIOCore

/// The timeout toxic of one connection direction: drops every chunk, and with `timeout > 0` closes the
/// connection after that long without an incoming chunk (an idle timer, re-armed by every chunk and by
/// every stage restart). `timeout == 0` holds the connection open forever.
struct TimeoutState {
    private(set) var timeout: Int64
    private(set) var active: Bool
    /// When the connection is to be closed, if a timer is due.
    private(set) var deadline: NIODeadline?

    init(timeout: Int64, active: Bool, now: NIODeadline) {
        self.timeout = timeout
        self.active = active
        self.rearm(now: now)
    }

    enum ReceiveAction: Equatable {
        case forward
        /// Drop the data; the idle deadline moved to `deadline`.
        case drop
    }

    mutating func receive(_ element: StreamElement, now: NIODeadline) -> ReceiveAction {
        guard self.active else { return .forward }
        switch element {
        case .chunk:
            self.rearm(now: now)
            return .drop
        case .end, .close:
            // The source's end still travels on (and ends the destination's stream).
            self.deadline = nil
            return .forward
        }
    }

    mutating func reconfigure(timeout: Int64, active: Bool, now: NIODeadline) {
        self.timeout = timeout
        self.active = active
        self.rearm(now: now)
    }

    /// Whether the idle deadline has passed at `now`.
    func isExpired(now: NIODeadline) -> Bool {
        guard let deadline = self.deadline else { return false }
        return deadline <= now
    }

    private mutating func rearm(now: NIODeadline) {
        if self.active && self.timeout > 0 {
            self.deadline = now + .milliseconds(self.timeout)
        } else {
            self.deadline = nil
        }
    }
}

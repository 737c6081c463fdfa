import Atomics
import NIOCore
import Scenarios

/// What crossed one proxy, always counted (unlike the `-proxy-metrics` series): the figures of a scenario's
/// recovery report. Relaxed atomics only, so the data path pays one uncontended add per chunk and nothing else.
///
/// It also holds two "first event after" probes: once `arm()` is called, the first client accepted and the
/// first upstream byte written to a client each store their monotonic time, once. While disarmed the data path
/// pays one relaxed load per chunk for them.
final class ProxyActivity: Sendable {
    private let accepted = ManagedAtomic<Int64>(0)
    private let closed = ManagedAtomic<Int64>(0)
    private let bytesUp = ManagedAtomic<Int64>(0)
    private let bytesDown = ManagedAtomic<Int64>(0)
    private let cut = ManagedAtomic<Int64>(0)
    private let dialFailures = ManagedAtomic<Int64>(0)

    private let armed = ManagedAtomic<Bool>(false)
    /// `NIODeadline.uptimeNanoseconds` of the first event after `arm()`; 0 for none yet.
    private let firstAccept = ManagedAtomic<UInt64>(0)
    private let firstDelivery = ManagedAtomic<UInt64>(0)

    init() {}

    /// The counters as they are now (each read on its own; a report needs no cross-counter consistency).
    var counts: ActivityCounts {
        ActivityCounts(
            accepted: self.accepted.load(ordering: .relaxed),
            closed: self.closed.load(ordering: .relaxed),
            bytesUp: self.bytesUp.load(ordering: .relaxed),
            bytesDown: self.bytesDown.load(ordering: .relaxed),
            cut: self.cut.load(ordering: .relaxed),
            dialFailures: self.dialFailures.load(ordering: .relaxed)
        )
    }

    // MARK: Data path

    @inline(__always)
    func connectionAccepted() {
        self.accepted.wrappingIncrement(ordering: .relaxed)
        if self.armed.load(ordering: .relaxed) {
            Self.storeOnce(self.firstAccept)
        }
    }

    @inline(__always)
    func connectionClosed() {
        self.closed.wrappingIncrement(ordering: .relaxed)
    }

    @inline(__always)
    func connectionCut() {
        self.cut.wrappingIncrement(ordering: .relaxed)
    }

    @inline(__always)
    func dialFailed() {
        self.dialFailures.wrappingIncrement(ordering: .relaxed)
    }

    @inline(__always)
    func received(_ byteCount: Int, fromClient: Bool) {
        (fromClient ? self.bytesUp : self.bytesDown).wrappingIncrement(by: Int64(byteCount), ordering: .relaxed)
    }

    /// Upstream bytes were handed to a client's socket.
    @inline(__always)
    func deliveredToClient() {
        if self.armed.load(ordering: .relaxed) {
            Self.storeOnce(self.firstDelivery)
        }
    }

    private static func storeOnce(_ probe: ManagedAtomic<UInt64>) {
        guard probe.load(ordering: .relaxed) == 0 else { return }
        _ = probe.compareExchange(
            expected: 0,
            desired: max(1, NIODeadline.now().uptimeNanoseconds),
            ordering: .relaxed
        )
    }

    // MARK: Probes

    /// The first accept and the first delivery to a client after now will be recorded.
    func arm() {
        self.firstAccept.store(0, ordering: .relaxed)
        self.firstDelivery.store(0, ordering: .relaxed)
        self.armed.store(true, ordering: .releasing)
    }

    /// What the probes recorded since `arm()` (uptime nanoseconds), nil for none yet.
    var probes: (firstAccept: UInt64?, firstDelivery: UInt64?) {
        let accept = self.firstAccept.load(ordering: .relaxed)
        let delivery = self.firstDelivery.load(ordering: .relaxed)
        return (accept == 0 ? nil : accept, delivery == 0 ? nil : delivery)
    }

    /// Stops recording; what was recorded stays readable until the next `arm()`.
    func disarm() {
        self.armed.store(false, ordering: .relaxed)
    }
}

import NIOCore

/// The one timer a stage keeps on its event loop: re-arming for the same deadline is free, for another one
/// replaces it, so a stage can call `arm` after every change without piling up scheduled tasks. The stage
/// owns its timer, and a timer's action never runs after the timer is gone.
final class StageTimer {
    private let eventLoop: any EventLoop
    private var scheduled: Scheduled<Void>?
    private(set) var deadline: NIODeadline?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Runs `action` at `deadline` (nil cancels). The action runs on the event loop.
    func arm(at deadline: NIODeadline?, _ action: @escaping () -> Void) {
        guard deadline != self.deadline else { return }
        self.scheduled?.cancel()
        self.scheduled = nil
        self.deadline = deadline
        guard let deadline else { return }
        self.scheduled = self.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            // A timer that is gone (its stage with it) must not act: the action may reach the stage unowned.
            guard let self else { return }
            self.scheduled = nil
            self.deadline = nil
            action()
        }
    }

    deinit {
        self.scheduled?.cancel()
    }

    func cancel() {
        self.arm(at: nil) {}
    }
}

import NIOCore
import ToxiproxyModel

/// One direction of a link: the ordered toxic stages between a source socket and a destination socket.
///
/// Stages run in toxic creation order, first-created nearest the source. Every change keeps the bytes in
/// order and loses none: an added stage goes at the tail (what the old tail holds flows into it later), a
/// removed stage hands what it held to its successor before its predecessor can send anything more.
/// With no toxics an element goes straight to the sink, so the common case costs one array check.
final class DirectionChain {
    /// Bytes held by the stages above which the source stops reading (backpressure to TCP).
    static let highWaterMark = 4 * 1024 * 1024

    let direction: StreamDirection
    let eventLoop: any EventLoop
    private unowned let link: ConnectionLink
    private var stages: [any ToxicStage] = []
    /// Bytes read from the source that have not yet reached the sink or been dropped.
    private(set) var bufferedBytes = 0
    private var eventDepth = 0
    private var finished = false

    init(direction: StreamDirection, toxics: [Toxic], link: ConnectionLink) {
        self.direction = direction
        self.eventLoop = link.eventLoop
        self.link = link
        self.stages = toxics.map { self.makeStage(for: $0) }
    }

    /// Whether the source may read more now.
    var canAcceptMore: Bool { !self.finished && self.bufferedBytes < Self.highWaterMark }

    /// An element read from the source socket. The caller flushes at the end of its read burst.
    func receive(_ element: StreamElement) {
        guard !self.finished else { return }
        self.bufferedBytes += element.byteCount
        self.deliver(element, toStageAt: 0)
    }

    /// Passes `element` on from `stage` to the next stage, or to the sink after the last one.
    func forward(_ element: StreamElement, from stage: any ToxicStage) {
        guard !self.finished, let index = self.stages.firstIndex(where: { $0 === stage }) else { return }
        self.deliver(element, toStageAt: index + 1)
    }

    /// A stage dropped `element` by design (timeout): it no longer counts against backpressure.
    func discard(_ element: StreamElement) {
        self.discard(byteCount: element.byteCount)
    }

    /// A stage dropped `byteCount` bytes of what it was given (limit_data's cut).
    func discard(byteCount: Int) {
        self.bufferedBytes -= byteCount
        self.link.chainDidRelease(self)
    }

    /// Closes the whole connection (both sockets), dropping whatever is held.
    func closeConnection() {
        self.link.close()
    }

    /// Runs work that starts outside a read burst (a timer, an admin change) and flushes what it wrote.
    func performEvent(_ body: () -> Void) {
        self.eventDepth += 1
        body()
        self.eventDepth -= 1
        if self.eventDepth == 0 {
            self.link.flush(self)
        }
    }

    // MARK: Live toxic changes

    func add(_ toxic: Toxic) {
        self.performEvent {
            guard !self.finished else { return }
            let previousTail = self.stages.last
            self.stages.append(self.makeStage(for: toxic))
            previousTail?.restart()
        }
    }

    func update(_ toxic: Toxic) {
        self.performEvent {
            self.stages.first(where: { $0.name == toxic.name })?.update(toxic)
        }
    }

    func remove(named name: String) {
        self.performEvent {
            guard let index = self.stages.firstIndex(where: { $0.name == name }) else { return }
            let stage = self.stages.remove(at: index)
            let held = stage.remove()
            // The successor gets what the removed stage held before anything more arrives from the
            // predecessor, which is what keeps the bytes in order.
            for element in held {
                self.deliver(element, toStageAt: index)
            }
            if index > 0 {
                self.stages[index - 1].restart()
            }
            if stage.closesConnectionOnRemoval {
                self.closeConnection()
            }
        }
    }

    /// The destination is gone: stop every timer and drop what is held.
    func shutdown() {
        guard !self.finished else { return }
        self.finished = true
        for stage in self.stages {
            stage.shutdown()
        }
        self.bufferedBytes = 0
    }

    private func deliver(_ element: StreamElement, toStageAt index: Int) {
        if index < self.stages.count {
            self.stages[index].receive(element)
        } else {
            self.bufferedBytes -= element.byteCount
            self.link.sink(element, from: self)
        }
    }
}

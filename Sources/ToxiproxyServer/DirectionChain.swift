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
    /// A stage and the toxic entry (identity and revision, see `ToxicSet`) it runs.
    private struct Slot {
        let id: Int
        var revision: Int
        let stage: any ToxicStage
        /// Whether this connection direction was counted in the toxic's `toxic_connections_total`.
        var counted = false
    }

    private var slots: [Slot] = []
    /// Bytes read from the source that have not yet reached the sink or been dropped.
    private(set) var bufferedBytes = 0
    private var eventDepth = 0
    private var finished = false

    init(direction: StreamDirection, toxics: [ToxicSet.Entry], link: ConnectionLink) {
        self.direction = direction
        self.eventLoop = link.eventLoop
        self.link = link
        self.slots = toxics.map { Slot(id: $0.id, revision: $0.revision, stage: self.makeStage(for: $0.toxic)) }
        self.countActiveToxics(toxics)
    }

    /// Counts, once per toxic, the stages whose toxicity draw made them active (at connection start, and
    /// after each toxic change, which may add a stage or redraw). Never runs per chunk.
    private func countActiveToxics(_ entries: [ToxicSet.Entry]) {
        guard let metrics = self.link.proxyMetrics else { return }
        for index in self.slots.indices where !self.slots[index].counted && self.slots[index].stage.isActive {
            let id = self.slots[index].id
            guard let entry = entries.first(where: { $0.id == id }) else { continue }
            self.slots[index].counted = true
            metrics.toxicActivated(entry.toxic)
        }
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
        guard !self.finished, let index = self.slots.firstIndex(where: { $0.stage === stage }) else { return }
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

    /// Closes the whole connection (both sockets), dropping whatever is held: a toxic cuts it.
    func closeConnection() {
        self.link.cut()
    }

    /// A toxic ends the connection by passing a `.close` on (`limit_data`): counted as a cut.
    func countCut() {
        self.link.countCut()
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

    /// Brings the stages in line with `entries` (this direction's toxics of a newer `ToxicSet`): removes the
    /// stages of entries that are gone, updates those whose revision changed, and appends new ones. Entry
    /// identities increase in creation order and additions always go to the tail, so the stages stay in the
    /// set's order.
    func catchUp(to entries: [ToxicSet.Entry]) {
        self.performEvent {
            guard !self.finished else { return }
            var index = 0
            while index < self.slots.count {
                let slot = self.slots[index]
                guard let entry = entries.first(where: { $0.id == slot.id }) else {
                    self.removeStage(at: index)
                    continue
                }
                if entry.revision != slot.revision {
                    self.slots[index].revision = entry.revision
                    slot.stage.update(entry.toxic)
                }
                index += 1
            }
            let newest = self.slots.last?.id ?? -1
            for entry in entries where entry.id > newest {
                let previousTail = self.slots.last?.stage
                self.slots.append(Slot(id: entry.id, revision: entry.revision, stage: self.makeStage(for: entry.toxic)))
                previousTail?.restart()
            }
            self.countActiveToxics(entries)
        }
    }

    private func removeStage(at index: Int) {
        let stage = self.slots.remove(at: index).stage
        let held = stage.remove()
        // The successor gets what the removed stage held before anything more arrives from the
        // predecessor, which is what keeps the bytes in order.
        for element in held {
            self.deliver(element, toStageAt: index)
        }
        if index > 0 {
            self.slots[index - 1].stage.restart()
        }
        if stage.closesConnectionOnRemoval {
            self.closeConnection()
        }
    }

    /// The destination is gone: stop every timer and drop what is held.
    func shutdown() {
        guard !self.finished else { return }
        self.finished = true
        for slot in self.slots {
            slot.stage.shutdown()
        }
        self.bufferedBytes = 0
    }

    private func deliver(_ element: StreamElement, toStageAt index: Int) {
        if index < self.slots.count {
            self.slots[index].stage.receive(element)
        } else {
            self.bufferedBytes -= element.byteCount
            self.link.sink(element, from: self)
        }
    }
}

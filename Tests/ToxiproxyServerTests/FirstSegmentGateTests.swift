import NIOCore
import Testing

@testable import ToxiproxyServer

/// The first flight to a new upstream: one segment, the rest held in order until `open()`.
struct FirstSegmentGateTests {
    private func chunk(_ text: String) -> StreamElement {
        .chunk(Chunk(bytes: ByteBuffer(string: text), timestamp: .uptimeNanoseconds(0)))
    }

    private func text(_ element: StreamElement) -> String {
        switch element {
        case .chunk(let chunk): String(buffer: chunk.bytes)
        case .end: "<end>"
        case .close: "<close>"
        }
    }

    /// A gate whose upstream has connected.
    private func connectedGate() -> FirstSegmentGate {
        var gate = FirstSegmentGate()
        _ = gate.connected()
        return gate
    }

    @Test func everythingWaitsWhileDiallingAndComesBackInOrderOnConnect() {
        var gate = FirstSegmentGate()
        for element in [self.chunk("GET / HTTP/1.0\r\n\r\n"), .end] {
            guard case .hold = gate.admit(element, segmentSize: 4) else {
                Issue.record("\(self.text(element)) passed while the upstream was still being dialled")
                return
            }
        }
        #expect(gate.heldBytes == 18)
        #expect(gate.connected().map(self.text) == ["GET / HTTP/1.0\r\n\r\n", "<end>"])
        #expect(gate.state == .closed && gate.heldBytes == 0)
        #expect(gate.connected().isEmpty, "a second connect gives back nothing")
    }

    @Test func aChunkWithinOneSegmentIsTheProbeAndWhatFollowsWaits() {
        var gate = self.connectedGate()
        guard case .probe(let probe) = gate.admit(self.chunk("hello"), segmentSize: 8) else {
            Issue.record("the first chunk is not the probe")
            return
        }
        #expect(String(buffer: probe.bytes) == "hello")
        #expect(gate.state == .awaitingAcknowledgement)
        guard case .hold = gate.admit(self.chunk("world"), segmentSize: 8),
            case .hold = gate.admit(.end, segmentSize: 8)
        else {
            Issue.record("data after the probe passed before the acknowledgement")
            return
        }
        #expect(gate.heldBytes == 5)
        #expect(gate.open().map(self.text) == ["world", "<end>"])
        #expect(gate.state == .open && gate.heldBytes == 0)
        guard case .pass(let element) = gate.admit(self.chunk("later"), segmentSize: 8) else {
            Issue.record("an open gate held data")
            return
        }
        #expect(self.text(element) == "later")
    }

    @Test func aChunkLargerThanOneSegmentIsSplitAtTheSegmentSize() {
        var gate = self.connectedGate()
        guard case .probe(let probe) = gate.admit(self.chunk("0123456789"), segmentSize: 4) else {
            Issue.record("the first chunk is not the probe")
            return
        }
        #expect(String(buffer: probe.bytes) == "0123")
        #expect(gate.heldBytes == 6)
        #expect(gate.open().map(self.text) == ["456789"])
    }

    @Test func anEndBeforeAnyDataPassesAndOpeningFirstLetsEverythingThrough() {
        var gate = self.connectedGate()
        guard case .pass(.end) = gate.admit(.end, segmentSize: 4) else {
            Issue.record("an end with nothing before it was held")
            return
        }
        var opened = self.connectedGate()
        #expect(opened.open().isEmpty)
        guard case .pass = opened.admit(self.chunk("0123456789"), segmentSize: 4) else {
            Issue.record("a gate opened by the upstream's own bytes held data")
            return
        }
    }
}

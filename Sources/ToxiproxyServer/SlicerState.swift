import NIOCore

/// The slicer toxic's split: a segment whose length minus `averageSize` is at most `sizeVariation` stays
/// whole; a longer one is cut near its middle, moved by a random amount in `[-variation, variation-1]`, and
/// both halves are split again. Unlike the reference, a cut always leaves both halves non-empty, so a large
/// variation cannot produce the negative slices that crash it.
enum SlicerState {
    /// The lengths of the pieces of a `length`-byte chunk, in order; they add up to `length`.
    static func pieces<Generator: RandomNumberGenerator>(
        length: Int,
        averageSize: Int64,
        sizeVariation: Int64,
        using generator: inout Generator
    ) -> [Int] {
        var pieces: [Int] = []
        // An explicit stack instead of recursion: chunks are up to 64 KiB, and the validation that keeps
        // averageSize + sizeVariation >= 1 guarantees termination, not a shallow depth.
        var pending = [length]
        while let segment = pending.popLast() {
            if Int64(segment) - averageSize <= sizeVariation || segment <= 1 {
                pieces.append(segment)
                continue
            }
            var middle = segment / 2
            if sizeVariation > 0 {
                let shift = Int64.random(in: -sizeVariation..<sizeVariation, using: &generator)
                middle = Int(max(1, min(Int64(segment - 1), Int64(middle) + shift)))
            }
            pending.append(segment - middle)
            pending.append(middle)
        }
        return pieces
    }
}

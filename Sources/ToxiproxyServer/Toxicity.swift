/// Toxicity is a probability decided once per stage start (per connection and direction), not per chunk.
enum Toxicity {
    /// Whether a toxic with this toxicity runs for the stage being (re)started.
    static func draw<Generator: RandomNumberGenerator>(_ toxicity: Float, using generator: inout Generator) -> Bool {
        if toxicity >= 1 { return true }
        if toxicity <= 0 || toxicity.isNaN { return false }
        return Float.random(in: 0..<1, using: &generator) < toxicity
    }

    static func draw(_ toxicity: Float) -> Bool {
        var generator = SystemRandomNumberGenerator()
        return Self.draw(toxicity, using: &generator)
    }
}

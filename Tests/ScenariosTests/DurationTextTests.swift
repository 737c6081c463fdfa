import Scenarios
import Testing

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("150ms", Duration.milliseconds(150)),
        ("15s", .seconds(15)),
        ("1m30s", .seconds(90)),
        ("2h", .seconds(7200)),
        ("1.5s", .milliseconds(1500)),
        ("0.5ms", .microseconds(500)),
        (".5s", .milliseconds(500)),
        ("1h2m3.004s", .milliseconds(3_723_004)),
        ("0", .zero),
        ("0s", .zero),
        ("10m", .seconds(600)),
    ])
    func parses(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "-1s", "+1s", "1", "5x", "1.5", "ms", "s", "1s2", "1 s", "1S", "1us", "1ns", ".s", "1d"])
    func rejects(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func rejectsOverflow() {
        #expect(DurationText.parse("9999999999999999h") == nil)
        #expect(DurationText.parse("99999999999999999999ms") == nil)
    }

    @Test(arguments: [
        (Duration.milliseconds(150), "150ms"),
        (.seconds(15), "15s"),
        (.seconds(90), "1m30s"),
        (.seconds(7200), "2h"),
        (.milliseconds(1500), "1.5s"),
        (.seconds(3630), "1h30s"),
        (.microseconds(1500), "1.5ms"),
        (.zero, "0s"),
        (.milliseconds(90_500), "1m30.5s"),
        (.nanoseconds(1), "0.000001ms"),
    ])
    func formats(duration: Duration, expected: String) {
        #expect(DurationText.format(duration) == expected)
    }

    @Test func formatThenParseIsExact() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let nanoseconds = Int64.random(in: 0...(48 * 3_600_000_000_000), using: &generator)
            let duration = Duration.nanoseconds(nanoseconds)
            #expect(DurationText.parse(DurationText.format(duration)) == duration)
        }
    }

    @Test func milliseconds() {
        #expect(DurationText.milliseconds(.microseconds(1500)) == 1.5)
    }
}

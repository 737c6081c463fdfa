import Testing
import ToxiproxyModel

@Suite struct JSONParserFuzzTests {
    private static let corpus: [String] = [
        #"{"name":"p1","listen":"127.0.0.1:0","upstream":"localhost:6379","enabled":true}"#,
        #"[{"name":"a","upstream":"b"},{"name":"c","upstream":"d","enabled":false,"toxics":[]}]"#,
        #"{"type":"latency","stream":"UpStream","toxicity":1e-1,"attributes":{"latency":100,"jitter":-5}}"#,
        #"{"s":"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \udead","n":[0,-0.5,1E+9,12e-3,null,true,false]}"#,
        #"  [[[[{"deep":[[{}]]}]]]] trailing"#,
        "\"caf\u{E9} \u{1F600}\"",
        "-12.5e+3",
        "null",
    ]

    private static let alphabet =
        Array(#"{}[]":,0123456789.eE+-tfrueasnl\ u"#.utf8) + [0x09, 0x0A, 0x00, 0xC3, 0xA9, 0xFF]

    /// Every input must either parse or fail with one of Go's three kinds of message; nothing may trap.
    @Test func randomTruncatedAndMutatedInputsNeverCrash() {
        var random = SplitMix64(seed: 0x5EED_7031_C0FF_EE00)
        var parsed = 0
        var failed = 0
        for iteration in 0..<20_000 {
            let bytes: [UInt8]
            let truncatedValidDocument: Bool
            switch iteration % 4 {
            case 0:
                bytes = (0..<Int.random(in: 0...64, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
                truncatedValidDocument = false
            case 1:
                let length = Int.random(in: 0...96, using: &random)
                bytes = (0..<length).map { _ in Self.alphabet.randomElement(using: &random)! }
                truncatedValidDocument = false
            case 2:
                let document = Array(Self.corpus.randomElement(using: &random)!.utf8)
                bytes = Array(document.prefix(Int.random(in: 0...document.count, using: &random)))
                truncatedValidDocument = true
            default:
                bytes = Self.mutate(Array(Self.corpus.randomElement(using: &random)!.utf8), using: &random)
                truncatedValidDocument = false
            }

            do {
                _ = try JSONParser.parseFirstValue(bytes)
                parsed += 1
            } catch {
                failed += 1
                let message = error.message
                let known =
                    message == "EOF" || message == "unexpected EOF" || message.hasPrefix("invalid character ")
                #expect(known, "unexpected message \(message) for \(bytes)")
                if message == "EOF" {
                    #expect(bytes.allSatisfy { [0x20, 0x09, 0x0A, 0x0D].contains($0) })
                }
                // A prefix of valid JSON can only be incomplete, never contain an invalid character.
                if truncatedValidDocument {
                    #expect(!message.hasPrefix("invalid character"), "\(message) for \(bytes)")
                }
            }
        }
        #expect(parsed > 1_000)
        #expect(failed > 1_000)
    }

    @Test func everyCorpusDocumentParses() throws {
        for document in Self.corpus {
            _ = try json(document)
        }
    }

    private static func mutate(_ document: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = document
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let byte =
                Bool.random(using: &random)
                ? alphabet.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            let index = Int.random(in: 0...bytes.count, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where index < bytes.count: bytes[index] = byte
            case 1 where index < bytes.count: bytes.remove(at: index)
            default: bytes.insert(byte, at: index)
            }
        }
        return bytes
    }
}

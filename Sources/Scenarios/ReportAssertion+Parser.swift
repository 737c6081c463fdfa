// The assertion language: tokens with their column, then a recursive descent over
// `comparison (("and" | "&&") comparison)*`. Errors are `.invalidAssertion` on field `assert`, and the reason
// starts with the 1-based column of the offending token.

extension ReportAssertion {
    struct Token: Equatable {
        enum Kind: Equatable {
            /// A name or keyword: letters, digits, `_`, starting with a letter or `_`.
            case word
            /// A number or duration: starting with a digit, `.` or `-`, then digits, `.` and unit letters.
            case value
            /// `<`, `<=`, `>`, `>=`, `==`, `!=`, `&&`, `(`, `)` — and any other symbol, to be reported.
            case symbol
            case end
        }

        var kind: Kind
        var text: String
        /// 1-based, in characters.
        var column: Int

        var shown: String { self.kind == .end ? "the end" : "\"\(self.text)\"" }
    }

    struct Parser {
        private var tokens: [Token]
        private var position = 0

        init(_ text: String) {
            self.tokens = Self.tokenize(text)
        }

        private static let symbols = ["<=", ">=", "==", "!=", "&&", "<", ">", "(", ")"]

        static func tokenize(_ text: String) -> [Token] {
            let characters = Array(text)
            var tokens: [Token] = []
            var index = 0
            func isWordStart(_ c: Character) -> Bool { c == "_" || (c.isLetter && c.isASCII) }
            func isWordPart(_ c: Character) -> Bool { isWordStart(c) || (c.isASCII && c.isNumber) }
            func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
            func isValuePart(_ c: Character) -> Bool { isDigit(c) || c == "." || c == "µ" || (c.isASCII && c.isLetter) }
            while index < characters.count {
                let character = characters[index]
                let start = index
                if character.isWhitespace {
                    index += 1
                    continue
                }
                let kind: Token.Kind
                if isWordStart(character) {
                    while index < characters.count && isWordPart(characters[index]) { index += 1 }
                    kind = .word
                } else if isDigit(character) || character == "."
                    || (character == "-" && index + 1 < characters.count
                        && (isDigit(characters[index + 1]) || characters[index + 1] == "."))
                {
                    index += 1
                    while index < characters.count && isValuePart(characters[index]) { index += 1 }
                    kind = .value
                } else if let symbol = Self.symbols.first(where: { characters[index...].starts(with: $0) }) {
                    index += symbol.count
                    kind = .symbol
                } else {
                    // A run of other symbols, so `=<` or `=` is reported whole.
                    index += 1
                    while index < characters.count && "=<>!&|".contains(characters[index]) { index += 1 }
                    kind = .symbol
                }
                tokens.append(Token(kind: kind, text: String(characters[start..<index]), column: start + 1))
            }
            tokens.append(Token(kind: .end, text: "", column: characters.count + 1))
            return tokens
        }

        private var current: Token { self.tokens[self.position] }

        private mutating func advance() -> Token {
            let token = self.tokens[self.position]
            if token.kind != .end { self.position += 1 }
            return token
        }

        private static func error(_ token: Token, _ reason: String) -> ScenarioError {
            ScenarioError(code: .invalidAssertion, field: "assert", reason: "column \(token.column): \(reason)")
        }

        private static let nameList = Name.allCases.map(\.rawValue).joined(separator: ", ")
        private static let operatorList = Operator.allCases.map(\.rawValue).joined(separator: ", ")

        mutating func parseAssertion() throws(ScenarioError) -> [Comparison] {
            var comparisons = [try self.parseComparison()]
            while true {
                let token = self.current
                if token.kind == .end { return comparisons }
                guard (token.kind == .word && token.text == "and") || (token.kind == .symbol && token.text == "&&")
                else {
                    throw Self.error(token, "expected \"and\", \"&&\" or the end, got \(token.shown)")
                }
                _ = self.advance()
                comparisons.append(try self.parseComparison())
            }
        }

        private mutating func parseComparison() throws(ScenarioError) -> Comparison {
            let figure = try self.parseFigure()
            let opToken = self.advance()
            guard opToken.kind == .symbol, let op = Operator(rawValue: opToken.text) else {
                throw Self.error(opToken, "expected an operator (\(Self.operatorList)), got \(opToken.shown)")
            }
            let bound = try self.parseValue(for: figure)
            return Comparison(figure: figure, op: op, bound: bound)
        }

        private mutating func parseFigure() throws(ScenarioError) -> Figure {
            let token = self.advance()
            guard token.kind == .word else {
                throw Self.error(token, "expected a figure (\(Self.nameList)), got \(token.shown)")
            }
            if let name = Name(rawValue: token.text) {
                return Figure(name: name, aggregate: name.defaultAggregate)
            }
            guard let aggregate = Aggregate(rawValue: token.text) else {
                throw Self.error(
                    token,
                    "unknown figure \(token.shown); expected one of \(Self.nameList), or max, min, mean, sum or "
                        + "count of one"
                )
            }
            let open = self.advance()
            guard open.kind == .symbol && open.text == "(" else {
                throw Self.error(open, "expected \"(\" after \(aggregate.rawValue), got \(open.shown)")
            }
            let nameToken = self.advance()
            guard nameToken.kind == .word, let name = Name(rawValue: nameToken.text) else {
                throw Self.error(nameToken, "expected a figure (\(Self.nameList)), got \(nameToken.shown)")
            }
            guard name.defaultAggregate != nil else {
                throw Self.error(
                    nameToken,
                    "\(name.rawValue) is a single number for the whole report; write it without "
                        + "\(aggregate.rawValue)(...)"
                )
            }
            let close = self.advance()
            guard close.kind == .symbol && close.text == ")" else {
                throw Self.error(
                    close,
                    "expected \")\" after \(aggregate.rawValue)(\(name.rawValue), got \(close.shown)"
                )
            }
            return Figure(name: name, aggregate: aggregate)
        }

        /// A plain number, or for duration figures a duration (`250ms`, `1m30s`; a plain number is ms).
        private mutating func parseValue(for figure: Figure) throws(ScenarioError) -> Double {
            let token = self.advance()
            guard token.kind == .value else {
                let expected = figure.isDuration ? "a duration (250ms, 30s) or a number of ms" : "a number"
                throw Self.error(token, "expected \(expected) after the operator, got \(token.shown)")
            }
            if let number = Self.plainNumber(token.text) { return number }
            let hasUnit = token.text.contains { $0.isLetter }
            guard hasUnit, token.text.first?.isNumber == true || token.text.first == "." else {
                throw Self.error(token, "expected a number, got \(token.shown)")
            }
            guard figure.isDuration else {
                let what: String
                switch (figure.aggregate, figure.name) {
                case (.count, _): what = "\(figure.label) counts values"
                case (_, .attemptsPerSecond): what = "\(figure.label) is a rate"
                default: what = "\(figure.label) is a count"
                }
                throw Self.error(token, "\(what), not a duration: write a plain number, got \(token.shown)")
            }
            switch DurationText.parse(token.text, units: .all) {
            case .success(let duration): return DurationText.milliseconds(duration)
            case .failure(let reason): throw Self.error(token, "\(reason) in \(token.shown)")
            }
        }

        /// `12`, `-3`, `0.5`, `.5`: digits with at most one point (no exponent, no `inf`, no hex).
        static func plainNumber(_ text: String) -> Double? {
            var body = Substring(text)
            if body.first == "-" { body = body.dropFirst() }
            guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                body.filter({ $0 == "." }).count <= 1, body != "."
            else { return nil }
            return Double(text.hasPrefix("-.") ? "-0" + text.dropFirst() : text.hasPrefix(".") ? "0" + text : text)
        }
    }
}

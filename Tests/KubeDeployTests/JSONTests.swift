import KubeDeploy
import Testing

@Suite struct JSONTests {
    @Test func rendersCompactJSONWithSortedKeysAndEscapes() {
        let value: JSON = ["b": [1, true, .null], "a": "say \"hi\"\n", "c": .double(1.5)]
        #expect(value.jsonText == #"{"a":"say \"hi\"\n","b":[1,true,null],"c":1.5}"#)
    }

    @Test func parsesKubectlOutput() throws {
        let value = try JSON(parsing: #"{"metadata":{"name":"x","generation":3},"items":[],"ok":false}"#)
        #expect(value[["metadata", "name"]]?.stringValue == "x")
        #expect(value[["metadata", "generation"]]?.intValue == 3)
        #expect(value["items"] == [])
        #expect(value["ok"] == false)
        #expect(try JSON(parsing: value.jsonText) == value)
    }

    @Test func rendersBlockYAMLAndQuotesWhatYAMLWouldMisread() {
        let value: JSON = [
            "kind": "Service",
            "metadata": ["labels": ["app.kubernetes.io/name": "toxiproxy"], "annotations": [:]],
            "spec": [
                "ports": [["port": 443, "protocol": "TCP"], ["port": 8474]],
                "args": ["-host=0.0.0.0", "yes", "10m", "plain", ""],
                "empty": [],
                "nested": [[1, 2]],
            ],
        ]
        let expected = """
            kind: Service
            metadata:
              annotations: {}
              labels:
                app.kubernetes.io/name: toxiproxy
            spec:
              args:
                - "-host=0.0.0.0"
                - "yes"
                - "10m"
                - plain
                - ""
              empty: []
              nested:
                -
                  - 1
                  - 2
              ports:
                - port: 443
                  protocol: TCP
                - port: 8474

            """
        #expect(value.yamlText == expected)
        #expect(JSON.yamlStream([["a": 1], ["b": 2]]) == "---\na: 1\n---\nb: 2\n")
    }
}

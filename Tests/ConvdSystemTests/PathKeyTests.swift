// PathKey and DisplayText: every byte string has one key, the key gives the bytes back, and
// nothing a terminal or a line protocol acts on survives escaping.
import ConvdSystem
import ConvdTestSupport
import Testing

@Suite("Path keys and display text")
struct PathKeyTests {
    @Test("keys of ordinary, hostile and invalid names", arguments: [
        (Array("photo.png".utf8), "photo.png"),
        (Array("a/b/c.png".utf8), "a/b/c.png"),
        (Array("caf\u{e9}.png".utf8), "caf\u{e9}.png"),
        (Array("\u{301}v.png".utf8), "\u{301}v.png"),
        (Array("x\nWATCHDOG=trigger\n.png".utf8), "x\\nWATCHDOG=trigger\\n.png"),
        (Array("\u{1b}]0;owned\u{7}.png".utf8), "\\x1b]0;owned\\x07.png"),
        (Array("back\\slash".utf8), "back\\\\slash"),
        ([0x62, 0x61, 0x64, 0xFF, 0x2E, 0x70, 0x6E, 0x67], "bad\\xff.png"),
        ([0xC3, 0x28], "\\xc3("),
        (Array("rtl\u{202e}gnp.exe".utf8), "rtl\\u{202e}gnp.exe"),
        (Array("c1\u{9b}31m".utf8), "c1\\u{9b}31m"),
    ] as [([UInt8], String)])
    func keys(bytes: [UInt8], key: String) {
        #expect(PathKey.key(bytes) == key)
        #expect(PathKey.bytes(of: key) == bytes)
        #expect(DisplayText.escaped(key) == key, "a key is already safe to show")
    }

    @Test("random byte strings round-trip, and distinct names get distinct keys")
    func roundTrip() {
        var generator = SeededGenerator(seed: 77)
        var seen: [String: [UInt8]] = [:]
        for _ in 0..<5000 {
            let count = Int.random(in: 1...12, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 1...255, using: &generator) }
            let key = PathKey.key(bytes)
            #expect(PathKey.bytes(of: key) == bytes)
            #expect(!key.unicodeScalars.contains(where: DisplayText.needsEscape))
            if let other = seen[key] { #expect(other == bytes) }
            seen[key] = bytes
        }
    }

    @Test("text that no key has is refused")
    func badKeys() {
        #expect(PathKey.bytes(of: "a\\") == nil)
        #expect(PathKey.bytes(of: "a\\q") == nil)
        #expect(PathKey.bytes(of: "a\\xZZ") == nil)
    }

    @Test("display text: control characters, DEL, C1 and bidi overrides escaped; the rest kept")
    func display() {
        #expect(DisplayText.escaped("plain text, café") == "plain text, café")
        #expect(DisplayText.escaped("a\nb\rc\td") == "a\\nb\\rc\\td")
        #expect(DisplayText.escaped("\u{1b}[31mred\u{7f}") == "\\x1b[31mred\\x7f")
        #expect(DisplayText.escaped("x\u{85}y\u{2028}z\u{202e}") == "x\\u{85}y\\u{2028}z\\u{202e}")
        #expect(DisplayText.escaped(String(repeating: "M", count: 300), limit: 10) == "MMMMMMMMM…")
    }
}

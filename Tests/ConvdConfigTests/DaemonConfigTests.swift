// DaemonConfig parsing: defaults, relative paths, every issue collected with its key path.
import ConvdConfig
import ConvdImage
import ConvdSystem
import Testing

@Suite("Daemon config")
struct DaemonConfigTests {
    static let minimal = """
        [chains]
        edges = "gray | sobel-x"

        [[watch]]
        name = "w"
        input = "in"
        output = "/data/out"
        chain = "edges"
        """

    @Test("defaults are filled in and relative paths resolve against the file's folder")
    func defaults() throws {
        let c = try DaemonConfig.parse(Self.minimal, file: "/etc/convd/convd.toml")
        #expect(c.daemon.stateDir == "/var/lib/convd")
        #expect(c.daemon.statusFile == "/var/lib/convd/status.json")
        #expect(c.daemon.classificationLog == "/var/log/convd/classifications.jsonl")
        #expect(c.daemon.logFormat == .text)
        #expect(c.daemon.maxFileBytes == 67_108_864 && c.daemon.maxPixels == 50_000_000)
        #expect(c.daemon.rescanInterval == 600 && c.daemon.stopTimeout == 30)
        #expect(c.daemon.workers == onlineCoreCount)
        #expect(c.daemon.sync == .filesystem)
        #expect(try DaemonConfig.parse("[daemon]\nsync = \"file\"\n\n" + Self.minimal,
                                       file: "/c.toml").daemon.sync == .file)
        let w = try #require(c.watches.first)
        #expect(w.input == "/etc/convd/in")
        #expect(w.output == "/data/out")
        #expect(w.recursive && w.pattern == "*.png" && w.after == .keep && w.settleMs == 500)
        #expect(w.mode == .auto && w.pollInterval == 5 && !w.followSymlinks && w.pngCompression == 1)
        #expect(w.formats == [.png, .montage])
        #expect(c.chain(named: "edges")?.text == "gray | sobel-x")
    }

    @Test("all issues are reported at once, in order, with key paths")
    func manyIssues() {
        let text = """
            [daemon]
            workers = 0
            log_format = "xml"
            colour = true
            sync = "never"

            [[watch]]
            name = "bad name"
            input = "/in"
            chain = "missing"
            recursive = "yes"
            """
        #expect(throws: ConfigError.self) { try DaemonConfig.parse(text, file: "/c.toml") }
        do {
            _ = try DaemonConfig.parse(text, file: "/c.toml")
        } catch {
            let lines = error.issues.map(\.description)
            #expect(lines.contains("daemon.workers: 0 is out of range (1...256)"), "\(lines)")
            #expect(lines.contains("daemon.log_format: \"xml\" is not one of text, json"))
            #expect(lines.contains("daemon.sync: \"never\" is not one of filesystem, file"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("daemon.colour: unknown key (keys here: ") && $0.contains("workers") })
            #expect(lines.contains("watch[1].recursive: expected true or false, found string"))
            #expect(lines.contains("watch[1]: missing output"))
            #expect(error.description.hasPrefix("/c.toml: "))
        }
    }

    @Test("syntax errors give line and column")
    func syntax() {
        do {
            _ = try DaemonConfig.parse("[daemon]\nworkers = = 2\n", file: "/c.toml")
            Issue.record("accepted bad TOML")
        } catch {
            #expect(error.issues.first?.location == "line 2, column 11", "\(error)")
        }
    }

    @Test("path text: normalisation and containment")
    func paths() {
        #expect(PathText.normalise("/a/./b//c/../d/") == "/a/b/d")
        #expect(PathText.absolute("../x", base: "/srv/convd") == "/srv/x")
        #expect(PathText.isWithin("/srv/in/out", "/srv/in"))
        #expect(!PathText.isWithin("/srv/input", "/srv/in"))
        #expect(PathText.folder(of: "/a/b.toml") == "/a")
    }
}

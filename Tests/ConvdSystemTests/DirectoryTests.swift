// Directory: operations relative to an open folder never pass through a symlink, never block
// on a FIFO, and write atomically under exclusive temporary names.
import ConvdSystem
import ConvdTestSupport
import Foundation
import Testing

@Suite("Directory")
struct DirectoryTests {
    @Test("a symlinked folder or file on the way is refused; the real ones open")
    func noSymlinks() throws {
        let dir = TemporaryDirectory()
        for folder in ["root/real", "outside"] {
            try FileManager.default.createDirectory(atPath: dir.file(folder), withIntermediateDirectories: true)
        }
        try dir.write("root/real/a.png", [1, 2, 3])
        try dir.write("outside/secret.png", [9, 9])
        #expect(symlink(dir.file("outside"), dir.file("root/link")) == 0)
        #expect(symlink(dir.file("outside/secret.png"), dir.file("root/real/s.png")) == 0)
        let root = try Directory.open(dir.file("root"))
        #expect(try root.subfolder(Array("real".utf8)).openFile(Array("a.png".utf8)).readAll() == [1, 2, 3])
        #expect(throws: SystemError(path: dir.file("root/link"),
                                    reason: "not a folder (a symlink or file is in the way); refusing to go through it")) {
            try root.subfolder(Array("link".utf8))
        }
        #expect(throws: SystemError(path: dir.file("root/real/s.png"), reason:
            "is a symbolic link; links are not followed unless the watch sets follow_symlinks = true")) {
            _ = try root.subfolder(Array("real".utf8)).openFile(Array("s.png".utf8))
        }
        #expect(try root.subfolder(Array("real".utf8)).openFile(Array("s.png".utf8), follow: true).readAll() == [9, 9])
        #expect(throws: SystemError.self) { try root.subfolder(Array("..".utf8)) }
    }

    @Test("a FIFO, even through a followed symlink, is refused without blocking")
    func fifo() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("root"), withIntermediateDirectories: true)
        #expect(mkfifo(dir.file("root/pipe"), 0o644) == 0)
        #expect(symlink(dir.file("root/pipe"), dir.file("root/link.png")) == 0)
        let root = try Directory.open(dir.file("root"))
        #expect(throws: SystemError(path: dir.file("root/link.png"), reason: "not a regular file (a FIFO)")) {
            _ = try root.openFile(Array("link.png".utf8), follow: true)
        }
    }

    @Test("writes are atomic and never open a planted name; temporaries are gone afterwards")
    func write() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("out"), withIntermediateDirectories: true)
        try dir.write("out/victim", [7])
        #expect(symlink(dir.file("out/victim"), dir.file("out/.x.png.convd-tmp-\(getpid())")) == 0)
        let out = try Directory.open(dir.file("out"))
        try out.write([1, 2], to: Array("x.png".utf8))
        #expect(try FileIO.readAll(dir.file("out/x.png")) == [1, 2])
        #expect(try FileIO.readAll(dir.file("out/victim")) == [7])
        #expect(!(try dir.listing("out")).contains { $0.hasPrefix(".convd-tmp-") })
        let long = [UInt8](repeating: 0x4C, count: 256)
        #expect(throws: SystemError("cannot create", path: dir.file("out/") + String(repeating: "L", count: 256),
                                    code: ENAMETOOLONG)) { try out.write([1], to: long) }
        #expect((try? out.write([1], to: long)) == nil)
        #expect(!(try dir.listing("out")).contains { $0.hasPrefix(".convd-tmp-") })
    }

    @Test("a staged file has no final name until it is committed or published; discarded, nothing is left")
    func staged() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("out"), withIntermediateDirectories: true)
        let out = try Directory.open(dir.file("out"))
        let a = try StagedFile([1, 2, 3], as: Array("a.json".utf8), in: out)
        let b = try StagedFile([4], as: Array("b.json".utf8), in: out)
        let c = try StagedFile([5], as: Array("c.json".utf8), in: out)
        #expect(try dir.listing("out").filter { !$0.hasPrefix(".convd-tmp-") }.isEmpty)
        #expect(try dir.listing("out").count == 3)
        a.startWriteback()
        try a.commit()
        try b.publish()
        try StagedFile.syncFileSystems([out, out])
        c.discard()
        #expect(try dir.listing("out").sorted() == ["a.json", "b.json"])
        #expect(try FileIO.readAll(dir.file("out/a.json")) == [1, 2, 3])
        #expect(try FileIO.readAll(dir.file("out/b.json")) == [4])
        #expect(throws: SystemError.self) { try a.commit() }
        #expect(throws: SystemError.self) { try c.publish() }
        // Dropped without a commit (a job abandoned mid-batch): the temporary file goes too.
        do { _ = try StagedFile([6], as: Array("d.json".utf8), in: out) }
        #expect(try dir.listing("out").sorted() == ["a.json", "b.json"])
    }

    @Test("non-UTF-8 names are listed, opened, moved and deleted as bytes")
    func bytesNames() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("a"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.file("b"), withIntermediateDirectories: true)
        let a = try Directory.open(dir.file("a")), b = try Directory.open(dir.file("b"))
        let name: [UInt8] = [0x62, 0xFF, 0x2E, 0x70, 0x6E, 0x67]
        try a.write([5], to: name)
        #expect(a.entries() == [Directory.Entry(name: name, kind: .file)])
        try a.move(name, to: b, as: name, limit: 10)
        #expect(a.entries() == [])
        #expect(try b.openFile(name).readAll() == [5])
        try b.unlink(name)
        #expect(b.entries() == [])
    }

    @Test("typed errors carry the policy: name problems are permanent, a full disk is transient")
    func policy() {
        #expect(SystemError("cannot create", path: "x", code: ENAMETOOLONG).policy == .permanent)
        #expect(SystemError("cannot open", path: "x", code: ELOOP).policy == .permanent)
        #expect(SystemError("write failed", path: "x", code: ENOSPC).policy == .transient)
        #expect(SystemError("cannot open", path: "x", code: EMFILE).policy == .transient)
        #expect(SystemError("read failed", path: "x", code: EIO).policy == .transient)
        #expect(SystemError(path: "x", reason: "not a regular file (a FIFO)").policy == .permanent)
    }
}

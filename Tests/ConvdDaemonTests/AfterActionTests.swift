// After-actions touch only the version that was processed: on one host its inode; in a
// fleet, where another host listed the file and its inode number means nothing here, its
// size and mtime. A newer version renamed over the name in between stays in place.
@testable import ConvdDaemon
import ConvdSystem
import ConvdTestSupport
import Foundation
import Testing

@Suite("After-actions")
struct AfterActionTests {
    private func version(_ path: String) throws -> FileVersion {
        var info = stat()
        #expect(lstat(path, &info) == 0)
        return FileVersion(stat: info)
    }

    @Test("a file replaced since it was processed is neither moved nor deleted; the processed one is")
    func onlyTheProcessedVersion() throws {
        let dir = TemporaryDirectory()
        for folder in ["in", "failed"] { try FileManager.default.createDirectory(atPath: dir.file(folder),
                                                                                withIntermediateDirectories: true) }
        let path = try #require(RelativePath(key: "a.png"))
        try dir.write("in/a.png", [1, 2, 3])
        let processed = try version(dir.file("in/a.png"))
        // A newer version renamed over it: another size, another inode.
        try dir.write("staging.png", [1, 2, 3, 4])
        #expect(rename(dir.file("staging.png"), dir.file("in/a.png")) == 0)
        let newer = try version(dir.file("in/a.png"))
        for expected in [OutputTree.Expected.inode(processed.inode), .sizeAndMtime(processed)] {
            #expect(throws: SystemError.self) {
                try OutputTree.move(path, from: dir.file("in"), expected: expected, toRoot: dir.file("failed"), limit: 1 << 20)
            }
            try OutputTree.delete(path, from: dir.file("in"), expected: expected)
            #expect(FileManager.default.contents(atPath: dir.file("in/a.png")) == Data([1, 2, 3, 4]))
        }
        // Another host's inode number: size and mtime decide.
        var elsewhere = newer
        elsewhere.inode = newer.inode + 1
        try OutputTree.move(path, from: dir.file("in"), expected: .sizeAndMtime(elsewhere), toRoot: dir.file("failed"),
                            limit: 1 << 20)
        #expect(FileManager.default.contents(atPath: dir.file("failed/a.png")) == Data([1, 2, 3, 4]))
        #expect(!FileManager.default.fileExists(atPath: dir.file("in/a.png")))
    }
}

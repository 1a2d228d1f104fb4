// FileSystemKind: whether inotify can see changes on a file system. Network file systems and
// FUSE deliver no events for changes made elsewhere, so `mode = auto` polls them.
import CInotifyTools
#if canImport(Glibc)
import Glibc
#endif

/// The file system under a path, as far as watching goes.
public enum FileSystemKind {
    /// statfs magic numbers of file systems without (reliable) inotify events.
    static let unwatchable: [Int: String] = [
        0x6969: "NFS", 0x517B: "SMB", 0xFF53_4D42: "CIFS", 0xFE53_4D42: "SMB2",
        0x6573_5546: "FUSE", 0x0102_1997: "9p", 0x0BD0_0BD0: "Lustre", 0x00C3_6400: "Ceph",
    ]

    /// The name of the network or FUSE file system under `path`, or nil when inotify works there.
    public static func pollingReason(for path: String) -> String? {
        var info = statfs()
        guard statfs(path, &info) == 0 else { return nil }
        return unwatchable[Int(UInt32(truncatingIfNeeded: info.f_type))]
    }
}

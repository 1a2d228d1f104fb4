// PostgresServer: a real PostgreSQL for the tests, from Debian's `postgresql` package — initdb
// into a temporary folder and `pg_ctl start` on a Unix socket in it (no TCP port), run as the
// `postgres` user when the tests run as root (PostgreSQL refuses root). One server per test
// process, started on first use and stopped when the process exits; one database per test.
import Foundation
import Synchronization

public final class PostgresServer: @unchecked Sendable {
    /// The folder holding the cluster (`data/`) and the socket.
    public let folder: String
    private let binaries: String
    private let asPostgres: Bool
    private let lock = NSLock()
    private var databases = 0

    /// The server of this test process, started on first use.
    public static let shared: PostgresServer = {
        do {
            return try PostgresServer()
        } catch {
            fatalError("cannot start a PostgreSQL server for the tests: \(error)")
        }
    }()

    /// A server of its own (for a test that stops and restarts it), stopped at exit too.
    public init() throws {
        guard let bin = Self.binaryFolder() else {
            throw TestFailure("no PostgreSQL server binaries under /usr/lib/postgresql (scripts/bootstrap installs "
                              + "the postgresql package)")
        }
        binaries = bin
        asPostgres = getuid() == 0
        var template = Array("/tmp/convd-pg-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw TestFailure("mkdtemp failed")
        }
        folder = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        if asPostgres {
            try Self.run(["/bin/chown", "postgres:postgres", folder])
        }
        // The socket must be reachable from a test's user namespace too (mapped root is not
        // the owner there).
        chmod(folder, 0o755)
        try runServerTool("initdb", ["-D", folder + "/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        try start()
        let stop: @Sendable () -> Void = { [folder, binaries, asPostgres] in
            _ = try? Self.run((asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : [])
                              + [binaries + "/pg_ctl", "-D", folder + "/data", "stop", "-m", "immediate", "-w"])
            _ = try? FileManager.default.removeItem(atPath: folder)
        }
        Self.atExit.withLock { list in
            if list.isEmpty { atexit { PostgresServer.atExit.withLock { $0 }.forEach { $0() } } }
            list.append(stop)
        }
    }

    /// What stops each server when the test process exits.
    private static let atExit = Mutex<[@Sendable () -> Void]>([])

    /// Starts the server (again, after `stop`). fsync is off (the tests' machine does not lose
    /// power); commits stay synchronous, so a server crash loses no committed transaction.
    public func start() throws {
        try runServerTool("pg_ctl", ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "-o",
                                     "-c listen_addresses='' -k \(folder) -c fsync=off -c full_page_writes=off "
                                     + "-c max_connections=200", "start"])
    }

    /// Stops the server at once, as a crash would (`-m immediate`).
    public func stop() throws {
        try runServerTool("pg_ctl", ["-D", folder + "/data", "stop", "-m", "immediate", "-w"])
    }

    /// A new, empty database; its libpq URI.
    public func createDatabase() throws -> String {
        let name: String = lock.withLock {
            databases += 1
            return "convd_test_\(getpid())_\(databases)"
        }
        try psql("postgres", "CREATE DATABASE \(name)")
        return uri(name)
    }

    /// The URI of database `name` over the server's socket.
    public func uri(_ name: String) -> String { "postgresql:///\(name)?host=\(folder)&user=postgres" }

    /// Runs `sql` with psql in `database` (a name, or a URI from `createDatabase`); its output
    /// (unaligned, tuples only).
    @discardableResult
    public func psql(_ database: String, _ sql: String) throws -> String {
        try Self.run([binaries + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", folder, "-U", "postgres",
                      "-d", database, "-c", sql])
    }

    private func runServerTool(_ tool: String, _ arguments: [String]) throws {
        try Self.run((asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [binaries + "/" + tool] + arguments)
    }

    /// Runs a command; its output, or an error with it. posix_spawn and waitpid, not Process
    /// (whose reaping stalled inside the lazy `shared` initialiser), and the output goes to a
    /// file, not a pipe: the server that `pg_ctl start` leaves running would hold a pipe open.
    @discardableResult
    static func run(_ command: [String]) throws -> String {
        let capture = TemporaryDirectory()
        let outputPath = capture.file("output")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var arguments = command.map { strdup($0) } + [nil]
        defer { for a in arguments { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, &arguments, environ)
        guard spawned == 0 else { throw TestFailure("\(command[0]): cannot start: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7F) == 0, code = (status >> 8) & 0xFF
        guard exited && code == 0 else {
            throw TestFailure("\(command.joined(separator: " ")): status \(status): \(text)")
        }
        return text
    }

    /// The newest `/usr/lib/postgresql/N/bin` with initdb.
    private static func binaryFolder() -> String? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }
}

/// A test set-up failure with its reason.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

// PostgresConnection: the little of libpq the fleet ledger needs — connect from a libpq URI,
// statements with positional text parameters (each prepared once per connection; values of
// any number go in as arrays), rows of optional text, transactions, notifications, and a
// reconnect with back-off after the server went away. Synchronous, like the daemon's worker
// threads (which is why libpq and not postgres-nio: no event loop to bridge to, and the same
// shape as the SQLite backend). Not thread-safe by itself: PostgresLedger serialises its use.
import CLibPQ
import ConvdSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A parameter of a statement (sent as text, cast in the SQL where the type matters).
enum PGValue {
    case int(Int64), real(Double), text(String), bool(Bool), null

    var text: String? {
        switch self {
        case .int(let v): String(v)
        case .real(let v): String(v)
        case .text(let v): v
        case .bool(let v): v ? "t" : "f"
        case .null: nil
        }
    }
}

extension PGValue {
    /// A bigint[] parameter (cast with `::bigint[]` in the SQL).
    static func array(_ values: [Int64]) -> PGValue {
        .text("{" + values.map(String.init).joined(separator: ",") + "}")
    }

    /// A text[] parameter (cast with `::text[]`): every element quoted, so that any name —
    /// commas, braces, quotes, backslashes, the word NULL — arrives as written; nil is NULL.
    static func array(_ values: [String?]) -> PGValue {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let value else {
                bytes += "NULL".utf8
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return .text(String(decoding: bytes, as: UTF8.self))
    }

    /// A boolean[] parameter.
    static func array(_ values: [Bool]) -> PGValue {
        .text("{" + values.map { $0 ? "t" : "f" }.joined(separator: ",") + "}")
    }

    /// A float8[] parameter.
    static func array(_ values: [Double]) -> PGValue {
        .text("{" + values.map { String($0) }.joined(separator: ",") + "}")
    }
}

/// One row of a result: each column's text, nil for NULL.
struct PGRow {
    let columns: [String?]

    subscript(_ i: Int) -> String? { columns[i] }
    func int(_ i: Int) -> Int64 { columns[i].flatMap { Int64($0) } ?? 0 }
    func real(_ i: Int) -> Double { columns[i].flatMap { Double($0) } ?? 0 }
    func bool(_ i: Int) -> Bool { columns[i] == "t" }
}

final class PostgresConnection {
    private var handle: OpaquePointer?
    private let uri: String
    /// Monotonic time before which no reconnect is tried (back-off), and the next delay.
    private var retryAt = 0.0
    private var backoff = 0.5

    /// Statements run on every (re)connection after convd's own settings.
    private let setup: String
    /// The statements prepared on this connection (SQL → name): each is parsed and planned
    /// once, not on every call (half the server's time per file in a burst went to that).
    /// Statements with a variable number of values pass arrays, so the set stays small.
    private var prepared: [String: String] = [:]
    private static let preparedLimit = 64

    /// Connects to `uri` (a libpq connection URI or key=value string); `setup` (settings of
    /// this session) runs again after every reconnect.
    init(uri: String, setup: String = "") throws(LedgerError) {
        self.uri = uri
        self.setup = setup
        try connect()
    }

    deinit { PQfinish(handle) }

    /// The URI with any password replaced, for messages.
    static func redacted(_ uri: String) -> String {
        // postgresql://user:secret@host/db → postgresql://user:***@host/db; password=x → password=***
        var text = uri
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
           let colon = text[scheme.upperBound..<at].firstIndex(of: ":") {
            text.replaceSubrange(text.index(after: colon)..<at, with: "***")
        }
        if let range = text.range(of: "password=") {
            let end = text[range.upperBound...].firstIndex(where: { $0 == " " || $0 == "&" }) ?? text.endIndex
            text.replaceSubrange(range.upperBound..<end, with: "***")
        }
        return text
    }

    private func connect() throws(LedgerError) {
        PQfinish(handle)
        prepared = [:]
        // Defaults that the URI may override: a dead server or a half-open connection (a
        // partition) is noticed in seconds, not after the kernel's two hours.
        let keywords = ["connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                        "tcp_user_timeout", "dbname"]
        let values = ["5", "1", "5", "2", "3", "10000", uri]
        handle = withArrayOfCStrings(keywords) { k in
            withArrayOfCStrings(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { Self.message(PQerrorMessage($0)) } ?? "out of memory"
            throw LedgerError(description: "postgresql: cannot connect: \(message)")
        }
        // A stray open transaction must not pin the vacuum horizon; a statement stuck behind a
        // lock must not hang a worker; application_name shows convd in pg_stat_activity. No
        // JIT: convd's statements touch a few hundred rows, and a plan whose cost passes
        // jit_above_cost (any plan with a node that enable_* rules out does) spent 0.3 s
        // compiling where it ran in 3 ms.
        _ = try execute("SET client_min_messages = warning; "  // no NOTICE lines on stderr
                        + "SET application_name = 'convd'; SET idle_in_transaction_session_timeout = '60s'; "
                        + "SET statement_timeout = '20s'; SET lock_timeout = '5s'; SET jit = off")
        if !setup.isEmpty { _ = try execute(setup) }
        backoff = 0.5
        generation += 1
    }

    /// Reconnects if the connection is gone, waiting out the back-off between tries.
    private func ensureConnected() throws(LedgerError) {
        guard PQstatus(handle) != CONNECTION_OK else { return }
        let now = monotonicClock()
        guard now >= retryAt else {
            throw LedgerError(description: "postgresql: connection lost; reconnecting")
        }
        do {
            try connect()
        } catch {
            retryAt = now + backoff
            backoff = min(backoff * 2, 10)
            throw error
        }
    }

    /// How many times this connection was made (a listener that sees it change may have
    /// missed notifications while it was away).
    private(set) var generation = 0

    /// Waits up to `timeout` seconds for notifications on the channels this connection
    /// listens to (its `setup` runs LISTEN, again after each reconnect); their payloads.
    func notifications(timeout: Double) throws(LedgerError) -> [String] {
        try ensureConnected()
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        if poll(&descriptor, 1, Int32(timeout * 1000)) > 0, PQconsumeInput(handle) != 1 {
            let message = Self.message(PQerrorMessage(handle))
            PQfinish(handle)  // gone: the next call reconnects
            handle = nil
            throw LedgerError(description: "postgresql: \(message)")
        }
        var payloads: [String] = []
        while let notification = PQnotifies(handle) {
            payloads.append(notification.pointee.extra.map { String(cString: $0) } ?? "")
            PQfreemem(notification)
        }
        return payloads
    }

    /// Whether the last statement left the connection usable.
    var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs one or more statements without parameters.
    @discardableResult
    func execute(_ sql: String) throws(LedgerError) -> [PGRow] {
        try ensureConnected()
        return try rows(PQexec(handle, sql), sql: sql)
    }

    /// Runs one statement with `$1...` parameters; its rows. The statement is prepared on
    /// its first use on this connection (again after a reconnect).
    @discardableResult
    func query(_ sql: String, _ parameters: [PGValue] = []) throws(LedgerError) -> [PGRow] {
        try ensureConnected()
        let name = try preparedName(sql)
        let texts = parameters.map(\.text)
        let storage: [UnsafeMutablePointer<CChar>?] = texts.map { $0.map { strdup($0) } ?? nil }
        defer { for p in storage { free(p) } }
        let pointers: [UnsafePointer<CChar>?] = storage.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeBufferPointer { buffer in
            if let name {
                PQexecPrepared(handle, name, Int32(parameters.count), buffer.baseAddress, nil, nil, 0)
            } else {
                PQexecParams(handle, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
            }
        }
        if name != nil, let result, PQresultStatus(result) == PGRES_FATAL_ERROR,
           let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))),  // PG_DIAG_SQLSTATE
           String(cString: state) == "26000" {
            prepared[sql] = nil  // deallocated behind our back (DISCARD ALL, a pooler): prepared again next time
        }
        return try rows(result, sql: sql)
    }

    /// The name under which `sql` is prepared on this connection, preparing it now if needed;
    /// nil past the limit (a statement built from values would otherwise fill the server).
    private func preparedName(_ sql: String) throws(LedgerError) -> String? {
        if let name = prepared[sql] { return name }
        guard prepared.count < Self.preparedLimit else { return nil }
        let name = "convd_\(prepared.count)"
        _ = try rows(PQprepare(handle, name, sql, 0, nil), sql: sql)
        prepared[sql] = name
        return name
    }

    /// The rows of `result` (none for a command; what a command changed comes back through
    /// `RETURNING`), or its error.
    private func rows(_ result: OpaquePointer?, sql: String) throws(LedgerError) -> [PGRow] {
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard let result, status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            let message = result.map { Self.message(PQresultErrorMessage($0)) } ?? Self.message(PQerrorMessage(handle))
            throw LedgerError(description: "postgresql: \(message) (in: \(sql.prefix(60)))")
        }
        let count = PQntuples(result), width = PQnfields(result)
        var rows: [PGRow] = []
        rows.reserveCapacity(Int(count))
        for r in 0..<count {
            rows.append(PGRow(columns: (0..<width).map { c in
                PQgetisnull(result, r, c) != 0 ? nil : String(cString: PQgetvalue(result, r, c))
            }))
        }
        return rows
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if isConnected { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    private static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "unknown error" }
        return String(cString: text).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }
}

/// `body` with `strings` as a NULL-terminated array of C strings.
private func withArrayOfCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { for c in copies { free(c) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// A connection behind its own lock: one statement or transaction at a time.
final class PostgresSession: @unchecked Sendable {
    private let lock = NSLock()
    /// Only for use before the session is shared (set-up in an initialiser).
    let connection: PostgresConnection

    init(_ connection: PostgresConnection) { self.connection = connection }

    func with<T>(_ body: (PostgresConnection) throws(LedgerError) -> T) throws(LedgerError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(connection)
    }
}

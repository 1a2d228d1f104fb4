// The worker threads and the committer. A worker takes a few ready jobs at a time and
// processes them one by one; a processed job's outputs are staged (temporary names) and the
// job goes straight to the committer, while the worker goes on with the next file. The
// committer takes every processed job waiting and makes their outputs durable as a group
// (`[daemon] sync`: renamed into place, one syncfs per output file system and each file's own
// write-back checked; or each fsynced and renamed, then their folders fsynced), and only then
// finishes those jobs in the ledger, in one transaction, with their classification log lines
// appended (in sequence order, one write) *before* their after-actions — so a crash in between
// leaves a finished version still in the input, which the next listing completes
// (Daemon+Discovery), never a lost line. Nothing waits to fill a group: a single file is
// committed alone. A job that has crashed the daemon before runs alone (IsolationGate).
import ConvdConfig
import ConvdSystem
import ConvdWatch
import Foundation
import Logging

extension Daemon {
    /// Deaths of the process during one file's job after which the file is failed.
    static let crashLimit = 2
    /// The most jobs a worker takes at once.
    static let batchLimit = 8
    /// The most staged output files waiting for the committer (each an open descriptor).
    static let commitQueueFiles = 128

    func workerLoop(_ index: Int, workers: Int) {
        let processor = Processor(keysInode: ledger.keysInode)
        var seenGeneration = generation.withLock { $0 }
        processor.prepare(table.all.map(\.pipeline))
        while let jobs = scheduler.next(upTo: Self.batchLimit, sharers: workers) {
            let current = generation.withLock { $0 }
            if current != seenGeneration {
                processor.reset()
                processor.prepare(table.all.map(\.pipeline))
                seenGeneration = current
            }
            for (position, job) in jobs.enumerated() {
                if position > 0 && scheduler.isStopping {
                    // Stopping: the jobs not started go back as they were.
                    for rest in jobs[position...] { try? ledger.requeue(rest, readyAt: wallClock(), attempts: rest.attempts) }
                    break
                }
                run(job, worker: index, processor: processor)
            }
        }
    }

    /// Processes one job and hands it to the committer, or records its other outcome.
    private func run(_ job: Job, worker index: Int, processor: Processor) {
        guard let entry = table.entry(named: job.watch) else {
            // The watch was removed by a reload: the job waits in the ledger for it to return.
            try? ledger.requeue(job, readyAt: wallClock() + 3600, attempts: job.attempts)
            return
        }
        if job.crashes >= Self.crashLimit {
            let display = entry.settings.input + "/" + job.path
            complete(job, .failed(SystemError(path: display, reason: "crashed the daemon twice; not processed again "
                                              + "(convd retry queues it once more)")), entry: entry)
            return
        }
        let outcome = isolation.run(alone: job.crashes > 0) { () -> JobOutcome in
            counters.withLock { $0.busySince[index] = monotonicClock() }
            inflight?.mark(index, job.id)
            defer {
                inflight?.mark(index, 0)
                counters.withLock { $0.busySince[index] = nil }
            }
            return processor.process(job, pipeline: entry.pipeline, now: wallClock())
        }
        complete(job, outcome, entry: entry)
    }

    /// The committer thread: commits what the workers processed, group by group, until the
    /// queue is closed (after the last worker stopped) and empty. Its watchdog slot is `slot`.
    func committerLoop(slot: Int) {
        while let group = commits.take() {
            counters.withLock { $0.busySince[slot] = monotonicClock() }
            commit(group)
            counters.withLock { $0.busySince[slot] = nil }
        }
    }

    /// Makes the staged outputs of `processed` durable, finishes the jobs whose outputs all
    /// made it in one ledger transaction with one log write, then runs their after-actions. A
    /// job whose output failed is completed by its error's policy instead. `sync = "filesystem"`
    /// applies to outputs on local file systems; on network and FUSE file systems (where
    /// syncfs may not reach the server's disk) each file is fsynced.
    private func commit(_ processed: [ProcessedJob]) {
        // In a fleet, only outputs of files whose leases are still held (with time to spare)
        // are published: a node stopped or cut off past its lease writes nothing.
        var processed = processed
        if !ledger.keysInode {
            // A node stopped past a lease may have claimed the file again while a worker still
            // ran the old claim: only the newer claim (the larger token) can still be held.
            let newest = Dictionary(processed.map { ($0.job.id, $0.job.lease) }, uniquingKeysWith: max)
            for item in processed where item.job.lease != newest[item.job.id] {
                for file in item.result.staged { file.discard() }
                leaseLost(item.job, entry: item.entry)
            }
            processed.removeAll { $0.job.lease != newest[$0.job.id] }
            let held = (try? ledger.stillHeld(processed.map(\.job))) ?? []
            for item in processed where !held.contains(item.job.id) {
                for file in item.result.staged { file.discard() }
                // Fenced: back to pending if the lease is still ours after all (this node only
                // lost sight of the database for a while), nothing if another node holds it.
                try? ledger.requeue(item.job, readyAt: wallClock(), attempts: item.job.attempts)
                leaseLost(item.job, entry: item.entry)
            }
            processed.removeAll { !held.contains($0.job.id) }
        }
        let wholeFileSystem = config.withLock { $0.daemon.sync } == .filesystem
        var local: [String: Bool] = [:]
        var bySyncfs: [ProcessedJob] = []
        var byFsync: [ProcessedJob] = []
        for item in processed {
            let root = item.entry.settings.output
            let isLocal = local[root] ?? {
                let answer = FileSystemKind.pollingReason(for: root) == nil
                local[root] = answer
                return answer
            }()
            if wholeFileSystem && isLocal { bySyncfs.append(item) } else { byFsync.append(item) }
        }
        let durable = syncFileSystems(bySyncfs) + syncEachFile(byFsync)
        let finishes = durable.map { item in
            Finish(job: item.job, failed: false, reason: nil,
                   line: { self.logLine($0, job: item.job, entry: item.entry, result: item.result, reason: nil) })
        }
        let refused: Set<Int64>
        do {
            refused = try ledger.finish(finishes) { lines in self.classificationLog.append(lines.map(\.line)) }
        } catch {
            logger.error("ledger: \(error)")
            return
        }
        for item in durable where refused.contains(item.job.id) {
            leaseLost(item.job, entry: item.entry)
        }
        let finished = wallClock()
        counters.withLock { c in
            for item in durable where !refused.contains(item.job.id) {
                c.watchMetrics[item.job.watch, default: WatchMetrics()].processed += 1
                c.watchMetrics[item.job.watch, default: WatchMetrics()].observe(latency: finished - item.job.discovered)
            }
        }
        for item in durable where !refused.contains(item.job.id) {
            let file = item.entry.settings.input + "/" + item.job.path
            logger.debug("processed", metadata: [
                "watch.name": "\(item.entry.settings.name)", "file.path": "\(file)",
                "label": "\(item.result.classification?.label ?? "-")", "ms": "\(item.result.milliseconds)"])
            applyAfterAction(item.job.path, expected: .inode(item.result.inode), entry: item.entry)
        }
    }

    /// A finish the fence refused, or outputs not published: this node's lease expired (it was
    /// stopped or cut off) and another node holds the file now. Nothing of this run is
    /// committed (outputs published just before a lease ran out hold what the other node's
    /// run writes under the same names).
    func leaseLost(_ job: Job, entry: WatchEntry) {
        logger.warning("lease lost: another node took this file over; this run's result is not committed",
                       metadata: ["watch.name": "\(entry.settings.name)",
                                  "file.path": "\(entry.settings.input + "/" + job.path)"])
    }

    /// Starts the write-back of every staged output, fsyncs and renames each one, then fsyncs
    /// their folders so the renames are durable too.
    private func syncEachFile(_ processed: [ProcessedJob]) -> [ProcessedJob] {
        guard !processed.isEmpty else { return [] }
        for file in processed.flatMap(\.result.staged) { file.startWriteback() }
        let renamed = keep(processed) { file throws(SystemError) in try file.commit() }
        do {
            try StagedFile.syncFolders(renamed.flatMap { $0.result.staged.map(\.folder) })
            return renamed
        } catch {
            for item in renamed { writeFailed(item, error) }
            return []
        }
    }

    /// Renames every staged output into place, one syncfs per output file system, then checks
    /// each file's own write-back.
    private func syncFileSystems(_ processed: [ProcessedJob]) -> [ProcessedJob] {
        guard !processed.isEmpty else { return [] }
        let published = keep(processed) { file throws(SystemError) in try file.publish() }
        do {
            try StagedFile.syncFileSystems(published.flatMap { $0.result.staged.map(\.folder) })
        } catch {
            for item in published { writeFailed(item, error) }
            return []
        }
        return keep(published) { file throws(SystemError) in try file.confirm() }
    }

    /// The jobs for which `step` succeeded on every staged file; the others fail their write.
    private func keep(_ processed: [ProcessedJob],
                      _ step: (StagedFile) throws(SystemError) -> Void) -> [ProcessedJob] {
        var kept: [ProcessedJob] = []
        for item in processed {
            do throws(SystemError) {
                for file in item.result.staged { try step(file) }
                kept.append(item)
            } catch {
                writeFailed(item, error)
            }
        }
        return kept
    }

    /// A job whose outputs could not be made durable: its files are closed (temporary ones
    /// removed), and it is retried or failed by the error's policy.
    private func writeFailed(_ item: ProcessedJob, _ error: SystemError) {
        for file in item.result.staged { file.discard() }
        complete(item.job, Processor.outcome(.write(error)), entry: item.entry)
    }

    /// Records an outcome other than a processed job's: requeue, drop or fail.
    private func complete(_ job: Job, _ outcome: JobOutcome, entry: WatchEntry) {
        let now = wallClock()
        let file = entry.settings.input + "/" + job.path
        let meta: Logger.Metadata = ["watch.name": "\(entry.settings.name)", "file.path": "\(file)"]
        do {
            switch outcome {
            case .vanished:
                try ledger.drop(job)
                logger.debug("file gone before it was read", metadata: meta)
            case .changed(let version):
                try ledger.requeue(job, readyAt: now + Double(entry.settings.settleMs) / 1000, attempts: job.attempts,
                                   reason: nil, version: version)
            case .notSettled(let until):
                try ledger.requeue(job, readyAt: until, attempts: job.attempts)
            case .transient(let error):
                let attempts = job.attempts + 1
                let delay = min(300, pow(2, Double(attempts - 1)))
                try ledger.requeue(job, readyAt: now + delay, attempts: attempts, reason: error.description)
                counters.withLock { $0.watchMetrics[job.watch, default: WatchMetrics()].retries += 1 }
                let level: Logger.Level = attempts == 1 ? .warning : .debug
                logger.log(level: level, "cannot write outputs; the file waits and is retried",
                           metadata: meta.merging(["reason": "\(error.reason)", "retry.seconds": "\(delay)"]) { $1 })
            case .undecodable(let error):
                if job.attempts < 3 {
                    // Perhaps still being written (renamed-in files too): try again before giving up.
                    try ledger.requeue(job, readyAt: now + 0.5 * pow(2, Double(job.attempts)), attempts: job.attempts + 1)
                    return
                }
                try fail(job, reason: error.description, entry: entry, meta: meta)
            case .failed(let error):
                try fail(job, reason: error.description, entry: entry, meta: meta)
            case .done(let result):
                commits.submit(ProcessedJob(job: job, entry: entry, result: result))
            }
        } catch {
            logger.error("ledger: \(error)", metadata: meta)
        }
    }

    /// Finishes `job` as failed: one log line, then the file set aside.
    func fail(_ job: Job, reason: String, entry: WatchEntry, meta: Logger.Metadata) throws(LedgerError) {
        let held = try ledger.finish(job, failed: true, reason: reason,
                                     line: { self.logLine($0, job: job, entry: entry, result: nil, reason: reason) },
                                     wrote: { _, line in self.classificationLog.append(line) })
        guard held else { return leaseLost(job, entry: entry) }
        let finished = wallClock()
        counters.withLock { c in
            c.failedThisRun += 1
            c.watchMetrics[job.watch, default: WatchMetrics()].failed += 1
            c.watchMetrics[job.watch, default: WatchMetrics()].observe(latency: finished - job.discovered)
        }
        logger.warning("failed: \(reason)", metadata: meta)
        placeFailed(job.path, expected: ledger.keysInode ? .inode(job.version.inode) : .sizeAndMtime(job.version),
                    reason: reason, entry: entry)
    }

    /// One classification log line.
    func logLine(_ seq: Int64, job: Job, entry: WatchEntry, result: JobResult?, reason: String?) -> String {
        var json = JSONText()
        json.add("seq", seq)
        json.add("time", isoTime(wallClock()))
        json.add("watch", entry.settings.name)
        json.add("file", entry.settings.input + "/" + job.path)
        let c = result?.classification
        json.add("label", c?.label)
        json.add("confidence", c.map { Double($0.confidence) })
        json.add("top", raw: c.map(Processor.topJSON) ?? "[]")
        json.add("model", entry.pipeline.model?.name)
        json.add("chain", entry.pipeline.chain?.name)
        json.add("ms", result?.milliseconds, digits: 3)
        json.add("outcome", reason == nil ? "ok" : "failed")
        if let reason { json.add("reason", reason) }
        json.add("outputs", Int64(result?.outputs.count ?? 0))
        return json.text
    }

    /// keep, move to done_dir or delete — only the version that was processed (`expected`),
    /// reached from the input root without following symlinks.
    func applyAfterAction(_ key: String, expected: OutputTree.Expected, entry: WatchEntry) {
        guard entry.settings.after != .keep, let path = RelativePath(key: key) else { return }
        do {
            switch entry.settings.after {
            case .keep:
                return
            case .move:
                guard let done = entry.settings.doneDir else { return }
                try OutputTree.move(path, from: entry.settings.input, expected: expected, toRoot: done,
                                    limit: entry.pipeline.image.decode.limits.maxFileBytes)
            case .delete:
                try OutputTree.delete(path, from: entry.settings.input, expected: expected)
            }
        } catch where error.code == ENOENT {
            return
        } catch {
            logger.warning("after-action failed; it is retried at the next listing: \(error)",
                           metadata: ["watch.name": "\(entry.settings.name)"])
        }
    }

    /// A failed input goes to failed_dir with `NAME.error.txt` beside it, or, without a
    /// failed_dir (or when it cannot be moved: another file system and over the size limit, a
    /// symlink on the way), stays where it is and the reason goes to the output tree.
    func placeFailed(_ key: String, expected: OutputTree.Expected, reason: String, entry: WatchEntry) {
        guard let path = RelativePath(key: key) else { return }
        let text = DisplayText.escaped(reason) + "\n"
        let errorName = path.name + Array(".error.txt".utf8)
        var moveError: SystemError?
        if let failed = entry.settings.failedDir {
            do {
                let folder = try OutputTree.move(path, from: entry.settings.input, expected: expected, toRoot: failed,
                                                 limit: entry.pipeline.image.decode.limits.maxFileBytes)
                try OutputTree.write(text, to: errorName, in: folder)
                return
            } catch where error.code == ENOENT {
                return
            } catch {
                moveError = error
            }
        }
        do {
            let folder = try OutputTree.folder(root: entry.settings.output, path, create: true)
            try OutputTree.write(moveError.map { text + "not moved to failed_dir: \(DisplayText.escaped($0.description))\n" }
                                 ?? text, to: errorName, in: folder)
        } catch {
            logger.warning("cannot set the failed file aside: \(moveError.map { "\($0); " } ?? "")\(error)",
                           metadata: ["watch.name": "\(entry.settings.name)"])
        }
    }
}

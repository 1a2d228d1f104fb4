// The worker threads: claim a job, process it, and record the outcome. A finished job is
// committed to the ledger and its classification log line appended (in sequence order)
// *before* its after-action, so a crash in between leaves a finished version still in the
// input, which the next listing completes (Daemon+Discovery), never a lost line.
import ConvdConfig
import Foundation
import Logging

extension Daemon {
    func workerLoop(_ index: Int) {
        let processor = Processor()
        var seenGeneration = generation.withLock { $0 }
        while let job = scheduler.next() {
            counters.withLock { $0.busySince[index] = monotonicClock() }
            defer { counters.withLock { $0.busySince[index] = nil } }
            let current = generation.withLock { $0 }
            if current != seenGeneration {
                processor.reset()
                seenGeneration = current
            }
            guard let entry = table.entry(named: job.watch) else {
                // The watch was removed by a reload: the job waits in the ledger for it to return.
                try? ledger.requeue(job, readyAt: wallClock() + 3600, attempts: job.attempts)
                continue
            }
            complete(job, processor.process(job, pipeline: entry.pipeline, now: wallClock()), entry: entry)
        }
    }

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
                                   version: version)
            case .notSettled(let until):
                try ledger.requeue(job, readyAt: until, attempts: job.attempts)
            case .transient(let reason):
                let attempts = job.attempts + 1
                let delay = min(300, pow(2, Double(attempts - 1)))
                try ledger.requeue(job, readyAt: now + delay, attempts: attempts, reason: reason)
                let level: Logger.Level = attempts == 1 ? .warning : .debug
                logger.log(level: level, "cannot write outputs; the file waits and is retried",
                           metadata: meta.merging(["reason": "\(reason)", "retry.seconds": "\(delay)"]) { $1 })
            case .failed(let reason, let retryable):
                if retryable && job.attempts < 3 {
                    // Perhaps still being written (renamed-in files too): try again before giving up.
                    try ledger.requeue(job, readyAt: now + 0.5 * pow(2, Double(job.attempts)), attempts: job.attempts + 1)
                    return
                }
                try ledger.finish(job, failed: true, reason: reason,
                                  line: { self.logLine($0, job: job, entry: entry, result: nil, reason: reason) },
                                  wrote: { _, line in self.classificationLog.append(line) })
                counters.withLock { $0.failedThisRun += 1 }
                logger.warning("failed: \(reason)", metadata: meta)
                placeFailed(job.path, reason: reason, entry: entry)
            case .done(let result):
                try ledger.finish(job, failed: false, reason: nil,
                                  line: { self.logLine($0, job: job, entry: entry, result: result, reason: nil) },
                                  wrote: { _, line in self.classificationLog.append(line) })
                logger.debug("processed", metadata: meta.merging([
                    "label": "\(result.classification?.label ?? "-")", "ms": "\(result.milliseconds)"]) { $1 })
                applyAfterAction(job.path, entry: entry)
            }
        } catch {
            logger.error("ledger: \(error)", metadata: meta)
        }
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

    /// keep, move to done_dir or delete.
    func applyAfterAction(_ path: String, entry: WatchEntry) {
        let input = entry.settings.input + "/" + path
        do {
            switch entry.settings.after {
            case .keep:
                return
            case .move:
                guard let done = entry.settings.doneDir else { return }
                try OutputTree.move(input, toRoot: done, relative: path)
            case .delete:
                guard unlink(input) == 0 || errno == ENOENT else { throw DaemonError("\(input): cannot delete: \(errnoText())") }
            }
        } catch {
            logger.warning("after-action failed; it is retried at the next listing: \(error)",
                           metadata: ["watch.name": "\(entry.settings.name)"])
        }
    }

    /// A failed input goes to failed_dir with `NAME.error.txt` beside it, or, without a
    /// failed_dir, stays where it is and the reason goes to the output tree.
    func placeFailed(_ path: String, reason: String, entry: WatchEntry) {
        let input = entry.settings.input + "/" + path
        let text = reason + "\n"
        do {
            if let failed = entry.settings.failedDir {
                let moved = try OutputTree.move(input, toRoot: failed, relative: path)
                try OutputTree.write(text, to: moved + ".error.txt")
            } else {
                let folder = try OutputTree.folder(root: entry.settings.output, relative: OutputTree.folderPart(path))
                try OutputTree.write(text, to: folder + "/" + OutputTree.namePart(path) + ".error.txt")
            }
        } catch {
            logger.warning("cannot set the failed file aside: \(error)", metadata: ["watch.name": "\(entry.settings.name)"])
        }
    }
}

// Housekeeping, four times a second until stopped: polled watches and degraded roots,
// periodic safety rescans, ledger pruning, the status file and STATUS=, and the watchdog ping — sent only
// while the watcher thread, the discovery thread and every busy worker show progress.
import ConvdConfig
import ConvdSystem
import ConvdWatch
import Foundation
import Logging
import UnixSignals

extension Daemon {
    func housekeep() async {
        let rescanInterval = config.withLock { $0.daemon.rescanInterval }
        var nextRescan = monotonicClock() + rescanInterval
        var nextStatus = 0.0
        var nextMetrics = 0.0
        var nextPing = 0.0
        var nextPrune = monotonicClock() + 10
        let fleet = config.withLock { $0.daemon.sharedLedger ? $0.daemon.leaseSeconds : nil }
        var nextSweep = monotonicClock() + (fleet.map { max(10, 2 * $0) } ?? .infinity)
        var lastSummary = ""
        while !stopRequested {
            try? await Task.sleep(nanoseconds: 250_000_000)
            let now = monotonicClock()
            checkPolledAndDegraded(now: now)
            keepUpWithFleet()
            if rescanInterval > 0 && now >= nextRescan {
                nextRescan = now + rescanInterval
                counters.withLock { $0.rescans += 1 }
                logger.info("periodic rescan")
                for entry in table.all where entry.mode == .inotify { watcher?.rescan(rootID: entry.id) }
            }
            if let lease = fleet, now >= nextSweep {
                // A node killed mid-write leaves temporaries that no restart of its own may find.
                nextSweep = now + max(10, 2 * lease)
                sweepTemporaries(olderThan: 2 * lease)
            }
            if now >= nextPrune {
                // A full batch means more is due: come back sooner.
                nextPrune = now + (pruneLedger(now: wallClock()) >= Self.pruneBatch ? 1 : 60)
            }
            if now >= nextMetrics {
                nextMetrics = now + 5
                writeMetrics()
            }
            if now >= nextStatus {
                nextStatus = now + 1
                let status = snapshot(state: "running")
                writeStatus(status)
                if status.summary != lastSummary {
                    lastSummary = status.summary
                    notifier.status(status.summary)
                }
            }
            if let interval = notifier.watchdogInterval, now >= nextPing {
                nextPing = now + interval / 2
                if let stalled = stalledPart(now: now, interval: interval) {
                    logger.error("not pinging the watchdog: \(stalled) made no progress")
                } else {
                    notifier.notify("WATCHDOG=1")
                }
            }
        }
    }

    /// Heartbeat, lease rescue and lister election (a shared ledger; nothing on one host): a
    /// watch this node has just become the lister of is walked at once, so that what arrived
    /// while no node listed it is found.
    func keepUpWithFleet() {
        let (busy, discoveryBeat) = counters.withLock { ($0.busySince.dropLast().filter { $0 != nil }.count,
                                                         $0.discoveryBeat) }
        // A node stands for listing only the watches it can see, and only while its discovery
        // thread makes progress (a hung NFS listing must not keep the role from the others).
        let lease = config.withLock { $0.daemon.leaseSeconds }
        let listing = monotonicClock() - discoveryBeat < lease
        let names = table.all.filter { entry in
            guard listing, entry.established else { return false }
            if case .degraded = entry.mode { return false }
            return true
        }.map(\.settings.name)
        for name in ledger.maintain(watches: names, inFlight: busy) {
            guard let entry = table.entry(named: name) else { continue }
            logger.info("listing this watch for the fleet", metadata: ["watch.name": "\(name)"])
            events.append([.walk(rootID: entry.id)])
        }
    }

    private func checkPolledAndDegraded(now: Double) {
        for entry in table.all where now >= entry.nextCheck {
            switch entry.mode {
            case .poll:
                table.update(id: entry.id) { $0.nextCheck = now + max(0.05, $0.settings.pollInterval) }
                // In a fleet only the lister walks (what the others found would be dropped).
                guard ledger.lists(watch: entry.settings.name) else { continue }
                events.append([.walk(rootID: entry.id)])
            case .degraded:
                table.update(id: entry.id) { $0.nextCheck = now + max(0.05, $0.settings.pollInterval) }
                if FolderListing.kind(of: entry.settings.input, follow: true) == .folder {
                    logger.info("input folder is back; watching it again",
                                metadata: ["watch.name": "\(entry.settings.name)"])
                    guard let fresh = table.update(id: entry.id, { $0.mode = .starting }) else { continue }
                    start(fresh)
                }
            default:
                break
            }
        }
    }

    /// What is stuck, or nil when all is well.
    private func stalledPart(now: Double, interval: Double) -> String? {
        let limit = max(30, 2 * interval)
        if let watcher, now - watcher.heartbeat > limit { return "the inotify thread" }
        let c = counters.withLock { $0 }
        if now - c.discoveryBeat > limit { return "the discovery thread" }
        let jobLimit = max(300, 4 * interval)
        if c.busySince.contains(where: { $0.map { now - $0 > jobLimit } ?? false }) { return "a worker or the committer" }
        return nil
    }

    /// The daemon's state now.
    func snapshot(state: String) -> DaemonStatus {
        let counts = (try? ledger.counts()) ?? [:]
        let blocked = Dictionary(((try? ledger.blocked()) ?? []).map { ($0.watch, "\($0.count) waiting: \($0.reason)") }) { a, _ in a }
        let c = counters.withLock { $0 }
        let watches = table.all.map { e in
            let n = counts[e.settings.name] ?? LedgerCounts()
            return DaemonStatus.Watch(name: e.settings.name, input: e.settings.input, mode: e.mode.text,
                                      processed: n.done, failed: n.failed, queued: n.pending + n.running,
                                      blocked: blocked[e.settings.name])
        }
        let settings = config.withLock { $0.daemon }
        return DaemonStatus(pid: getpid(), started: isoTime(startedAt), updated: isoTime(wallClock()), state: state,
                            overflows: c.overflows, rescans: c.rescans, watches: watches,
                            node: settings.sharedLedger ? settings.nodeName : nil,
                            nodes: settings.sharedLedger ? (try? ledger.nodes()) : nil, ledger: ledger.problem)
    }

    func writeStatus(_ status: DaemonStatus) {
        let path = config.withLock { $0.daemon.statusFile }
        do {
            try status.write(to: path)
        } catch {
            logger.debug("cannot write the status file: \(error)")
        }
    }

    /// SIGHUP: reopen the classification log; re-read, check and apply the config, or keep
    /// the old one and say why.
    func reload() {
        notifier.reloading()
        do {
            try classificationLog.reopen()
        } catch {
            logger.error("\(error)")
        }
        let old = config.withLock { $0 }
        let new: DaemonConfig
        let pipelines: [Pipeline]
        do {
            new = try DaemonConfig.load(old.file)
            try new.checkFolders(create: true)
            pipelines = try Pipeline.resolveAll(new)
        } catch {
            logger.error("reload failed; keeping the running config:\n\(error)")
            notifier.ready(status: snapshot(state: "running").summary)
            return
        }
        if new.daemon != old.daemon {
            logger.warning("[daemon] settings changed; they apply at the next start (restart convd)")
        }
        var changed: [String] = []
        for entry in table.all where !pipelines.contains(where: { $0.watch == entry.settings }) {
            if entry.mode == .inotify { watcher?.remove(rootID: entry.id) }
            _ = table.remove(entry.settings.name)
            changed.append(entry.settings.name)
        }
        generation.withLock { $0 += 1 }
        for pipeline in pipelines {
            let current = table.entry(named: pipeline.watch.name)
            // Same watch, same settings: keep it running, but take the (possibly retrained) model.
            if let current, current.settings == pipeline.watch {
                table.update(id: current.id) { $0.pipeline = pipeline }
                continue
            }
            let entry = table.insert(pipeline, extraIgnored: old.daemon.ignore)
            start(entry)
            if !changed.contains(pipeline.watch.name) { changed.append(pipeline.watch.name) }
        }
        config.withLock { $0.watches = new.watches; $0.chains = new.chains; $0.models = new.models }
        logger.info("reloaded the config", metadata: ["watches.changed": "\(changed.sorted().joined(separator: ","))"])
        notifier.ready(status: snapshot(state: "running").summary)
        scheduler.wake()
    }
}

/// SIGHUP as an async sequence (swift-service-lifecycle's UnixSignals).
enum HangupSignals {
    static func sequence() async -> UnixSignalsSequence { await UnixSignalsSequence(trapping: .sighup) }
}

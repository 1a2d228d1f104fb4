// Daemon: `convd run`. Owns the ledger, the classification log, the watcher, the discovery
// thread (events → folder listings → ledger rows), the worker threads (ledger → Processor →
// outputs → ledger + log line) and housekeeping (polling, rescans, status, watchdog).
// Lifecycle: serve() runs until requestStop() (SIGTERM/SIGINT through ServiceLifecycle),
// then stops taking jobs, lets those in flight finish within stop_timeout, and returns.
import ConvdConfig
import ConvdCore
import ConvdSystem
import ConvdWatch
import Foundation
import Logging
import Synchronization

/// Counters and heartbeats shared by the daemon's threads.
struct DaemonCounters {
    var overflows = 0
    var rescans = 0
    var failedThisRun = 0
    var discoveryBeat = 0.0
    /// Per worker: when its current job started (nil when idle).
    var busySince: [Double?] = []
    var activeWorkers = 0
    var stopRequested = false
    /// Per watch name, for the metrics file.
    var watchMetrics: [String: WatchMetrics] = [:]
}

public final class Daemon: @unchecked Sendable {
    let logger: Logger
    let notifier: SystemdNotifier
    let ledger: any Ledger
    let classificationLog: ClassificationLog
    let table = WatchTable()
    let events = EventQueue()
    let scheduler: Scheduler
    /// Processed jobs on their way to the committer.
    let commits = CommitQueue(limit: Daemon.commitQueueFiles)
    /// Lets a job that crashed the daemon before run alone.
    let isolation = IsolationGate()
    /// The job each worker is processing, for crash accounting at the next start.
    let inflight: InflightMarks?
    let counters = Mutex(DaemonCounters())
    let config: Mutex<DaemonConfig>
    let generation = Mutex(0)
    let oneshot: Bool
    let startedAt = wallClock()
    private let watcherBox = Mutex<(any FileEventSource)?>(nil)
    private let makeWatcher: EventSourceFactory
    private let discoveryDone = DispatchSemaphore(value: 0)

    /// Makes the event source of the inotify-mode watches, given the sink for its events.
    public typealias EventSourceFactory = @Sendable (@escaping @Sendable ([FileEvent]) -> Void) -> any FileEventSource

    /// A daemon for a checked config and its resolved pipelines; opens the ledger and the log.
    /// `eventSource` is inotify except in tests, which drive the daemon with events of their own.
    public init(config: DaemonConfig, pipelines: [Pipeline], logger: Logger, notifier: SystemdNotifier,
                oneshot: Bool = false,
                eventSource: @escaping EventSourceFactory = { InotifyWatcher(sink: $0) }) throws(DaemonError) {
        self.logger = logger
        self.makeWatcher = eventSource
        self.notifier = notifier
        self.oneshot = oneshot
        self.config = Mutex(config)
        let marks = config.daemon.stateDir + "/inflight"
        let log = logger
        ledger = try config.daemon.openLedger(node: true, crashed: InflightMarks.read(path: marks)) { log.warning("\($0)") }
        inflight = InflightMarks(path: marks, slots: config.daemon.workers)
        classificationLog = try ClassificationLog(path: config.daemon.classificationLog)
        scheduler = Scheduler(ledger: ledger) { log.error("\($0)") }
        for pipeline in pipelines { _ = table.insert(pipeline, extraIgnored: config.daemon.ignore) }
        useSingleThreadedGEMM()
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)  // a file-size limit becomes EFBIG, a transient failure
    }

    var watcher: (any FileEventSource)? { watcherBox.withLock { $0 } }

    /// The watcher, started on first use.
    func ensureWatcher() -> any FileEventSource {
        watcherBox.withLock { box in
            if let existing = box { return existing }
            let events = self.events
            let created = makeWatcher { batch in events.append(batch.map(DaemonEvent.watch)) }
            box = created
            return created
        }
    }

    public func requestStop() { counters.withLock { $0.stopRequested = true } }

    var stopRequested: Bool { counters.withLock { $0.stopRequested } }

    /// Runs until stopped (or, with oneshot, until the backlog is done); returns the exit status.
    public func serve() async -> Int32 {
        let settings = config.withLock { $0.daemon }
        notifier.status("starting")
        reconcileLog()
        // In a fleet, another node's temporaries may be in use: only those older than two leases go.
        sweepTemporaries(olderThan: settings.sharedLedger ? 2 * settings.leaseSeconds : 0)
        // Take the free lister roles now (the watches are walked as they start).
        for name in ledger.maintain(watches: table.all.map(\.settings.name), inFlight: 0) {
            logger.info("listing this watch for the fleet", metadata: ["watch.name": "\(name)"])
        }
        startThreads(workers: settings.workers)
        ledger.watchForWork { [scheduler] in scheduler.wake() }
        for entry in table.all { start(entry) }
        while !table.all.allSatisfy(\.established) && !stopRequested {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        let status = snapshot(state: "running")
        notifier.ready(status: status.summary)
        logger.info("ready", metadata: ["watches": "\(table.all.count)", "workers": "\(settings.workers)",
                                        "pid": "\(getpid())"])
        let hangups = Task { await self.listenForHangups() }
        var code: Int32 = 0
        if oneshot {
            code = await drainBacklog()
        } else {
            await housekeep()
        }
        hangups.cancel()
        await shutdown(timeout: settings.stopTimeout)
        return code
    }

    /// Appends log lines the ledger has but the log lost (a crash between the two writes).
    private func reconcileLog() {
        do {
            let logged = max(try ledger.loggedSeq(), ClassificationLog.lastSeq(in: classificationLog.path))
            let missing = try ledger.lines(after: logged)
            for (seq, line) in missing where classificationLog.append(line) { try ledger.setLoggedSeq(seq) }
            if !missing.isEmpty {
                logger.info("appended classification log lines a previous run had not written",
                            metadata: ["count": "\(missing.count)"])
            }
        } catch {
            logger.error("ledger: \(error)")
        }
    }

    /// Removes the temporary files that killed runs left in the output, done and failed trees,
    /// when at least `olderThan` seconds old.
    func sweepTemporaries(olderThan age: Double) {
        for entry in table.all {
            let swept = [entry.settings.output, entry.settings.doneDir, entry.settings.failedDir].compactMap { $0 }
                .reduce(0) { $0 + OutputTree.sweepTemporaries(under: $1, olderThan: age) }
            if swept > 0 {
                logger.info("removed temporary files left by a killed run",
                            metadata: ["watch.name": "\(entry.settings.name)", "count": "\(swept)"])
            }
        }
    }

    /// Starts watching (or polling) one watch.
    func start(_ entry: WatchEntry) {
        let settings = entry.settings
        guard FolderListing.kind(of: settings.input, follow: true) == .folder else {
            markDegraded(entry.id, reason: "input folder \(settings.input) is missing")
            return
        }
        var pollReason: String?
        if oneshot {
            pollReason = "one-shot run"
        } else if settings.mode == .poll {
            pollReason = "mode = poll"
        } else if settings.mode == .auto, let fs = FileSystemKind.pollingReason(for: settings.input) {
            pollReason = "\(fs) file system: inotify sees no changes made by other hosts"
        }
        if let pollReason {
            table.update(id: entry.id) { $0.mode = .poll(pollReason) }
            if !oneshot {
                logger.info("polling the watch", metadata: ["watch.name": "\(settings.name)", "reason": "\(pollReason)",
                                                            "interval": "\(settings.pollInterval)"])
            }
            events.append([.walk(rootID: entry.id)])
        } else {
            ensureWatcher().add(entry.root)
        }
    }

    func markDegraded(_ id: Int, reason: String) {
        guard let entry = table.update(id: id, {
            $0.mode = .degraded(reason)
            $0.established = true
            $0.nextCheck = monotonicClock() + $0.settings.pollInterval
        }) else { return }
        logger.warning("watch degraded: checking for its folder every poll_interval",
                       metadata: ["watch.name": "\(entry.settings.name)", "reason": "\(reason)"])
    }

    /// The discovery thread, `workers` worker threads and the committer. Each worker and the
    /// committer has a watchdog slot in `busySince` (the committer's is the last); the
    /// committer counts as active until the last worker stopped and it committed what was left.
    private func startThreads(workers: Int) {
        counters.withLock {
            $0.busySince = Array(repeating: nil, count: workers + 1)
            $0.activeWorkers = workers + 1
        }
        let discovery = Thread { [self] in
            discoveryLoop()
            discoveryDone.signal()
        }
        discovery.name = "convd-discovery"
        discovery.start()
        for index in 0..<workers {
            let worker = Thread { [self] in
                workerLoop(index, workers: workers)
                // The committer leaves only after the queue is closed: one left is the committer.
                if counters.withLock({ $0.activeWorkers -= 1; return $0.activeWorkers }) == 1 { commits.close() }
            }
            worker.name = "convd-worker-\(index)"
            worker.start()
        }
        let committer = Thread { [self] in
            committerLoop(slot: workers)
            counters.withLock { $0.activeWorkers -= 1 }
        }
        committer.name = "convd-committer"
        committer.start()
    }

    /// SIGHUP: reopen the classification log and reload the config.
    private func listenForHangups() async {
        for await _ in await HangupSignals.sequence() {
            reload()
        }
    }

    /// Oneshot: wait until every job that can run has run; 1 if anything failed or is blocked.
    private func drainBacklog() async -> Int32 {
        while !stopRequested {
            try? await Task.sleep(nanoseconds: 50_000_000)
            keepUpWithFleet()  // heartbeats, rescue and listing go on in a one-shot run too
            guard events.isEmpty, let outstanding = try? ledger.outstanding(before: wallClock() + 10),
                  outstanding == 0 else { continue }
            break
        }
        let blocked = (try? ledger.blocked()) ?? []
        for b in blocked {
            logger.error("files left waiting", metadata: ["watch.name": "\(b.watch)", "count": "\(b.count)",
                                                          "reason": "\(b.reason)"])
        }
        let failed = counters.withLock { $0.failedThisRun }
        return failed > 0 || !blocked.isEmpty ? 1 : 0
    }

    private func shutdown(timeout: Double) async {
        notifier.notify("STOPPING=1\nEXTEND_TIMEOUT_USEC=\(Int64((timeout + 5) * 1_000_000))\n"
                        + "STATUS=\(SystemdNotifier.statusValue(snapshot(state: "stopping").summary))")
        logger.info("stopping: finishing jobs in flight", metadata: ["timeout": "\(timeout)"])
        for job in scheduler.stop() {
            try? ledger.requeue(job, readyAt: wallClock(), attempts: job.attempts)
        }
        let deadline = monotonicClock() + timeout
        while counters.withLock({ $0.activeWorkers }) > 0 && monotonicClock() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
            keepUpWithFleet()  // the jobs finishing keep their leases
        }
        let left = counters.withLock { $0.activeWorkers }
        if left > 0 {
            // Stopped, not crashed: the jobs still running run again at the next start.
            inflight?.clearAll()
            logger.warning("jobs still running at stop_timeout stay pending and run at the next start",
                           metadata: ["count": "\(left)"])
        }
        watcher?.stop()
        events.stop()
        _ = discoveryDone.wait(timeout: .now() + 5)
        ledger.leave()
        writeStatus(snapshot(state: "stopped"))
        writeMetrics()
        logger.info("stopped")
    }
}

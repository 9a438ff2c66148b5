//! Running agents as child processes: an argv (no shell), stdin from
//! /dev/null, each in its own process group, at most `jobs` at once. Two
//! reader threads per agent copy stdout and stderr into its log through a
//! fixed buffer (memory stays flat whatever the agent prints), a waiter
//! thread reaps it, and one supervisor loop enforces the timeout, the idle
//! timeout and the budget, and answers an interrupt: the whole group gets
//! SIGTERM, then SIGKILL after a grace period. Processes an agent leaves
//! behind in its group when it exits are stopped the same way. Where the
//! agent speaks an event stream, the stdout reader hands it to its adapter
//! ([`super::stream`]), and the supervisor reports what the agent is doing.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::adapters::Kind;
use super::event::{Observed, activity};
use super::stream::Stream;
use crate::config::Budget;

/// Most activity lines kept for one tick (the newest are dropped past it).
const MAX_ACTIVITY: usize = 64;

/// Size of each reader's copy buffer.
const BUFFER: usize = 64 * 1024;
/// How often the supervisor wakes to check deadlines and report progress.
const TICK: Duration = Duration::from_millis(100);
/// After SIGKILL, how long to wait for the pipes to close before giving up
/// on them (a process outside the group may hold them).
const PIPE_WAIT: Duration = Duration::from_secs(2);

/// One agent to run.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: String,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    /// The log file (created or truncated).
    pub log: PathBuf,
    /// The stream stdout speaks, read while it is logged; `None`: not read.
    pub adapter: Option<Kind>,
    /// Stop the agent past this usage (where its stream reports usage).
    pub budget: Option<Budget>,
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub jobs: usize,
    pub timeout: Option<Duration>,
    pub idle: Option<Duration>,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// Why `orch` stopped an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kill {
    /// It ran longer than the timeout.
    Timeout,
    /// It printed nothing for the idle timeout.
    Idle,
    /// `orch` was interrupted (Ctrl-C, SIGTERM or SIGHUP).
    Interrupted,
    /// Its usage passed its budget.
    Budget,
}

impl Kill {
    pub fn describe(self) -> &'static str {
        match self {
            Kill::Timeout => "timed out",
            Kill::Idle => "idle too long",
            Kill::Interrupted => "interrupted",
            Kill::Budget => "over budget",
        }
    }
}

/// How one agent ended.
#[derive(Clone, Debug)]
pub struct End {
    pub started: SystemTime,
    pub ended: SystemTime,
    pub duration: Duration,
    /// The exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    pub killed: Option<Kill>,
    /// It could not be started (or its log could not be created).
    pub spawn_error: Option<String>,
    /// Writing the log failed (the output was still drained).
    pub log_error: Option<String>,
    /// Bytes the agent printed (stdout and stderr).
    pub bytes: u64,
    /// Processes were left in its group after it exited, and were stopped.
    pub lingering: bool,
    /// The pipes stayed open after SIGKILL (a process outside the group
    /// holds them); the log may be incomplete.
    pub pipes_abandoned: bool,
    pub events: Option<Observed>,
    /// Why it was stopped over budget (`Kill::Budget`).
    pub over_budget: Option<String>,
}

impl End {
    /// The shell's `$?`: the exit code, or 128 + the signal.
    pub fn shell_code(&self) -> Option<i32> {
        self.code.or(self.signal.map(|s| 128 + s))
    }
}

/// What the supervisor reports as it goes.
pub enum Event<'a> {
    Started {
        job: usize,
        pid: u32,
    },
    Stopping {
        job: usize,
        why: Kill,
    },
    Finished {
        job: usize,
        end: &'a End,
    },
    /// What an agent is doing, from its stream: a command, a file change,
    /// a request for input. Every one is reported (a few per tick at most).
    Activity {
        job: usize,
        what: &'a str,
    },
    /// About every 100 ms: each running job's elapsed time, bytes printed
    /// and latest activity.
    Tick {
        running: &'a [(usize, Duration, u64, Option<String>)],
    },
}

/// What the stdout reader shares with the supervisor.
#[derive(Default)]
struct Watch {
    /// The latest usage (for the budget).
    usage: Option<super::event::Usage>,
    /// Everything observed, once the stream ended.
    observed: Observed,
    /// Activities not reported yet, oldest first.
    news: Vec<String>,
    latest: Option<String>,
}

enum Msg {
    Exited(usize, std::io::Result<ExitStatus>),
    ReaderDone(usize),
}

struct Live {
    job: usize,
    pid: i32,
    start: Instant,
    started: SystemTime,
    /// Milliseconds after `start` of the last output.
    last_output: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    readers_left: u8,
    status: Option<std::io::Result<ExitStatus>>,
    exited_at: Option<Instant>,
    killed: Option<Kill>,
    term_at: Option<Instant>,
    kill_at: Option<Instant>,
    lingering: bool,
    watch: Option<Arc<Mutex<Watch>>>,
    budget: Option<Budget>,
    over_budget: Option<String>,
    log_error: Arc<Mutex<Option<String>>>,
}

fn lock(w: &Mutex<Watch>) -> std::sync::MutexGuard<'_, Watch> {
    w.lock().unwrap_or_else(|p| p.into_inner())
}

/// Send `sig` (or probe, with `None`) to a process group. False when the
/// group no longer exists, or (probing, on Linux) holds only zombies: where
/// PID 1 does not reap orphans (some containers), dead members linger as
/// zombies, which are gone for every purpose here.
fn signal_group(pgid: i32, sig: Option<Signal>) -> bool {
    match killpg(Pid::from_raw(pgid), sig) {
        Ok(()) => sig.is_some() || has_live_member(pgid),
        Err(Errno::ESRCH) => false,
        Err(_) => true,
    }
}

/// Does a process of group `pgid` run (not a zombie)? Read from /proc;
/// without /proc, assume it does.
fn has_live_member(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parens.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
        if pgrp == Some(pgid) && state != "Z" && state != "X" {
            return true;
        }
    }
    false
}

/// Run every job, at most `limits.jobs` at once, in order. Returns each
/// job's end, or `None` for a job never started because `stop` was set.
pub fn run(
    jobs: &[Job],
    limits: Limits,
    stop: &AtomicBool,
    observe: &mut dyn FnMut(Event<'_>),
) -> Vec<Option<End>> {
    let mut ends: Vec<Option<End>> = (0..jobs.len()).map(|_| None).collect();
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut live: Vec<Live> = Vec::new();
    let mut next = 0;
    let mut last_tick = Instant::now();
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if !stopping && live.len() < limits.jobs.max(1) && next < jobs.len() {
            match spawn(next, &jobs[next], &tx) {
                Ok(l) => {
                    observe(Event::Started {
                        job: next,
                        pid: l.pid as u32,
                    });
                    live.push(l);
                }
                Err(end) => {
                    observe(Event::Finished {
                        job: next,
                        end: &end,
                    });
                    ends[next] = Some(*end);
                }
            }
            next += 1;
            continue;
        }
        if live.is_empty() && (stopping || next >= jobs.len()) {
            break;
        }
        let wait = deadline_wait(&live, limits).min(TICK);
        match rx.recv_timeout(wait) {
            Ok(msg) => apply(&mut live, msg),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {}
        }
        while let Ok(msg) = rx.try_recv() {
            apply(&mut live, msg);
        }
        let now = Instant::now();
        let stopping = stop.load(Ordering::SeqCst);
        for l in &mut live {
            if l.killed.is_none() && l.status.is_none() {
                let elapsed = now - l.start;
                let idle = elapsed
                    .saturating_sub(Duration::from_millis(l.last_output.load(Ordering::Relaxed)));
                let over = match (&l.watch, &l.budget) {
                    (Some(w), Some(b)) => lock(w)
                        .usage
                        .and_then(|u| b.exceeded(u.tokens(), u.cost_usd)),
                    _ => None,
                };
                let why = if stopping {
                    Some(Kill::Interrupted)
                } else if over.is_some() {
                    l.over_budget = over;
                    Some(Kill::Budget)
                } else if limits.timeout.is_some_and(|t| elapsed >= t) {
                    Some(Kill::Timeout)
                } else if limits.idle.is_some_and(|t| idle >= t) {
                    Some(Kill::Idle)
                } else {
                    None
                };
                if let Some(why) = why {
                    l.killed = Some(why);
                    observe(Event::Stopping { job: l.job, why });
                    signal_group(l.pid, Some(Signal::SIGTERM));
                    l.term_at = Some(now);
                }
            }
            // The agent exited: stop what it left in its group.
            if l.status.is_some() && l.term_at.is_none() && signal_group(l.pid, None) {
                l.lingering = true;
                signal_group(l.pid, Some(Signal::SIGTERM));
                l.term_at = Some(now);
            }
            if let Some(t) = l.term_at
                && l.kill_at.is_none()
                && now - t >= limits.grace
                && (l.status.is_none() || l.readers_left > 0 || signal_group(l.pid, None))
            {
                signal_group(l.pid, Some(Signal::SIGKILL));
                l.kill_at = Some(now);
            }
        }
        // Finish every job whose leader is reaped, whose pipes are closed
        // (or abandoned) and whose group is gone (or was killed).
        let mut i = 0;
        while i < live.len() {
            let l = &live[i];
            let abandoned = l.readers_left > 0
                && l.status.is_some()
                && l.kill_at.is_some_and(|k| now - k >= PIPE_WAIT);
            let group_done =
                l.term_at.is_none() || l.kill_at.is_some() || !signal_group(l.pid, None);
            if l.status.is_some() && (l.readers_left == 0 || abandoned) && group_done {
                let l = live.swap_remove(i);
                let job = l.job;
                report_news(&l, observe);
                let end = finish(l, abandoned);
                observe(Event::Finished { job, end: &end });
                ends[job] = Some(end);
            } else {
                i += 1;
            }
        }
        if now - last_tick >= TICK {
            last_tick = now;
            for l in &live {
                report_news(l, observe);
            }
            let running: Vec<(usize, Duration, u64, Option<String>)> = live
                .iter()
                .map(|l| {
                    (
                        l.job,
                        now - l.start,
                        l.bytes.load(Ordering::Relaxed),
                        l.watch.as_ref().and_then(|w| lock(w).latest.clone()),
                    )
                })
                .collect();
            observe(Event::Tick { running: &running });
        }
    }
    ends
}

/// Report the activities a job's stream produced since the last report.
fn report_news(l: &Live, observe: &mut dyn FnMut(Event<'_>)) {
    let Some(w) = &l.watch else { return };
    let news = std::mem::take(&mut lock(w).news);
    for what in &news {
        observe(Event::Activity { job: l.job, what });
    }
}

/// How long until the nearest deadline of a running job.
fn deadline_wait(live: &[Live], limits: Limits) -> Duration {
    let now = Instant::now();
    let mut wait = TICK;
    for l in live {
        if l.status.is_none() && l.killed.is_none() {
            // Checked: a deadline past what an Instant holds is never.
            let until = |at: Option<Instant>| at.map_or(TICK, |d| d.saturating_duration_since(now));
            if let Some(t) = limits.timeout {
                wait = wait.min(until(l.start.checked_add(t)));
            }
            if let Some(t) = limits.idle {
                let last = l
                    .start
                    .checked_add(Duration::from_millis(l.last_output.load(Ordering::Relaxed)));
                wait = wait.min(until(last.and_then(|last| last.checked_add(t))));
            }
        }
        if let Some(t) = l.term_at
            && l.kill_at.is_none()
        {
            wait = wait.min(
                t.checked_add(limits.grace)
                    .map_or(TICK, |d| d.saturating_duration_since(now)),
            );
        }
    }
    wait.max(Duration::from_millis(1))
}

fn apply(live: &mut [Live], msg: Msg) {
    match msg {
        Msg::Exited(job, status) => {
            if let Some(l) = live.iter_mut().find(|l| l.job == job) {
                l.status = Some(status);
                l.exited_at = Some(Instant::now());
            }
        }
        Msg::ReaderDone(job) => {
            if let Some(l) = live.iter_mut().find(|l| l.job == job) {
                l.readers_left = l.readers_left.saturating_sub(1);
            }
        }
    }
}

fn finish(l: Live, pipes_abandoned: bool) -> End {
    let ended = SystemTime::now();
    let exited = l.exited_at.unwrap_or_else(Instant::now);
    let (code, signal, wait_error) = match &l.status {
        Some(Ok(s)) => (s.code(), s.signal(), None),
        Some(Err(e)) => (None, None, Some(format!("cannot wait for the agent: {e}"))),
        None => (None, None, None),
    };
    let log_error = l
        .log_error
        .lock()
        .map(|e| e.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    End {
        started: l.started,
        ended,
        duration: exited - l.start,
        code,
        signal,
        killed: l.killed,
        spawn_error: wait_error,
        log_error,
        bytes: l.bytes.load(Ordering::Relaxed),
        lingering: l.lingering,
        pipes_abandoned,
        events: l.watch.map(|w| lock(&w).observed.clone()),
        over_budget: l.over_budget,
    }
}

/// Create (or empty) a log: never through a link or into a FIFO at its
/// name, which is replaced (the caller made its folder a real one).
fn create_log(log: &std::path::Path) -> crate::error::Result<File> {
    let folder = log.parent().unwrap_or(std::path::Path::new("."));
    crate::fsx::create_fresh(folder, log)
}

fn failed_start(job: &Job, why: String) -> Box<End> {
    let now = SystemTime::now();
    // Say why in the log too, when it can be written.
    if let Ok(mut f) = create_log(&job.log) {
        let _ = writeln!(f, "orch: cannot start `{}`: {why}", job.argv.join(" "));
    }
    Box::new(End {
        started: now,
        ended: now,
        duration: Duration::ZERO,
        code: None,
        signal: None,
        killed: None,
        spawn_error: Some(why),
        log_error: None,
        bytes: 0,
        lingering: false,
        pipes_abandoned: false,
        events: job
            .adapter
            .and_then(Kind::reader)
            .map(|_| Observed::default()),
        over_budget: None,
    })
}

fn spawn(index: usize, job: &Job, tx: &mpsc::Sender<Msg>) -> Result<Live, Box<End>> {
    let Some((program, args)) = job.argv.split_first() else {
        return Err(failed_start(job, "the agent command is empty".into()));
    };
    let log = create_log(&job.log).map_err(|e| {
        failed_start(
            job,
            format!("cannot create the log {}: {e}", job.log.display()),
        )
    })?;
    // A relative program path with a `/` is taken from the agent's folder.
    let program_path = if program.contains('/') && !program.starts_with('/') {
        job.cwd.join(program)
    } else {
        PathBuf::from(program)
    };
    let mut cmd = Command::new(&program_path);
    cmd.args(args)
        .current_dir(&job.cwd)
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let started = SystemTime::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| failed_start(job, format!("`{program}`: {e}")))?;
    let pid = child.id() as i32;
    let log = Arc::new(Mutex::new(log));
    let last_output = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let log_error = Arc::new(Mutex::new(None));
    let reader = job.adapter.and_then(Kind::reader);
    let watch = reader
        .is_some()
        .then(|| Arc::new(Mutex::new(Watch::default())));
    let mut reader = reader.map(|r| (Stream::new(r), watch.clone()));
    let mut readers = 0u8;
    let pump = |src: Box<dyn Read + Send>, stream: Option<(Stream, Option<Arc<Mutex<Watch>>>)>| {
        let (log, last, bytes, err, tx) = (
            Arc::clone(&log),
            Arc::clone(&last_output),
            Arc::clone(&bytes),
            Arc::clone(&log_error),
            tx.clone(),
        );
        std::thread::spawn(move || {
            copy(src, &log, &last, &bytes, &err, start, stream);
            let _ = tx.send(Msg::ReaderDone(index));
        })
    };
    if let Some(out) = child.stdout.take() {
        pump(Box::new(out), reader.take());
        readers += 1;
    }
    if let Some(err) = child.stderr.take() {
        pump(Box::new(err), None);
        readers += 1;
    }
    let waiter = tx.clone();
    std::thread::spawn(move || {
        let status = child.wait();
        let _ = waiter.send(Msg::Exited(index, status));
    });
    Ok(Live {
        job: index,
        pid,
        start,
        started,
        last_output,
        bytes,
        readers_left: readers,
        status: None,
        exited_at: None,
        killed: None,
        term_at: None,
        kill_at: None,
        lingering: false,
        watch,
        budget: job.budget.filter(|b| !b.is_empty()),
        over_budget: None,
        log_error,
    })
}

/// Copy a pipe into the shared log through a fixed buffer until EOF. A
/// failing log write is remembered once, and the pipe is still drained so
/// the agent never blocks on a full pipe.
fn copy(
    mut src: Box<dyn Read + Send>,
    log: &Mutex<File>,
    last: &AtomicU64,
    bytes: &AtomicU64,
    err: &Mutex<Option<String>>,
    start: Instant,
    mut stream: Option<(Stream, Option<Arc<Mutex<Watch>>>)>,
) {
    let mut buf = vec![0u8; BUFFER];
    // Each event updates what the supervisor sees: the observed facts (for
    // the budget) and the activities to report.
    let publish = |watch: &Option<Arc<Mutex<Watch>>>, o: &Observed, e: &super::event::Event| {
        let Some(w) = watch else { return };
        let mut w = lock(w);
        w.usage = o.usage;
        if let Some(a) = activity(e) {
            if w.news.len() < MAX_ACTIVITY {
                w.news.push(a.clone());
            }
            w.latest = Some(a);
        }
    };
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        last.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
        bytes.fetch_add(n as u64, Ordering::Relaxed);
        let written = match log.lock() {
            Ok(mut f) => f.write_all(&buf[..n]),
            Err(p) => p.into_inner().write_all(&buf[..n]),
        };
        if let Err(e) = written
            && let Ok(mut slot) = err.lock()
            && slot.is_none()
        {
            *slot = Some(e.to_string());
        }
        if let Some((s, watch)) = &mut stream {
            s.feed(&buf[..n], &mut |o, e| publish(watch, o, e));
        }
    }
    if let Some((mut s, watch)) = stream {
        s.finish(&mut |o, e| publish(&watch, o, e));
        if let Some(w) = &watch {
            lock(w).observed = s.observed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Not;

    fn job(dir: &std::path::Path, id: &str, script: &str) -> Job {
        Job {
            id: id.into(),
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: dir.to_path_buf(),
            env: Vec::new(),
            log: dir.join(format!("{id}.log")),
            adapter: None,
            budget: None,
        }
    }

    /// Gone, or a zombie nobody reaped.
    fn running(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rfind(')')
                    .map(|i| s[i + 1..].trim_start().starts_with(['Z', 'X']).not())
            })
            .unwrap_or(false)
    }

    fn limits() -> Limits {
        Limits {
            jobs: 2,
            timeout: None,
            idle: None,
            grace: Duration::from_millis(500),
        }
    }

    #[test]
    fn exit_codes_logs_and_a_missing_program() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut jobs = vec![
            job(dir.path(), "a", "echo out; echo err >&2; exit 3"),
            job(dir.path(), "b", "read x; echo \"read=$?\""),
        ];
        jobs.push(Job {
            argv: vec!["/nonexistent/agent".into()],
            ..job(dir.path(), "c", "")
        });
        let stop = AtomicBool::new(false);
        let ends = run(&jobs, limits(), &stop, &mut |_| {});
        let a = ends[0].as_ref().expect("a ran");
        assert_eq!(a.code, Some(3));
        let log = std::fs::read_to_string(dir.path().join("a.log")).expect("log");
        assert!(log.contains("out\n") && log.contains("err\n"), "{log}");
        // stdin is /dev/null: `read` sees EOF at once and fails.
        let log = std::fs::read_to_string(dir.path().join("b.log")).expect("log");
        assert_eq!(log, "read=1\n");
        let c = ends[2].as_ref().expect("c reported");
        assert!(c.spawn_error.is_some());
    }

    #[test]
    fn a_timeout_kills_the_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let jobs = [job(dir.path(), "t", "sleep 30 & echo $! > child.pid; wait")];
        let stop = AtomicBool::new(false);
        let l = Limits {
            timeout: Some(Duration::from_millis(300)),
            ..limits()
        };
        let t = Instant::now();
        let ends = run(&jobs, l, &stop, &mut |_| {});
        assert!(t.elapsed() < Duration::from_secs(5));
        let end = ends[0].as_ref().expect("ran");
        assert_eq!(end.killed, Some(Kill::Timeout));
        let pid: i32 = std::fs::read_to_string(dir.path().join("child.pid"))
            .expect("pid")
            .trim()
            .parse()
            .expect("number");
        assert!(!running(pid), "the agent's child survived");
    }
}

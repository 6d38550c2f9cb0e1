//! Synchronisation exercises (notebook 04b): the orderings that publish data
//! through a flag (4b.1), a histogram from per-thread partials (4b.2), a
//! transfer between two locked accounts that cannot deadlock (4b.3), and a
//! ring exchange between blocking "ranks" that cannot deadlock either (4b.4).
//!
//! A deadlocked solution never hangs the notebook: its threads run detached
//! while the checker watches their progress, and when none is made for
//! [`STALL`] the checker reports "deadlocked: …" and returns. The stuck
//! threads stay blocked — they hold only their own locks and channels, and
//! use no CPU — until the kernel restarts.
//!
//! [`Rank`] and [`run_ranks`] model MPI's blocking point-to-point messages
//! with rendezvous channels, for notebooks built without MPI; [`within`] runs
//! any closure with a bounded wait.
//!
//! ```
//! use parlab::exercise::{self, Rank};
//! // Everyone sends first: with blocking sends nobody is receiving.
//! let stuck = exercise::run_ranks(2, |r: &Rank| {
//!     r.send((r.rank() + 1) % r.size(), 7);
//!     r.recv((r.rank() + 1) % r.size())
//! });
//! assert!(stuck.unwrap_err().starts_with("deadlocked"));
//! // MPI_Sendrecv's answer: both at once.
//! let ok = exercise::run_ranks(2, |r: &Rank| r.sendrecv((r.rank() + 1) % 2, r.rank() as u64, (r.rank() + 1) % 2));
//! assert_eq!(ok.unwrap(), vec![1, 0]);
//! ```

use super::{Check, Problem, call, finish};
use crate::timing::stats::SplitMix64;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Work that makes no progress for this long is reported as deadlocked.
pub const STALL: Duration = Duration::from_secs(2);

type Job<R> = Box<dyn FnOnce() -> R + Send>;

/// How work on detached threads ended.
enum Watched<R> {
    /// Every job returned, in job order.
    Done(Vec<R>),
    /// A job panicked (its index and message); the others have ended too.
    Panicked(usize, String),
    /// No progress for the stall limit; `ended` jobs had returned.
    Stalled { ended: Vec<bool> },
}

/// Runs each job on a detached thread and waits until all have ended, or
/// until `progress` has not changed for `stall`. The calling thread holds a
/// quiet panic hook all the while ([`crate::catch::catch_panic`]), so a
/// job's panic prints nothing; the jobs catch their own panics without
/// touching the hook, so a job that never ends leaves it as it was.
fn watch<R: Send + 'static>(
    jobs: Vec<Job<R>>,
    progress: Arc<AtomicU64>,
    stall: Duration,
) -> Watched<R> {
    let n = jobs.len();
    let watched = crate::catch::catch_panic(move || {
        let (tx, rx) = std::sync::mpsc::channel();
        for (k, job) in jobs.into_iter().enumerate() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                    .map_err(|p| crate::catch::payload_message(&*p));
                let _ = tx.send((k, out));
            });
        }
        drop(tx);
        let mut results: Vec<Option<Result<R, String>>> = (0..n).map(|_| None).collect();
        let (mut seen, mut since) = (progress.load(Ordering::Relaxed), Instant::now());
        let mut left = n;
        while left > 0 {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok((k, out)) => {
                    results[k] = Some(out);
                    left -= 1;
                    since = Instant::now();
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    let now = progress.load(Ordering::Relaxed);
                    if now != seen {
                        (seen, since) = (now, Instant::now());
                    } else if since.elapsed() >= stall {
                        return Watched::Stalled {
                            ended: results.iter().map(Option::is_some).collect(),
                        };
                    }
                }
            }
        }
        let mut done = Vec::with_capacity(n);
        for (k, r) in results.into_iter().enumerate() {
            match r {
                Some(Ok(v)) => done.push(v),
                Some(Err(msg)) => return Watched::Panicked(k, msg),
                None => return Watched::Panicked(k, "the thread ended without a result".into()),
            }
        }
        Watched::Done(done)
    });
    watched.unwrap_or_else(|msg| Watched::Panicked(0, msg))
}

/// Runs `f` on a thread of its own and waits at most `limit` for it: `Ok`
/// with its result, or `Err("deadlocked: …")` when it has not returned by
/// then (the thread is left blocked), or `Err` with the message of its panic.
/// For demonstrations that must not hang a notebook.
///
/// ```
/// use std::time::Duration;
/// let r = parlab::exercise::within(Duration::from_millis(100), || std::thread::park());
/// assert!(r.unwrap_err().starts_with("deadlocked"));
/// assert_eq!(parlab::exercise::within(Duration::from_secs(5), || 6 * 7), Ok(42));
/// ```
pub fn within<R: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    // Nothing counts as progress: the wait is bounded by `limit` alone.
    match watch(
        vec![Box::new(f) as Job<R>],
        Arc::new(AtomicU64::new(0)),
        limit,
    ) {
        Watched::Done(mut v) => Ok(v.remove(0)),
        Watched::Panicked(_, msg) => Err(format!("panicked: {msg}")),
        Watched::Stalled { .. } => Err(format!(
            "deadlocked: no result after {:.1} s; the thread stays blocked until the kernel restarts",
            limit.as_secs_f64()
        )),
    }
}

// ---------------------------------------------------------------- ranks --

const RUNNING: u64 = 0;
const IN_SEND: u64 = 1;
const IN_RECV: u64 = 2;
const FINISHED: u64 = 3;

/// Where one rank is: running its own code, blocked in `send`/`recv` (with
/// the peer), or finished.
fn encode(what: u64, peer: usize) -> u64 {
    (what << 32) | peer as u64
}

/// One "rank" of a message-passing program modelled with threads: point-to-
/// point messages of one `u64` over **rendezvous** channels, so that
/// [`send`](Rank::send) blocks until the receiver has called
/// [`recv`](Rank::recv) — the behaviour of `MPI_Ssend`, and of `MPI_Send` for
/// a message too large for MPI's buffers. Run ranks with [`run_ranks`].
pub struct Rank {
    rank: usize,
    size: usize,
    to: Vec<SyncSender<u64>>,
    from: Vec<Receiver<u64>>,
    state: Arc<Vec<AtomicU64>>,
    progress: Arc<AtomicU64>,
    used_sendrecv: Arc<AtomicBool>,
}

impl Rank {
    /// This rank's number, `0..size()`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// How many ranks there are.
    pub fn size(&self) -> usize {
        self.size
    }

    fn set(&self, what: u64, peer: usize) {
        self.state[self.rank].store(encode(what, peer), Ordering::Relaxed);
    }

    fn peer(&self, peer: usize, verb: &str) {
        assert!(
            peer < self.size,
            "rank {}: {verb} rank {peer}, but the ranks are 0..{}",
            self.rank,
            self.size
        );
    }

    /// Sends `value` to rank `to` and returns when `to` has received it.
    ///
    /// # Panics
    /// When `to` is not a rank, or has finished without receiving it.
    pub fn send(&self, to: usize, value: u64) {
        self.peer(to, "send to");
        self.set(IN_SEND, to);
        if self.to[to].send(value).is_err() {
            panic!("rank {}: send to rank {to}, which has finished", self.rank);
        }
        self.progress.fetch_add(1, Ordering::Relaxed);
        self.set(RUNNING, 0);
    }

    /// Waits for the next value from rank `from`.
    ///
    /// # Panics
    /// When `from` is not a rank, or has finished without sending.
    pub fn recv(&self, from: usize) -> u64 {
        self.peer(from, "receive from");
        self.set(IN_RECV, from);
        let v = self.from[from].recv().unwrap_or_else(|_| {
            panic!(
                "rank {}: receive from rank {from}, which has finished",
                self.rank
            )
        });
        self.progress.fetch_add(1, Ordering::Relaxed);
        self.set(RUNNING, 0);
        v
    }

    /// Sends `value` to `to` and receives from `from` at the same time, as
    /// `MPI_Sendrecv` does: the send runs on a second thread while this one
    /// receives, so a ring of ranks that all call it cannot deadlock.
    pub fn sendrecv(&self, to: usize, value: u64, from: usize) -> u64 {
        self.peer(to, "send to");
        self.peer(from, "receive from");
        self.used_sendrecv.store(true, Ordering::Relaxed);
        let tx = &self.to[to];
        let rank = self.rank;
        let progress = &self.progress;
        std::thread::scope(|s| {
            s.spawn(move || {
                if tx.send(value).is_err() {
                    panic!("rank {rank}: send to rank {to}, which has finished");
                }
                progress.fetch_add(1, Ordering::Relaxed);
            });
            self.recv(from)
        })
    }
}

/// The ranks of one run, and what they share with the watcher.
struct World {
    ranks: Vec<Rank>,
    state: Arc<Vec<AtomicU64>>,
    progress: Arc<AtomicU64>,
    used_sendrecv: Arc<AtomicBool>,
}

fn world(size: usize) -> World {
    let state: Arc<Vec<AtomicU64>> = Arc::new((0..size).map(|_| AtomicU64::new(RUNNING)).collect());
    let progress = Arc::new(AtomicU64::new(0));
    let used_sendrecv = Arc::new(AtomicBool::new(false));
    // channel[s][d]: from rank s to rank d.
    let mut senders: Vec<Vec<Option<SyncSender<u64>>>> = (0..size)
        .map(|_| (0..size).map(|_| None).collect())
        .collect();
    let mut receivers: Vec<Vec<Option<Receiver<u64>>>> = (0..size)
        .map(|_| (0..size).map(|_| None).collect())
        .collect();
    for (s, row) in senders.iter_mut().enumerate() {
        for (d, slot) in row.iter_mut().enumerate() {
            let (tx, rx) = sync_channel(0);
            *slot = Some(tx);
            receivers[d][s] = Some(rx);
        }
    }
    let ranks = senders
        .into_iter()
        .zip(receivers)
        .enumerate()
        .map(|(rank, (to, from))| Rank {
            rank,
            size,
            to: to.into_iter().flatten().collect(),
            from: from.into_iter().flatten().collect(),
            state: Arc::clone(&state),
            progress: Arc::clone(&progress),
            used_sendrecv: Arc::clone(&used_sendrecv),
        })
        .collect();
    World {
        ranks,
        state,
        progress,
        used_sendrecv,
    }
}

fn describe(state: &[AtomicU64], ended: &[bool]) -> String {
    state
        .iter()
        .enumerate()
        .map(|(r, s)| {
            let s = s.load(Ordering::Relaxed);
            let peer = s & 0xffff_ffff;
            match s >> 32 {
                _ if ended.get(r).copied().unwrap_or(false) => format!("rank {r} had finished"),
                IN_SEND => format!("rank {r} waits in `send` to rank {peer}"),
                IN_RECV => format!("rank {r} waits in `recv` from rank {peer}"),
                FINISHED => format!("rank {r} had finished"),
                _ => format!("rank {r} runs its own code"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn all_in(state: &[AtomicU64], what: u64) -> bool {
    state
        .iter()
        .all(|s| s.load(Ordering::Relaxed) >> 32 == what)
}

/// How a run of ranks ended, for the checker.
enum RanksOutcome<R> {
    Done(Vec<R>, bool),
    Panicked(usize, String),
    Deadlocked(String, Arc<Vec<AtomicU64>>),
}

fn ranks_run<R: Send + 'static>(
    size: usize,
    f: Arc<dyn Fn(&Rank) -> R + Send + Sync>,
) -> RanksOutcome<R> {
    let World {
        ranks,
        state,
        progress,
        used_sendrecv,
    } = world(size);
    let jobs: Vec<Job<R>> = ranks
        .into_iter()
        .map(|rank| {
            let f = Arc::clone(&f);
            Box::new(move || {
                let out = f(&rank);
                rank.set(FINISHED, 0);
                out
            }) as Job<R>
        })
        .collect();
    match watch(jobs, progress, STALL) {
        Watched::Done(v) => RanksOutcome::Done(v, used_sendrecv.load(Ordering::Relaxed)),
        Watched::Panicked(k, msg) => RanksOutcome::Panicked(k, msg),
        Watched::Stalled { ended } => {
            let text = describe(&state, &ended);
            RanksOutcome::Deadlocked(text, state)
        }
    }
}

/// Runs `f` on `size` ranks ([`Rank`]), each on a thread of its own, and
/// returns their results in rank order — or `Err("deadlocked: …")`, naming
/// where each rank waits, when no message has moved for [`STALL`] (the
/// ranks are left blocked), or `Err` naming a rank that panicked.
pub fn run_ranks<R: Send + 'static>(
    size: usize,
    f: impl Fn(&Rank) -> R + Send + Sync + 'static,
) -> Result<Vec<R>, String> {
    match ranks_run(size, Arc::new(f)) {
        RanksOutcome::Done(v, _) => Ok(v),
        RanksOutcome::Panicked(k, msg) => Err(format!("rank {k} panicked: {msg}")),
        RanksOutcome::Deadlocked(text, _) => Err(format!(
            "deadlocked: no message moved for {:.0} s — {text}",
            STALL.as_secs_f64()
        )),
    }
}

// ------------------------------------------------------------ exercises --

/// Exercise 4b.1: `flag_orderings()` returns the orderings of the flag's
/// store (by the writer, after it wrote the data) and of the flag's load (by
/// the reader, before it reads the data) that make the data visible to a
/// reader who sees the flag: `(Release, Acquire)`. Relaxed on either side,
/// and orderings a store or a load cannot have, are named.
pub fn check_flag_orderings(f: impl Fn() -> (Ordering, Ordering)) -> Check {
    let outcome = call(&f, "your orderings").and_then(|(store, load)| {
        use Ordering::*;
        let store_ok = matches!(store, Release | SeqCst);
        let load_ok = matches!(load, Acquire | SeqCst);
        match (store, load) {
            (Acquire | AcqRel, _) => Err(Problem::Wrong(format!(
                "the flag's store is `{store:?}`: a store cannot acquire — `store(true, \
                 Ordering::{store:?})` panics. The writer *releases* what it wrote before the flag: `Release`"
            ))),
            (_, Release | AcqRel) => Err(Problem::Wrong(format!(
                "the flag's load is `{load:?}`: a load cannot release — `load(Ordering::{load:?})` \
                 panics. The reader *acquires* what was released with the flag: `Acquire`"
            ))),
            (Relaxed, _) => Err(Problem::Wrong(
                "the flag's store is `Relaxed`: it is atomic, but promises nothing about the writes \
                 before it — the compiler or the CPU may let the flag become visible before the \
                 data, and a reader that sees `true` reads stale data. Store it with `Release`"
                    .into(),
            )),
            (_, Relaxed) => Err(Problem::Wrong(
                "the flag's load is `Relaxed`: the reader may read the data *before* it sees the \
                 flag (its reads can be reordered before the load), so a Release store alone is \
                 not enough. Load it with `Acquire`: Release pairs with Acquire"
                    .into(),
            )),
            _ if store_ok && load_ok => Ok(if store == Release && load == Acquire {
                "`Release` on the store, `Acquire` on the load: every write before the store is \
                 visible to a reader whose load sees it"
                    .to_string()
            } else {
                format!(
                    "`{store:?}` / `{load:?}` is correct: `SeqCst` includes Release and Acquire, and \
                     adds one order of all SeqCst operations that a single flag does not need — \
                     `Release` / `Acquire` is enough"
                )
            }),
            _ => Err(Problem::Wrong(format!("`{store:?}` / `{load:?}`: the store needs `Release`, the load `Acquire`"))),
        }
    });
    finish("4b.1 flag_orderings", "flag_orderings", outcome)
}

fn histogram_of(data: &[u8]) -> Vec<u64> {
    let mut h = vec![0u64; 256];
    for &v in data {
        h[v as usize] += 1;
    }
    h
}

fn histogram_data(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    // Skewed: small values are more frequent, so that bins differ.
    (0..n)
        .map(|_| {
            let z = rng.next_u64();
            (((z & 0xff) * ((z >> 8) & 0xff)) >> 8) as u8
        })
        .collect()
}

/// Exercise 4b.2: `histogram(data, threads)` counts how often each byte value
/// occurs in `data` (256 bins) on `threads` threads: a partial histogram per
/// thread, added together at the end. The checker names counts lost to a
/// load-then-store race, a remainder dropped, partials overwritten instead of
/// added, elements counted twice, and a histogram computed on the calling
/// thread alone.
pub fn check_histogram(f: impl Fn(&[u8], usize) -> Vec<u64>) -> Check {
    let outcome = (|| {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("an empty slice", vec![]),
            ("one byte", vec![200]),
            ("1 000 003 copies of 255", vec![255; 1_000_003]),
            ("1 000 003 random bytes", histogram_data(1_000_003, 7)),
        ];
        for (name, data) in &cases {
            let expect = histogram_of(data);
            let n = data.len() as u64;
            for threads in 1..=4 {
                let case = format!("{name} on {threads} thread(s)");
                let got = call(|| f(data, threads), &case)?;
                if got.len() != 256 {
                    return Err(Problem::Wrong(format!(
                        "{case}: you returned {} bins, a byte has 256 values",
                        got.len()
                    )));
                }
                if got == expect {
                    continue;
                }
                let total: u64 = got.iter().sum();
                let chunks = crate::par::chunk_ranges(data.len(), threads);
                let whole = data.len() / threads * threads;
                let wrong = if threads > 1
                    && chunks.iter().any(|r| {
                        !r.is_empty()
                            && r.len() < data.len()
                            && histogram_of(&data[r.clone()]) == got
                    }) {
                    format!(
                        "{case}: your histogram is one thread's partial histogram ({total} of {n} \
                         elements): the other threads' partials were overwritten or dropped. Add \
                         every partial into the result, bin by bin"
                    )
                } else if total < n && whole < data.len() && histogram_of(&data[..whole]) == got {
                    format!(
                        "{case}: the last {} elements were not counted: chunks of `len / threads` \
                         drop the remainder. Use `chunks(len.div_ceil(threads))` or \
                         `parlab::par::chunk_ranges`",
                        data.len() - whole
                    )
                } else if total < n {
                    format!(
                        "{case}: {total} of {n} elements were counted — {} increments were lost. \
                         `let c = bin.load(..); bin.store(c + 1, ..)` is two steps: two threads \
                         read the same count and one increment vanishes. Use `fetch_add` — or, \
                         faster, a partial histogram per thread, added at the end",
                        n - total
                    )
                } else if total > n {
                    format!(
                        "{case}: {total} counts for {n} elements: some elements were counted twice \
                         — do the threads' parts overlap, or is a partial added twice?"
                    )
                } else {
                    let b = (0..256).find(|&b| got[b] != expect[b]).unwrap_or(0);
                    format!(
                        "{case}: the counts add up, but bin {b} holds {} and value {b} occurs {} \
                         times: is value `v` counted into bin `v`?",
                        got[b], expect[b]
                    )
                };
                return Err(Problem::Wrong(wrong));
            }
        }
        let big = &cases[3].1;
        if super::observe::ran_on_calling_thread(3, || {
            call(|| f(big, 2), "a run on 2 threads").is_ok()
        }) == Some(true)
        {
            return Err(Problem::Wrong(
                "every count is right, but all the work ran on the calling thread: count the \
                 parts on `threads` threads (`std::thread::scope` and `s.spawn`, one partial each)"
                    .into(),
            ));
        }
        Ok(
            "the right 256 counts on 1–4 threads for every case, computed on several threads"
                .to_string(),
        )
    })();
    finish("4b.2 histogram", "histogram", outcome)
}

/// Exercise 4b.3: `transfer(accounts, from, to, amount)` moves `amount` from
/// `accounts[from]` to `accounts[to]`, holding both locks while it does, so
/// that the total never looks wrong — and cannot deadlock: with one thread
/// moving money 0 → 1 and another 1 → 0, locking `from` then `to` deadlocks.
/// The checker runs the student's function on detached threads and reports
/// "deadlocked: …" when they stop making progress (never hangs); an auditor
/// thread, which never blocks, checks the total while they run.
pub fn check_transfer<F>(f: F) -> Check
where
    F: Fn(&[Mutex<i64>], usize, usize, i64) + Send + Sync + 'static,
{
    let f = Arc::new(f);
    let outcome = transfer_outcome(f);
    finish("4b.3 transfer", "transfer", outcome)
}

fn balances(accounts: &[Mutex<i64>]) -> Vec<i64> {
    accounts
        .iter()
        .map(|m| *m.lock().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

fn not_done_or(msg: String, case: &str) -> Problem {
    if msg.starts_with("not yet implemented") || msg.starts_with("not implemented") {
        Problem::NotDone
    } else {
        Problem::Wrong(format!("your function panicked on {case}: {msg}"))
    }
}

type Transfer = dyn Fn(&[Mutex<i64>], usize, usize, i64) + Send + Sync;

fn transfer_outcome(f: Arc<Transfer>) -> Result<String, Problem> {
    // One thread, two simple cases: the direction, and from == to.
    for (from, to, amount, expect, what) in [
        (
            0usize,
            2usize,
            30i64,
            vec![70i64, 50, 30],
            "`transfer(accounts, 0, 2, 30)` on [100, 50, 0]",
        ),
        (
            1,
            1,
            5,
            vec![100, 50, 0],
            "`transfer(accounts, 1, 1, 5)` on [100, 50, 0]",
        ),
    ] {
        let accounts: Arc<Vec<Mutex<i64>>> =
            Arc::new([100, 50, 0].into_iter().map(Mutex::new).collect());
        let (f2, acc) = (Arc::clone(&f), Arc::clone(&accounts));
        let progress = Arc::new(AtomicU64::new(0));
        match watch(
            vec![Box::new(move || f2(&acc, from, to, amount)) as Job<()>],
            progress,
            STALL,
        ) {
            Watched::Done(_) => {}
            Watched::Panicked(_, msg) if from == to && !msg.starts_with("not yet") => {
                return Err(Problem::Wrong(format!(
                    "{what} panicked ({msg}): it locks account 1 twice, and a `std::sync::Mutex` is \
                     not re-entrant. When `from == to` there is nothing to move: return first"
                )));
            }
            Watched::Panicked(_, msg) => return Err(not_done_or(msg, what)),
            Watched::Stalled { .. } if from == to => {
                return Err(Problem::Wrong(format!(
                    "deadlocked: {what} never returned — it locks account 1 twice, and a \
                     `std::sync::Mutex` is not re-entrant: the second `lock()` waits for the first \
                     forever. When `from == to` there is nothing to move: return first"
                )));
            }
            Watched::Stalled { .. } => {
                return Err(Problem::Wrong(format!(
                    "deadlocked: {what} never returned, alone on one thread — does it lock an account twice?"
                )));
            }
        }
        let got = balances(&accounts);
        if got != expect {
            return Err(Problem::Wrong(format!(
                "after {what} the balances are {got:?}, they should be {expect:?}{}",
                if got == [130, 50, -30] {
                    ": the money went the other way — subtract from `from`, add to `to`"
                } else {
                    ""
                }
            )));
        }
    }
    // Two threads in opposite directions, and an auditor.
    const EACH: u64 = 50_000;
    const START: i64 = 1_000_000;
    let accounts: Arc<Vec<Mutex<i64>>> = Arc::new((0..2).map(|_| Mutex::new(START)).collect());
    let progress = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let job = |from: usize, to: usize| -> Job<Option<i64>> {
        let (f, acc, progress) = (Arc::clone(&f), Arc::clone(&accounts), Arc::clone(&progress));
        Box::new(move || {
            for _ in 0..EACH {
                f(&acc, from, to, 1);
                progress.fetch_add(1, Ordering::Relaxed);
            }
            None
        })
    };
    let auditor: Job<Option<i64>> = {
        let (acc, stop) = (Arc::clone(&accounts), Arc::clone(&stop));
        Box::new(move || {
            // try_lock only: the auditor never waits, so it cannot take part in a deadlock.
            while !stop.load(Ordering::Relaxed) {
                if let (Ok(a), Ok(b)) = (acc[0].try_lock(), acc[1].try_lock()) {
                    let total = *a + *b;
                    if total != 2 * START {
                        return Some(total);
                    }
                }
                std::thread::yield_now();
            }
            None
        })
    };
    // The auditor runs in the same watch and is stopped by a fourth job once
    // the movers' progress has reached its end (or stopped moving).
    let ender: Job<Option<i64>> = {
        let (progress, stop) = (Arc::clone(&progress), Arc::clone(&stop));
        Box::new(move || {
            let mut last = (progress.load(Ordering::Relaxed), Instant::now());
            while progress.load(Ordering::Relaxed) < 2 * EACH {
                let now = progress.load(Ordering::Relaxed);
                if now != last.0 {
                    last = (now, Instant::now());
                } else if last.1.elapsed() > STALL + STALL {
                    break; // the movers are stuck: the watcher reports it
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            stop.store(true, Ordering::Relaxed);
            None
        })
    };
    let case = "two threads moving 1 at a time, one 0 → 1 and one 1 → 0";
    match watch(
        vec![job(0, 1), job(1, 0), auditor, ender],
        Arc::clone(&progress),
        STALL,
    ) {
        Watched::Done(v) => {
            if let Some(total) = v[2] {
                return Err(Problem::Wrong(format!(
                    "{case}: an auditor holding both accounts saw a total of {total}, not {}: the \
                     money was in neither account — you released one lock before taking the \
                     other. Hold both locks while you move the money",
                    2 * START
                )));
            }
        }
        Watched::Panicked(_, msg) => {
            stop.store(true, Ordering::Relaxed);
            return Err(not_done_or(msg, case));
        }
        Watched::Stalled { .. } => {
            stop.store(true, Ordering::Relaxed);
            let done = progress.load(Ordering::Relaxed);
            return Err(Problem::Wrong(format!(
                "deadlocked after {done} of {} transfers ({case}): each thread locked its `from` \
                 account and waits for its `to` account, which the other thread holds — forever. \
                 Lock the two accounts in one order for every thread (the lower index first), \
                 whichever is `from`",
                2 * EACH
            )));
        }
    }
    let got = balances(&accounts);
    if got != [START, START] {
        return Err(Problem::Wrong(format!(
            "{case}: equal numbers of transfers each way should leave [{START}, {START}], they left {got:?}"
        )));
    }
    Ok(format!(
        "right on one thread, `from == to` returns, and {} transfers in opposite directions \
         finished with the total always {} — no deadlock",
        2 * EACH,
        2 * START
    ))
}

/// Exercise 4b.4: `ring_shift(rank, value)` runs on every [`Rank`] of a ring:
/// each rank sends its `value` to its right neighbour `(r + 1) % size` and
/// returns the value of its left neighbour `(r + size − 1) % size`, using
/// only the blocking [`Rank::send`] and [`Rank::recv`] (not `sendrecv`). Run
/// on 2, 3 and 4 ranks, 20 rounds each; everyone sending first deadlocks
/// and is reported as "deadlocked: …", never hangs.
pub fn check_ring_shift<F>(f: F) -> Check
where
    F: Fn(&Rank, u64) -> u64 + Send + Sync + 'static,
{
    let f = Arc::new(f);
    let outcome = (|| {
        const ROUNDS: u64 = 20;
        for size in [2usize, 3, 4] {
            let g = Arc::clone(&f);
            let run = ranks_run(
                size,
                Arc::new(move |r: &Rank| -> Vec<u64> {
                    (0..ROUNDS)
                        .map(|k| g(r, 1000 * k + r.rank() as u64))
                        .collect()
                }),
            );
            let case = format!("{size} ranks");
            match run {
                RanksOutcome::Done(got, used) => {
                    if used {
                        return Err(Problem::Wrong(format!(
                            "{case}: right, but with `sendrecv`: this exercise asks for the order of \
                             `send` and `recv` that cannot deadlock — what you write where there is \
                             no Sendrecv (blocking channels, a pipeline)"
                        )));
                    }
                    for (r, values) in got.iter().enumerate() {
                        let left = (r + size - 1) % size;
                        for (k, &v) in values.iter().enumerate() {
                            let want = 1000 * k as u64 + left as u64;
                            if v != want {
                                let from = v % 1000;
                                return Err(Problem::Wrong(format!(
                                    "{case}, round {k}: rank {r} returned {v}{}, it should get {want}, \
                                     the value of its left neighbour rank {left}: send to \
                                     `(rank + 1) % size`, receive from `(rank + size - 1) % size`",
                                    if v / 1000 == k as u64 && (from as usize) < size {
                                        format!(", the value of rank {from}")
                                    } else {
                                        String::new()
                                    }
                                )));
                            }
                        }
                    }
                }
                RanksOutcome::Panicked(k, msg) => {
                    return Err(not_done_or(msg, &format!("{case} (rank {k})")));
                }
                RanksOutcome::Deadlocked(text, state) => {
                    let why = if all_in(&state, IN_SEND) {
                        "every rank called `send` first. A blocking send returns only when its \
                         receiver calls `recv` (a rendezvous, like `MPI_Ssend` — and `MPI_Send` \
                         of a large message), and no rank is receiving. Break the cycle: even \
                         ranks send then receive, odd ranks receive then send (in MPI: one \
                         `MPI_Sendrecv`)"
                    } else if all_in(&state, IN_RECV) {
                        "every rank waits in `recv`, so no one ever sends: let even ranks send \
                         first and odd ranks receive first"
                    } else {
                        "the ranks wait for each other in a cycle: each send must meet a receive \
                         in the same order on both sides — even ranks send first, odd ranks \
                         receive first"
                    };
                    return Err(Problem::Wrong(format!(
                        "deadlocked on {case} (no message moved for {:.0} s): {text} — {why}",
                        STALL.as_secs_f64()
                    )));
                }
            }
        }
        Ok(format!(
            "on 2, 3 and 4 ranks, {ROUNDS} rounds each, every rank got its left neighbour's \
             value, with blocking `send`/`recv` and no deadlock"
        ))
    })();
    finish("4b.4 ring_shift", "ring_shift", outcome)
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;

    #[test]
    fn orderings_name_the_mistake() {
        use Ordering::*;
        assert_eq!(
            check_flag_orderings(|| (Release, Acquire)).status,
            Status::Passed
        );
        assert_eq!(
            check_flag_orderings(|| (SeqCst, SeqCst)).status,
            Status::Passed
        );
        let relaxed = check_flag_orderings(|| (Relaxed, Relaxed));
        assert_eq!(relaxed.status, Status::Failed);
        assert!(
            relaxed.message.contains("store is `Relaxed`"),
            "{}",
            relaxed.message
        );
        let load = check_flag_orderings(|| (Release, Relaxed));
        assert!(
            load.message.contains("load is `Relaxed`"),
            "{}",
            load.message
        );
        let swapped = check_flag_orderings(|| (Acquire, Release));
        assert!(
            swapped.message.contains("cannot acquire"),
            "{}",
            swapped.message
        );
        assert_eq!(
            check_flag_orderings(|| -> (Ordering, Ordering) { todo!() }).status,
            Status::NotDone
        );
    }

    fn good_histogram(data: &[u8], threads: usize) -> Vec<u64> {
        let chunk = data.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let parts: Vec<_> = data
                .chunks(chunk)
                .map(|p| s.spawn(move || histogram_of(p)))
                .collect();
            let mut h = vec![0u64; 256];
            for p in parts {
                for (t, c) in h.iter_mut().zip(p.join().unwrap()) {
                    *t += c;
                }
            }
            h
        })
    }

    #[test]
    fn histogram_accepts_partials_and_names_the_mistakes() {
        assert_eq!(check_histogram(good_histogram).status, Status::Passed);
        assert_eq!(
            check_histogram(|_, _| -> Vec<u64> { todo!() }).status,
            Status::NotDone
        );
        // The last thread's partial overwrites the others.
        let overwrite = check_histogram(|data: &[u8], threads: usize| {
            let chunk = data.len().div_ceil(threads).max(1);
            let out = Mutex::new(vec![0u64; 256]);
            std::thread::scope(|s| {
                for p in data.chunks(chunk) {
                    let out = &out;
                    s.spawn(move || *out.lock().unwrap() = histogram_of(p));
                }
            });
            out.into_inner().unwrap()
        });
        assert_eq!(overwrite.status, Status::Failed);
        assert!(
            overwrite.message.contains("one thread's partial"),
            "{}",
            overwrite.message
        );
        // Chunks of len / threads.
        let remainder = check_histogram(|data: &[u8], threads: usize| {
            let chunk = data.len() / threads;
            good_histogram(&data[..chunk * threads], threads)
        });
        assert!(
            remainder.message.contains("remainder"),
            "{}",
            remainder.message
        );
        // Lost updates, made certain: one increment in ten is dropped.
        let lost = check_histogram(|data: &[u8], threads: usize| {
            let mut h = good_histogram(data, threads);
            if data.len() > 10 {
                h[data[0] as usize] -= 1;
            }
            h
        });
        assert!(
            lost.message.contains("increments were lost"),
            "{}",
            lost.message
        );
        let twice = check_histogram(|data: &[u8], threads: usize| {
            let mut h = good_histogram(data, threads);
            if let Some(&v) = data.first() {
                h[v as usize] += 1;
            }
            h
        });
        assert!(twice.message.contains("counted twice"), "{}", twice.message);
    }

    #[test]
    fn a_serial_histogram_is_named() {
        super::super::observe::alone_in_a_process("exercise::sync::tests::serial_histogram_alone");
    }

    #[test]
    #[ignore = "run alone by a_serial_histogram_is_named"]
    fn serial_histogram_alone() {
        let c = check_histogram(|data: &[u8], _| histogram_of(data));
        assert!(c.message.contains("calling thread"), "{}", c.message);
    }

    fn good_transfer(accounts: &[Mutex<i64>], from: usize, to: usize, amount: i64) {
        if from == to {
            return;
        }
        let (lo, hi) = (from.min(to), from.max(to));
        let mut a = accounts[lo].lock().unwrap();
        let mut b = accounts[hi].lock().unwrap();
        let (src, dst) = if from == lo {
            (&mut *a, &mut *b)
        } else {
            (&mut *b, &mut *a)
        };
        *src -= amount;
        *dst += amount;
    }

    #[test]
    fn transfer_in_lock_order_passes() {
        let c = check_transfer(good_transfer);
        assert_eq!(c.status, Status::Passed, "{}", c.message);
        assert_eq!(
            check_transfer(|_: &[Mutex<i64>], _, _, _| todo!()).status,
            Status::NotDone
        );
    }

    #[test]
    fn transfer_that_locks_from_first_is_caught_deadlocked() {
        let t = Instant::now();
        let c = check_transfer(|acc: &[Mutex<i64>], from: usize, to: usize, amount: i64| {
            if from == to {
                return;
            }
            let mut a = acc[from].lock().unwrap();
            // The typical mistake, made certain to deadlock by a pause between the locks.
            std::thread::sleep(Duration::from_millis(1));
            let mut b = acc[to].lock().unwrap();
            *a -= amount;
            *b += amount;
        });
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.starts_with("deadlocked after"), "{}", c.message);
        assert!(c.message.contains("lower index first"), "{}", c.message);
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the checker returned"
        );
    }

    #[test]
    fn transfer_that_relocks_the_same_account_is_caught() {
        let c = check_transfer(|acc: &[Mutex<i64>], from: usize, to: usize, amount: i64| {
            let mut a = acc[from].lock().unwrap();
            let mut b = acc[to].lock().unwrap();
            *a -= amount;
            *b += amount;
        });
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("not re-entrant"), "{}", c.message);
    }

    #[test]
    fn transfer_between_two_locks_is_seen_by_the_auditor() {
        let c = check_transfer(|acc: &[Mutex<i64>], from: usize, to: usize, amount: i64| {
            *acc[from].lock().unwrap() -= amount;
            std::thread::sleep(Duration::from_micros(50));
            *acc[to].lock().unwrap() += amount;
        });
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("auditor"), "{}", c.message);
    }

    fn good_ring(r: &Rank, value: u64) -> u64 {
        let (right, left) = (
            (r.rank() + 1) % r.size(),
            (r.rank() + r.size() - 1) % r.size(),
        );
        if r.rank().is_multiple_of(2) {
            r.send(right, value);
            r.recv(left)
        } else {
            let v = r.recv(left);
            r.send(right, value);
            v
        }
    }

    #[test]
    fn ring_shift_by_parity_passes_and_send_first_deadlocks() {
        assert_eq!(check_ring_shift(good_ring).status, Status::Passed);
        assert_eq!(
            check_ring_shift(|_: &Rank, _| -> u64 { todo!() }).status,
            Status::NotDone
        );
        let stuck = check_ring_shift(|r: &Rank, value: u64| {
            r.send((r.rank() + 1) % r.size(), value);
            r.recv((r.rank() + r.size() - 1) % r.size())
        });
        assert_eq!(stuck.status, Status::Failed);
        assert!(
            stuck.message.starts_with("deadlocked on 2 ranks"),
            "{}",
            stuck.message
        );
        assert!(
            stuck.message.contains("every rank called `send` first"),
            "{}",
            stuck.message
        );
        assert!(
            stuck.message.contains("rank 0 waits in `send` to rank 1"),
            "{}",
            stuck.message
        );
    }

    #[test]
    fn ring_shift_names_the_direction_and_sendrecv() {
        let backwards = check_ring_shift(|r: &Rank, value: u64| {
            let (right, left) = (
                (r.rank() + 1) % r.size(),
                (r.rank() + r.size() - 1) % r.size(),
            );
            if r.rank().is_multiple_of(2) {
                r.send(left, value);
                r.recv(right)
            } else {
                let v = r.recv(right);
                r.send(left, value);
                v
            }
        });
        assert_eq!(backwards.status, Status::Failed);
        assert!(
            backwards.message.contains("left neighbour"),
            "{}",
            backwards.message
        );
        let sr = check_ring_shift(|r: &Rank, value: u64| {
            r.sendrecv(
                (r.rank() + 1) % r.size(),
                value,
                (r.rank() + r.size() - 1) % r.size(),
            )
        });
        assert!(sr.message.contains("with `sendrecv`"), "{}", sr.message);
    }

    #[test]
    fn within_bounds_the_wait() {
        let a = Arc::new(Mutex::new(0));
        let b = Arc::new(Mutex::new(0));
        let r = within(Duration::from_millis(500), move || {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let _x = a.lock().unwrap();
                    std::thread::sleep(Duration::from_millis(50));
                    let _y = b.lock().unwrap();
                });
                s.spawn(|| {
                    let _y = b.lock().unwrap();
                    std::thread::sleep(Duration::from_millis(50));
                    let _x = a.lock().unwrap();
                });
            })
        });
        assert!(r.unwrap_err().starts_with("deadlocked"));
        assert!(
            within(Duration::from_secs(1), || panic!("boom"))
                .unwrap_err()
                .contains("boom")
        );
    }
}

//! The SQLite writer: one connection for every write, and group commit for the frequent ones.
//!
//! SQLite admits one writing transaction at a time. Every write runs on one connection kept for
//! the purpose (its page cache stays valid: no other connection writes), behind a lock.
//!
//! On a small server most of the cost of a short write is the transaction around it (locking,
//! the WAL frames of the pages it touched, the commit). The frequent small writes of many phones
//! ([`Writer::run_grouped`]) are therefore sent to one thread, which takes every such write
//! queued at that moment (up to [`MAX_GROUP`]), runs them in one transaction and commits them
//! together. If one of them fails, the group is rolled back and run again with each write in a
//! savepoint of its own: the failed write leaves nothing, the others stand. (Not savepoints from
//! the start: SQLite copies every page a write touches inside a savepoint, a cost every write
//! would pay for the rare one that fails.) Each caller gets its answer after the commit, so
//! nothing is acknowledged that is not stored. Under load the group grows by itself (the writes
//! that arrive while a group commits form the next one); alone, a write commits at once. Other
//! writes ([`Writer::run_now`]) take the connection in turn.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::ManageConnection;
use diesel::Connection;
use tokio::sync::oneshot;

use super::{AnyConnection, DbError, Manager};

/// The most writes committed in one transaction.
pub const MAX_GROUP: usize = 128;

/// One queued write. `run` is called once, or twice when the group is run again (see
/// [`run_group`]); then exactly one of `deliver` (it ran) or `refuse` (it did not) is called.
trait Job: Send {
    /// Runs the write with the connection inside the group's transaction, in a savepoint of its
    /// own if `savepoint`. `false` when it failed.
    fn run(&mut self, conn: &mut AnyConnection, savepoint: bool) -> bool;
    /// Answers the caller with what the last `run` returned, once the group has committed
    /// (`Ok`) or not (`Err` with the reason).
    fn deliver(self: Box<Self>, committed: Result<(), String>);
    fn refuse(self: Box<Self>, why: String);
}

/// A caller's write, its last result and the channel its answer goes back on.
struct Queued<F, T, E> {
    write: F,
    result: Option<Result<T, E>>,
    answer: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Queued<F, T, E>
where
    F: Fn(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<diesel::result::Error> + From<DbError> + Send + 'static,
{
    fn run(&mut self, conn: &mut AnyConnection, savepoint: bool) -> bool {
        let result = if savepoint {
            conn.transaction(|c| (self.write)(c))
        } else {
            (self.write)(conn)
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn deliver(self: Box<Self>, committed: Result<(), String>) {
        let Queued { result, answer, .. } = *self;
        let result = match (result, committed) {
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)), Err(why)) => Err(E::from(DbError::NotCommitted(why))),
            // Run in its own savepoint, which was rolled back: nothing of it depends on the
            // commit.
            (Some(Err(e)), _) => Err(e),
            (None, _) => Err(E::from(DbError::NotCommitted("not run".into()))),
        };
        // Gone only if the request was dropped (its client went away); the write stands.
        let _ = answer.send(result);
    }

    fn refuse(self: Box<Self>, why: String) {
        let _ = self.answer.send(Err(E::from(DbError::NotCommitted(why))));
    }
}

/// The writer connection (opened on first use) and the queue to the group-commit thread
/// (started on first use).
#[derive(Default)]
pub struct Writer {
    conn: Mutex<Option<AnyConnection>>,
    queue: Mutex<Option<Sender<Box<dyn Job>>>>,
}

impl Writer {
    /// Runs `f` in its own transaction on the writer connection, now (after the write in progress).
    pub fn run_now<T, E>(
        &self,
        manager: &Manager,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<DbError>,
    {
        let mut conn = self.lock_conn();
        if conn.is_none() {
            *conn = Some(
                manager
                    .connect()
                    .map_err(|e| DbError::Open(e.to_string()))?,
            );
        }
        match conn.as_mut() {
            Some(c) => immediate_transaction(c, f),
            None => Err(DbError::Open("no writer connection".into()).into()),
        }
    }

    fn lock_conn(&self) -> MutexGuard<'_, Option<AnyConnection>> {
        match self.conn.lock() {
            Ok(c) => c,
            // A write panicked inside its transaction: close that connection (SQLite rolls the
            // transaction back) and open a new one.
            Err(poisoned) => {
                let mut c = poisoned.into_inner();
                *c = None;
                c
            }
        }
    }

    /// Runs `f` in the writer's next group transaction; the caller's task waits for the commit
    /// without holding a thread. `f` may be run twice (the second time in a savepoint of its own)
    /// if another write of its group fails: the first run's writes are rolled back by then.
    pub async fn run_grouped<T, E>(
        self: &Arc<Self>,
        manager: &Manager,
        f: impl Fn(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + From<DbError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let job = Queued {
            write: f,
            result: None,
            answer,
        };
        self.send(manager, Box::new(job))?;
        answered
            .await
            .unwrap_or_else(|_| Err(E::from(DbError::NotCommitted("the writer stopped".into()))))
    }

    fn send(self: &Arc<Self>, manager: &Manager, job: Box<dyn Job>) -> Result<(), DbError> {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let job = match queue.as_ref() {
            Some(tx) => match tx.send(job) {
                Ok(()) => return Ok(()),
                // The thread is gone (it cannot be, short of a bug): start another.
                Err(mpsc::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        let manager = manager.clone();
        let writer = Arc::clone(self);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer.group_loop(&manager, &rx))
            .map_err(|e| DbError::Open(format!("cannot start the writer thread: {e}")))?;
        tx.send(job)
            .map_err(|_| DbError::Open("the writer thread stopped".into()))?;
        *queue = Some(tx);
        Ok(())
    }
}

impl Writer {
    fn group_loop(&self, manager: &Manager, rx: &Receiver<Box<dyn Job>>) {
        while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            let mut conn = self.lock_conn();
            if conn.is_none() {
                match manager.connect() {
                    Ok(c) => *conn = Some(c),
                    Err(e) => {
                        let why = format!("cannot open the database: {e}");
                        for job in group {
                            fail(job, &why);
                        }
                        continue;
                    }
                }
            }
            if let Some(c) = conn.as_mut() {
                if let Err(why) = run_group(c, group) {
                    // A write panicked or the connection misbehaved: close it (SQLite rolls back
                    // what was not committed) and open a new one for the next group.
                    tracing::error!(error = %why, "write group failed; reopening the writer connection");
                    *conn = None;
                }
            }
        }
    }
}

type Manage = <AnyConnection as Connection>::TransactionManager;

/// Begins a writer transaction. On SQLite with `BEGIN IMMEDIATE`: the write lock is taken at the
/// start, waiting (the busy timeout) for whoever holds it for a moment. A plain `BEGIN` reads
/// first and asks for the write lock at its first write, when SQLite cannot wait for it any more
/// (the transaction already holds a snapshot): a reader that briefly holds that lock while it
/// re-reads a WAL index header caught mid-update then fails the whole write with "database is
/// locked" (seen once under load, as an HTTP 500).
fn begin_write(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        other => Manage::begin_transaction(other),
    }
}

/// `Connection::transaction`, begun with [`begin_write`].
fn immediate_transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    begin_write(conn)?;
    match f(conn) {
        Ok(v) => {
            Manage::commit_transaction(conn)?;
            Ok(v)
        }
        Err(e) => match Manage::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// How far one run of a group got.
enum Attempt {
    /// Every write ran (and, in savepoints, those that failed left nothing).
    Done,
    /// A write failed outside a savepoint: the transaction holds part of it.
    Failed,
    /// A write panicked or the transaction could not begin: the connection should not be used
    /// again.
    Broken(String),
}

/// Runs a group in one transaction and delivers every answer. `Err` when the connection should
/// not be used again.
fn run_group(conn: &mut AnyConnection, mut group: Vec<Box<dyn Job>>) -> Result<(), String> {
    let (mut attempt, mut ran) = run_each(conn, &mut group, false);
    if matches!(attempt, Attempt::Failed) {
        // The group again, each write in a savepoint: the failed one is left out, the others'
        // first runs are undone by the rollback and run again.
        (attempt, ran) = match Manage::rollback_transaction(conn) {
            Ok(()) => run_each(conn, &mut group, true),
            Err(e) => (Attempt::Broken(format!("rollback failed: {e}")), 0),
        };
    }
    let broken = match attempt {
        Attempt::Done => None,
        // Not after a run in savepoints; it would leave part of a write in the transaction.
        Attempt::Failed => Some("a write failed outside its savepoint".to_string()),
        Attempt::Broken(why) => Some(why),
    };
    let outcome = match &broken {
        None => Manage::commit_transaction(conn).map_err(|e| {
            let _ = Manage::rollback_transaction(conn);
            format!("commit failed: {e}")
        }),
        Some(why) => {
            let _ = Manage::rollback_transaction(conn);
            Err(why.clone())
        }
    };
    let mut jobs = group.into_iter();
    for job in jobs.by_ref().take(ran) {
        job.deliver(outcome.clone());
    }
    let why = outcome.err();
    for job in jobs {
        fail(job, why.as_deref().unwrap_or("not run"));
    }
    broken.map_or(Ok(()), Err)
}

/// Begins a transaction and runs the group's writes in it, in order, each in its own savepoint if
/// `savepoints`; without, it stops at the first that fails. Returns how far it got and how many
/// writes ran.
fn run_each(
    conn: &mut AnyConnection,
    group: &mut [Box<dyn Job>],
    savepoints: bool,
) -> (Attempt, usize) {
    if let Err(e) = begin_write(conn) {
        return (
            Attempt::Broken(format!("cannot begin a transaction: {e}")),
            0,
        );
    }
    for (i, job) in group.iter_mut().enumerate() {
        match catch_unwind(AssertUnwindSafe(|| job.run(conn, savepoints))) {
            Ok(true) => {}
            Ok(false) if !savepoints => return (Attempt::Failed, i + 1),
            Ok(false) => {}
            Err(_) => {
                return (
                    Attempt::Broken("a write panicked; the group was rolled back".into()),
                    i,
                )
            }
        }
    }
    (Attempt::Done, group.len())
}

/// Tells a job's caller that it was not stored, without running it.
fn fail(job: Box<dyn Job>, why: &str) {
    tracing::warn!(reason = %why, "a write was not run");
    job.refuse(why.to_string());
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Barrier;

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::*;
    use crate::db::Db;

    #[derive(Debug)]
    enum TestError {
        Refused,
        Db(String),
    }
    impl From<diesel::result::Error> for TestError {
        fn from(e: diesel::result::Error) -> Self {
            TestError::Db(e.to_string())
        }
    }
    impl From<DbError> for TestError {
        fn from(e: DbError) -> Self {
            TestError::Db(e.to_string())
        }
    }

    diesel::table! { notes (id) { id -> Integer, } }

    /// Waits for a future on the calling thread (each test thread is its own caller).
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// A database at `path` with an empty `notes` table.
    fn notes_db(path: &std::path::Path) -> Db {
        let db = Db::open(path.to_str().unwrap(), 4).unwrap();
        db.write(|c| -> Result<(), TestError> {
            Ok(c.batch_execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")?)
        })
        .unwrap();
        db
    }

    fn stored(db: &Db) -> Vec<i32> {
        let mut c = db.conn().unwrap();
        let mut ids: Vec<i32> = notes::table.select(notes::id).load(&mut *c).unwrap();
        ids.sort_unstable();
        ids
    }

    /// Many writers at once: each gets its own answer, only after the commit; a write that
    /// fails or panics stores nothing and its neighbours in the group are not lost silently
    /// (stored and answered `Ok`, or not stored and answered `Err`); the writer goes on after.
    #[test]
    fn grouped_writes_answer_each_caller_and_store_exactly_what_was_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let db = notes_db(&dir.path().join("w.db"));
        let n = 200;
        let barrier = Arc::new(Barrier::new(n));
        let handles: Vec<_> = (0..n as i32)
            .map(|i| {
                let db = db.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    let r = block_on(db.write_grouped(move |c| -> Result<i32, TestError> {
                        diesel::insert_into(notes::table)
                            .values(notes::id.eq(i))
                            .execute(c)?;
                        match i % 10 {
                            3 => Err(TestError::Refused),
                            7 if i == 77 => panic!("a bug in one write"),
                            _ => Ok(i),
                        }
                    }));
                    (i, r)
                })
            })
            .collect();
        let mut acknowledged = Vec::new();
        for h in handles {
            let (i, r) = h.join().unwrap();
            match r {
                Ok(v) => {
                    assert_eq!(v, i);
                    acknowledged.push(i);
                }
                Err(TestError::Refused) => assert_eq!(i % 10, 3, "refused {i}"),
                Err(TestError::Db(why)) => assert!(
                    why.contains("writer") || why.contains("panicked"),
                    "{i}: {why}"
                ),
            }
        }
        acknowledged.sort_unstable();
        assert_eq!(stored(&db), acknowledged, "stored = acknowledged");
        assert!(!acknowledged.contains(&77) && !acknowledged.iter().any(|i| i % 10 == 3));
        assert!(
            acknowledged.len() >= n - n / 10 - 128 - 1,
            "{} acknowledged",
            acknowledged.len()
        );
        // The writer goes on: grouped and immediate writes after the panic.
        block_on(db.write_grouped(|c| -> Result<usize, TestError> {
            Ok(diesel::insert_into(notes::table)
                .values(notes::id.eq(1000))
                .execute(c)?)
        }))
        .unwrap();
        db.write(|c| -> Result<usize, TestError> {
            Ok(diesel::insert_into(notes::table)
                .values(notes::id.eq(1001))
                .execute(c)?)
        })
        .unwrap();
        let all = stored(&db);
        assert!(all.ends_with(&[1000, 1001]), "{all:?}");
    }

    /// A group runs its writes straight in one transaction (no savepoint, each once) while they
    /// succeed; when one fails, the group runs again with each write in its own savepoint: the
    /// failed one leaves nothing, its neighbours are stored once, every caller gets its answer.
    #[test]
    fn a_group_is_run_again_in_savepoints_only_when_a_write_fails() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use diesel::connection::TransactionManager;

        let dir = tempfile::tempdir().unwrap();
        let db = notes_db(&dir.path().join("w.db"));
        let mut conn = db.manager.connect().unwrap();
        type Answer = oneshot::Receiver<Result<usize, TestError>>;
        // A job that inserts `id`, counts its runs and the transaction depth it ran at, and
        // fails after its insert if `fails`.
        let job = |id: i32, fails: bool, runs: &Arc<AtomicUsize>, depth: &Arc<AtomicUsize>| {
            let (answer, answered): (_, Answer) = oneshot::channel();
            let (runs, depth) = (Arc::clone(runs), Arc::clone(depth));
            let write = move |c: &mut AnyConnection| -> Result<usize, TestError> {
                runs.fetch_add(1, Ordering::SeqCst);
                let d = Manage::transaction_manager_status_mut(c)
                    .transaction_depth()
                    .unwrap()
                    .map_or(0, |d| d.get() as usize);
                depth.store(d, Ordering::SeqCst);
                let n = diesel::insert_into(notes::table)
                    .values(notes::id.eq(id))
                    .execute(c)?;
                if fails {
                    return Err(TestError::Refused);
                }
                Ok(n)
            };
            let boxed: Box<dyn Job> = Box::new(Queued {
                write,
                result: None,
                answer,
            });
            (boxed, answered)
        };
        let counters = || -> Vec<(Arc<AtomicUsize>, Arc<AtomicUsize>)> {
            (0..3)
                .map(|_| (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))))
                .collect()
        };
        let load = |c: &[(Arc<AtomicUsize>, Arc<AtomicUsize>)]| -> Vec<(usize, usize)> {
            c.iter()
                .map(|(r, d)| (r.load(Ordering::SeqCst), d.load(Ordering::SeqCst)))
                .collect()
        };

        // All succeed: each runs once, at depth 1 (the group's transaction, no savepoint).
        let c = counters();
        let (jobs, answers): (Vec<_>, Vec<_>) = (0..3)
            .map(|i| job(i as i32 + 1, false, &c[i].0, &c[i].1))
            .unzip();
        run_group(&mut conn, jobs).unwrap();
        assert_eq!(load(&c), vec![(1, 1); 3]);
        for a in answers {
            assert_eq!(block_on(a).unwrap().unwrap(), 1);
        }
        assert_eq!(stored(&db), vec![1, 2, 3]);

        // The second fails: the first ran again, all three in savepoints (depth 2); the third
        // ran only in savepoints; the second's row is not stored.
        let c = counters();
        let (jobs, answers): (Vec<_>, Vec<_>) = (0..3)
            .map(|i| job(i as i32 + 11, i == 1, &c[i].0, &c[i].1))
            .unzip();
        run_group(&mut conn, jobs).unwrap();
        assert_eq!(load(&c), vec![(2, 2), (2, 2), (1, 2)]);
        let got: Vec<_> = answers.into_iter().map(|a| block_on(a).unwrap()).collect();
        assert!(
            matches!(got[..], [Ok(1), Err(TestError::Refused), Ok(1)]),
            "{got:?}"
        );
        assert_eq!(stored(&db), vec![1, 2, 3, 11, 13]);
    }

    /// Every writer transaction holds SQLite's write lock from its start, even before it writes
    /// (so it never has to ask for the lock in the middle, where SQLite cannot wait for it):
    /// another connection that will not wait cannot begin a write meanwhile, in a group or not.
    #[test]
    fn writer_transactions_hold_the_write_lock_from_their_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let db = notes_db(&path);
        let other = move || -> Result<(), String> {
            let mut o = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
            o.batch_execute("PRAGMA busy_timeout = 0").unwrap();
            o.batch_execute("BEGIN IMMEDIATE")
                .map_err(|e| e.to_string())?;
            o.batch_execute("ROLLBACK").map_err(|e| e.to_string())
        };
        let probe = other.clone();
        let seen = db
            .write(move |c| -> Result<Result<(), String>, TestError> {
                let _: Vec<i32> = notes::table.select(notes::id).load(c)?;
                Ok(probe())
            })
            .unwrap();
        assert!(seen.unwrap_err().contains("locked"));
        let probe = other.clone();
        let seen = block_on(db.write_grouped(move |c| -> Result<_, TestError> {
            let _: Vec<i32> = notes::table.select(notes::id).load(c)?;
            Ok(probe())
        }))
        .unwrap();
        assert!(seen.unwrap_err().contains("locked"));
        // Between the writer's transactions the lock is free.
        other().unwrap();
    }
}

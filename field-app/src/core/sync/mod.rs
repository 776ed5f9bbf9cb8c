//! Sync: [`FieldCore::sync_now`] pushes the outbox ([`push`]), then pulls the server's changes
//! ([`pull`]).

mod plan;
mod pull;
mod push;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::Utc;

use crate::core::{lock, FieldCore};
use crate::error::{code, FieldError, FieldResult};
use crate::store;
use crate::types::*;

impl FieldCore {
    /// Pushes the outbox, then pulls changes. Never loses anything: on any error what was done
    /// stays done, the rest stays queued, and the report says why it stopped.
    pub fn sync_now(&self) -> FieldResult<SyncReport> {
        let _guard = lock(&self.sync_lock);
        let before = self.http.requests();
        let mut report = SyncReport::default();
        let result = self.push(&mut report).and_then(|()| self.pull(&mut report));
        report.requests = self.http.requests() - before;
        match result {
            Ok(()) => {
                report.ok = true;
                self.db(|c| {
                    store::kv::set_last_sync(c, &Utc::now())?;
                    store::kv::set_last_error(c, None)
                })?;
            }
            Err(e) if e.is(code::STORE) => return Err(e),
            Err(e) => {
                report.needs_sign_in = e.is(code::NEEDS_SIGN_IN);
                self.db(|c| store::kv::set_last_error(c, Some(&e)))?;
                report.error = Some(e);
            }
        }
        Ok(report)
    }

    /// Runs `f` on every item with up to `workers` threads. The first error stops new items from
    /// starting (those in flight finish and record their outcome) and is returned.
    pub(super) fn parallel<T: Sync>(
        items: &[T],
        workers: usize,
        f: impl Fn(&T) -> FieldResult<()> + Sync,
    ) -> FieldResult<()> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let first: Mutex<Option<FieldError>> = Mutex::new(None);
        let work = || {
            while !stop.load(Ordering::SeqCst) {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                if let Err(e) = f(item) {
                    stop.store(true, Ordering::SeqCst);
                    lock(&first).get_or_insert(e);
                    break;
                }
            }
        };
        let n = workers.clamp(1, items.len().max(1));
        if n == 1 {
            work();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..n {
                    scope.spawn(work);
                }
            });
        }
        match first.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

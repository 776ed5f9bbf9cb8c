//! Prepared statements kept for UPDATEs and raw SQL.
//!
//! diesel never keeps the prepared statement of an `UPDATE` (a changeset may leave out `None`
//! fields, so the SQL can differ from one call to the next) nor of `sql_query` text: each
//! execution renders, parses and plans the statement again. For the few fixed-shape statements
//! that every visit runs (the change counter, coverage counters) that was most of their cost.
//! [`cached!`](crate::cached) wraps such a statement in a type of its own, by which diesel's
//! statement cache finds it: rendered and prepared once per connection.
//!
//! Only for statements whose SQL text never depends on the values: no optional changeset
//! fields, no `IN` lists of varying length, no text built at run time. Run them with
//! `get_result` / `load` (an UPDATE with `RETURNING`): `execute` hands diesel the statement by
//! reference, and diesel's by-reference wrapper asks the inner statement whether it may be kept,
//! which says no.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement of fixed SQL, kept prepared under the type `Site` (one per call site).
pub struct Cached<Q, Site> {
    query: Q,
    site: PhantomData<Site>,
}

impl<Q, Site> Cached<Q, Site> {
    pub fn new(query: Q) -> Self {
        Cached {
            query,
            site: PhantomData,
        }
    }
}

/// Wraps a fixed-shape statement so that its prepared statement is kept (see the module).
#[macro_export]
macro_rules! cached {
    ($query:expr) => {{
        struct Site;
        $crate::db::cached::Cached::<_, Site>::new($query)
    }};
}

impl<Q, Site: 'static> QueryId for Cached<Q, Site> {
    type QueryId = Site;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Q: QueryFragment<DB>, Site, DB: Backend> QueryFragment<DB> for Cached<Q, Site> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        // The caller promises the SQL is the same on every call (see the module).
        Ok(true)
    }
}

impl<Q: Query, Site> Query for Cached<Q, Site> {
    type SqlType = Q::SqlType;
}

impl<Q, Site, Conn> RunQueryDsl<Conn> for Cached<Q, Site> {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    diesel::table! {
        counter (id) {
            id -> BigInt,
            value -> BigInt,
        }
    }

    /// Counts the statements prepared and the statements run on a connection.
    #[derive(Clone, Default)]
    struct Count {
        prepared: Arc<AtomicUsize>,
        cached: Arc<AtomicUsize>,
    }
    impl Instrumentation for Count {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            match event {
                InstrumentationEvent::CacheQuery { .. } => {
                    self.cached.fetch_add(1, Ordering::SeqCst);
                }
                InstrumentationEvent::StartQuery { .. } => {
                    self.prepared.fetch_add(1, Ordering::SeqCst);
                }
                _ => {}
            }
        }
    }

    fn bump(c: &mut SqliteConnection, by: i64) -> i64 {
        crate::cached!(diesel::update(counter::table.filter(counter::id.eq(1)))
            .set(counter::value.eq(counter::value + by))
            .returning(counter::value))
        .get_result(c)
        .unwrap()
    }

    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = BigInt)]
        value: i64,
    }

    fn bump_raw(c: &mut SqliteConnection, by: i64) -> i64 {
        let rows: Vec<Value> = crate::cached!(diesel::sql_query(
            "UPDATE counter SET value = value + $1 WHERE id = 1 RETURNING value"
        )
        .bind::<BigInt, _>(by))
        .load(c)
        .unwrap();
        rows[0].value
    }

    #[test]
    fn an_update_and_raw_sql_are_prepared_once_and_bind_new_values_each_time() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("CREATE TABLE counter (id BIGINT PRIMARY KEY, value BIGINT NOT NULL); INSERT INTO counter VALUES (1, 0);")
            .unwrap();
        let count = Count::default();
        c.set_instrumentation(count.clone());
        assert_eq!(bump(&mut c, 1), 1);
        assert_eq!(bump(&mut c, 2), 3);
        assert_eq!(bump(&mut c, 5), 8);
        assert_eq!(bump_raw(&mut c, 10), 18);
        assert_eq!(bump_raw(&mut c, 100), 118);
        assert_eq!(bump(&mut c, 0), 118);
        // Six executions, two statements kept.
        assert_eq!(count.prepared.load(Ordering::SeqCst), 6);
        assert_eq!(count.cached.load(Ordering::SeqCst), 2);
        // Without the wrapper diesel keeps neither.
        for _ in 0..2 {
            diesel::update(counter::table.filter(counter::id.eq(1)))
                .set(counter::value.eq(counter::value + 1))
                .returning(counter::value)
                .get_result::<i64>(&mut c)
                .unwrap();
        }
        assert_eq!(count.prepared.load(Ordering::SeqCst), 8);
        assert_eq!(count.cached.load(Ordering::SeqCst), 2);
    }
}

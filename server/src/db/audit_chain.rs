//! The tamper-evident audit log (nhật ký kiểm toán): every write to the records appends an entry,
//! in the write's own transaction, saying who changed which entity when, with SHA-256 digests of
//! the entity's canonical JSON before and after; each entry's hash covers the previous entry's
//! hash, so editing, removing or reordering entries breaks the chain, and `verify` finds where.
//!
//! The db layer's write functions call [`begin`] / [`begin_create`] before they touch a row and
//! [`Change::commit`] after, so no write path (API, dashboard, import) can leave it out. The demo
//! generator's bulk inserts write one [`bulk`] entry per batch instead of one per row.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::QueryResult;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::actor::Actor;
use crate::db::audit::{self as sql, AuditRow};
use crate::db::{AnyConnection, Db, DbError};

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Names the encoding the hashes are computed over; a new encoding gets a new tag.
const ENCODING: &str = "doi178-audit-1";

/// What an entry is about. `as_str` is what the log stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Visit,
    Photo,
    Assignment,
    Establishment,
    Tip,
    Team,
    TeamMember,
    User,
    Programme,
    ChecklistTemplate,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Visit,
        Kind::Photo,
        Kind::Assignment,
        Kind::Establishment,
        Kind::Tip,
        Kind::Team,
        Kind::TeamMember,
        Kind::User,
        Kind::Programme,
        Kind::ChecklistTemplate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Visit => "visit",
            Kind::Photo => "photo",
            Kind::Assignment => "assignment",
            Kind::Establishment => "establishment",
            Kind::Tip => "tip",
            Kind::Team => "team",
            Kind::TeamMember => "team_member",
            Kind::User => "user",
            Kind::Programme => "programme",
            Kind::ChecklistTemplate => "checklist_template",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a change: a signed-in user, or one of the server's own commands (`system:demo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub user_id: Option<String>,
    pub username: String,
}

impl Who {
    pub fn of(actor: &Actor) -> Who {
        Who {
            user_id: Some(actor.user_id.to_string()),
            username: actor.username.clone(),
        }
    }

    pub fn system(command: &str) -> Who {
        Who {
            user_id: None,
            username: format!("system:{command}"),
        }
    }
}

/// JSON with object keys sorted and no whitespace: the same value always gives the same text.
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Object(map) => {
                out.push(b'{');
                // serde_json's map is already in key order unless its `preserve_order` feature
                // is on somewhere in the build; sort only then.
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                if !entries.is_sorted_by(|a, b| a.0 <= b.0) {
                    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                }
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    scalar(k, out);
                    out.push(b':');
                    write(v, out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            other => scalar(other, out),
        }
    }
    fn scalar<T: serde::Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) {
        // Writing a string, number, bool or null into memory cannot fail.
        let _ = serde_json::to_writer(&mut *out, v);
    }
    let mut out = Vec::with_capacity(1024);
    write(v, &mut out);
    // serde_json writes valid UTF-8 only.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of an entity's canonical JSON.
pub fn digest(v: &Value) -> String {
    sha256_hex(canonical_json(v).as_bytes())
}

/// `%Y-%m-%dT%H:%M:%S%.6f`, written without a format string (whose parsing was 1 % of the
/// writer thread's time under load).
fn time_text(at: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    if !(0..=9999).contains(&at.year()) {
        return at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        // A leap second is second 59 with more than 10^9 nanoseconds: "60", as strftime has it.
        at.second() + at.nanosecond() / 1_000_000_000,
        at.nanosecond() % 1_000_000_000 / 1_000
    )
}

/// The entry's hash: SHA-256 over a JSON array of every column but `hash`, in a fixed order.
pub fn entry_hash(e: &AuditRow) -> String {
    let encoded = Value::Array(vec![
        ENCODING.into(),
        e.seq.into(),
        time_text(e.at).into(),
        e.actor_id.clone().into(),
        e.actor_username.clone().into(),
        e.action.clone().into(),
        e.entity_kind.clone().into(),
        e.entity_id.clone().into(),
        e.before_digest.clone().into(),
        e.after_digest.clone().into(),
        e.summary.clone().into(),
        e.prev_hash.clone().into(),
    ]);
    sha256_hex(encoded.to_string().as_bytes())
}

/// Appends one entry after the current head. Call with the chain locked.
fn append(
    conn: &mut AnyConnection,
    who: &Who,
    action: &str,
    kind: Kind,
    entity_id: &str,
    digests: (Option<String>, Option<String>),
    summary: Option<String>,
) -> QueryResult<i64> {
    let (last, prev_hash) = sql::head(conn)?.unwrap_or((0, GENESIS.to_string()));
    let mut row = AuditRow {
        seq: last + 1,
        at: crate::clock::now(),
        actor_id: who.user_id.clone(),
        actor_username: who.username.clone(),
        action: action.to_string(),
        entity_kind: kind.as_str().to_string(),
        entity_id: entity_id.to_string(),
        before_digest: digests.0,
        after_digest: digests.1,
        summary,
        prev_hash,
        hash: String::new(),
    };
    row.hash = entry_hash(&row);
    sql::insert(conn, &row)?;
    Ok(row.seq)
}

fn load_one(conn: &mut AnyConnection, kind: Kind, id: &str) -> QueryResult<Option<Value>> {
    sql::entity(conn, kind, id)
}

/// A write in progress: the entity's state before it, read with the chain locked.
#[must_use = "a change must be committed to the audit log"]
pub struct Change {
    kind: Kind,
    id: String,
    before: Option<Value>,
}

/// Starts auditing a write to an existing (or possibly existing) entity: locks the chain and
/// reads the entity as it is. Call before the write, in the same transaction.
pub fn begin(conn: &mut AnyConnection, kind: Kind, id: &str) -> QueryResult<Change> {
    sql::lock_chain(conn)?;
    Ok(Change {
        kind,
        id: id.to_string(),
        before: load_one(conn, kind, id)?,
    })
}

/// Starts auditing the creation of an entity (nothing to read before).
pub fn begin_create(conn: &mut AnyConnection, kind: Kind, id: &str) -> QueryResult<Change> {
    sql::lock_chain(conn)?;
    Ok(Change {
        kind,
        id: id.to_string(),
        before: None,
    })
}

/// Fields whose old and new values a summary shows (short, not personal).
const SHOWN: [&str; 6] = [
    "status",
    "review_status",
    "revision",
    "role",
    "active",
    "kind",
];

fn shown_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What changed, in a line: the fields that differ, with old → new for the ones in `SHOWN`.
fn summarise(before: Option<&Value>, after: Option<&Value>) -> Option<String> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut parts = Vec::new();
    for k in keys {
        let (old, new) = (b.get(k), a.get(k));
        if old == new {
            continue;
        }
        if SHOWN.contains(&k.as_str()) {
            match (old, new) {
                (Some(o), Some(n)) => {
                    parts.push(format!("{k}: {} → {}", shown_value(o), shown_value(n)))
                }
                (None, Some(n)) => parts.push(format!("{k}: {}", shown_value(n))),
                (Some(o), None) => parts.push(format!("{k} was {}", shown_value(o))),
                (None, None) => {}
            }
        } else if before.is_some() && after.is_some() {
            parts.push(k.clone());
        }
    }
    if parts.is_empty() {
        return (before.is_some() && after.is_some()).then(|| "no change".to_string());
    }
    Some(parts.join(", "))
}

impl Change {
    /// Reads the entity after the write and appends the entry (`create`, `update` or `delete`).
    /// Nothing is appended when the entity neither existed nor exists (a delete of nothing).
    pub fn commit(self, conn: &mut AnyConnection, who: &Who) -> QueryResult<Option<i64>> {
        self.commit_with_note(conn, who, None)
    }

    /// [`Change::commit`], with the reason the person gave appended to the entry's summary
    /// ("active: true → false; reason: left the team").
    pub fn commit_with_note(
        self,
        conn: &mut AnyConnection,
        who: &Who,
        note: Option<&str>,
    ) -> QueryResult<Option<i64>> {
        let after = load_one(conn, self.kind, &self.id)?;
        let action = match (&self.before, &after) {
            (None, None) => return Ok(None),
            (None, Some(_)) => "create",
            (Some(_), Some(_)) => "update",
            (Some(_), None) => "delete",
        };
        let summary = summarise(self.before.as_ref(), after.as_ref());
        let summary = match (summary, note) {
            (Some(s), Some(n)) => Some(format!("{s}; reason: {n}")),
            (None, Some(n)) => Some(format!("reason: {n}")),
            (s, None) => s,
        };
        let digests = (self.before.as_ref().map(digest), after.as_ref().map(digest));
        append(conn, who, action, self.kind, &self.id, digests, summary).map(Some)
    }
}

/// Audits the creation of many entities of one kind at once (imports): one entry per entity.
pub fn created_many(
    conn: &mut AnyConnection,
    who: &Who,
    kind: Kind,
    ids: &[String],
) -> QueryResult<()> {
    sql::lock_chain(conn)?;
    for chunk in ids.chunks(500) {
        let rows = sql::entities(conn, kind, chunk)?;
        for id in chunk {
            let after = rows.get(id);
            let summary = summarise(None, after);
            let digests = (None, after.map(digest));
            append(conn, who, "create", kind, id, digests, summary)?;
        }
    }
    Ok(())
}

/// One entry for a batch of rows inserted in bulk (the demo generator), instead of one per row.
/// `what` names the table; the entry carries no digests and is not checked against live rows.
pub fn bulk(conn: &mut AnyConnection, who: &Who, what: &str, rows: usize) -> QueryResult<()> {
    sql::lock_chain(conn)?;
    let (last, prev_hash) = sql::head(conn)?.unwrap_or((0, GENESIS.to_string()));
    let mut row = AuditRow {
        seq: last + 1,
        at: crate::clock::now(),
        actor_id: who.user_id.clone(),
        actor_username: who.username.clone(),
        action: BULK_ACTION.to_string(),
        entity_kind: what.to_string(),
        entity_id: "*".to_string(),
        before_digest: None,
        after_digest: None,
        summary: Some(format!("{rows} rows")),
        prev_hash,
        hash: String::new(),
    };
    row.hash = entry_hash(&row);
    sql::insert(conn, &row)
}

pub const BULK_ACTION: &str = "bulk_insert";

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// The first thing wrong with the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error(
        "entry {expected} is missing (removed): the log goes from entry {} to entry {found}",
        expected - 1
    )]
    Gap { expected: i64, found: i64 },
    #[error(
        "entry {seq}: prev_hash does not match the hash of entry {} (entries reordered or replaced)",
        seq - 1
    )]
    PrevHash { seq: i64 },
    #[error(
        "entry {seq}: hash mismatch, its content was edited (stored {stored}, computed {computed})"
    )]
    Hash {
        seq: i64,
        stored: String,
        computed: String,
    },
    #[error(
        "the entry after entry {after}: unreadable, a column holds a value of the wrong type \
         (edited directly in the database)"
    )]
    Unreadable { after: i64 },
    #[error(
        "entry {seq}: the live {kind} {id} does not match this entry, its latest ({what}): the row \
         was changed outside the audit log"
    )]
    Live {
        seq: i64,
        kind: String,
        id: String,
        what: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("audit log broken at {0}")]
    Broken(Broken),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for VerifyError {
    fn from(e: diesel::result::Error) -> Self {
        VerifyError::Db(DbError::Query(e))
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub entries: i64,
    pub last_hash: String,
    /// Entities whose live row was compared with their latest entry (0 with `chain_only`).
    pub entities_checked: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "audit log: {} entries, chain intact, last hash {}",
            self.entries, self.last_hash
        )?;
        if self.entities_checked > 0 {
            write!(
                f,
                "; {} entities match their live rows",
                self.entities_checked
            )?;
        }
        Ok(())
    }
}

/// Checks one entry against the one before it (`prev`: sequence number and hash).
pub fn check_entry(prev: (i64, &str), e: &AuditRow) -> Result<(), Broken> {
    if e.seq != prev.0 + 1 {
        return Err(Broken::Gap {
            expected: prev.0 + 1,
            found: e.seq,
        });
    }
    if e.prev_hash != prev.1 {
        return Err(Broken::PrevHash { seq: e.seq });
    }
    let computed = entry_hash(e);
    if computed != e.hash {
        return Err(Broken::Hash {
            seq: e.seq,
            stored: e.hash.clone(),
            computed,
        });
    }
    Ok(())
}

/// Walks the whole chain in pages of `page` entries, in one consistent snapshot; unless
/// `chain_only`, also compares each entity's live row with the after-digest of its latest entry
/// (a row edited, inserted or deleted behind the log's back).
pub fn verify(db: &Db, chain_only: bool, page: i64) -> Result<Report, VerifyError> {
    let mut pooled = db.conn()?;
    let conn: &mut AnyConnection = &mut pooled;
    // One snapshot for the walk and the live rows, so writes made meanwhile do not show up as
    // mismatches.
    match conn {
        AnyConnection::Postgresql(_) => {
            conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?
        }
        AnyConnection::Sqlite(_) => conn.batch_execute("BEGIN")?,
    }
    let result = walk(conn, chain_only, page.max(1));
    let _ = conn.batch_execute("ROLLBACK");
    result
}

fn walk(conn: &mut AnyConnection, chain_only: bool, page: i64) -> Result<Report, VerifyError> {
    let mut prev = (0i64, GENESIS.to_string());
    // Latest entry per entity: its sequence number and after-digest.
    let mut latest: HashMap<(Kind, String), (i64, Option<String>)> = HashMap::new();
    // After an unreadable page: one entry at a time up to this sequence number, to name it.
    let mut narrow_until = 0i64;
    loop {
        let size = if prev.0 < narrow_until { 1 } else { page };
        let rows = match sql::page(conn, prev.0, size) {
            Ok(rows) => rows,
            Err(diesel::result::Error::DeserializationError(_)) if size > 1 => {
                narrow_until = prev.0 + size;
                continue;
            }
            Err(diesel::result::Error::DeserializationError(_)) => {
                return Err(VerifyError::Broken(Broken::Unreadable { after: prev.0 }))
            }
            Err(e) => return Err(e.into()),
        };
        if rows.is_empty() {
            break;
        }
        for e in rows {
            check_entry((prev.0, &prev.1), &e).map_err(VerifyError::Broken)?;
            if !chain_only && e.action != BULK_ACTION {
                if let Some(kind) = Kind::parse(&e.entity_kind) {
                    latest.insert((kind, e.entity_id.clone()), (e.seq, e.after_digest.clone()));
                }
            }
            prev = (e.seq, e.hash);
        }
    }
    let entities_checked = latest.len();
    if !chain_only {
        let mut by_kind: BTreeMap<Kind, Vec<(String, i64, Option<String>)>> = BTreeMap::new();
        for ((kind, id), (seq, after)) in latest {
            by_kind.entry(kind).or_default().push((id, seq, after));
        }
        let mut first: Option<Broken> = None;
        for (kind, mut items) in by_kind {
            items.sort_by_key(|i| i.1);
            for chunk in items.chunks(500) {
                let ids: Vec<String> = chunk.iter().map(|i| i.0.clone()).collect();
                let live = sql::entities(conn, kind, &ids)?;
                for (id, seq, after) in chunk {
                    let now = live.get(id).map(digest);
                    if now == *after {
                        continue;
                    }
                    let what = match (after, &now) {
                        (Some(_), None) => "the row is gone",
                        (None, Some(_)) => "the entity was deleted but the row exists",
                        _ => "the row's digest differs",
                    };
                    let b = Broken::Live {
                        seq: *seq,
                        kind: kind.as_str().to_string(),
                        id: id.clone(),
                        what: what.to_string(),
                    };
                    if first.as_ref().is_none_or(|f| live_seq(f) > *seq) {
                        first = Some(b);
                    }
                }
            }
        }
        if let Some(b) = first {
            return Err(VerifyError::Broken(b));
        }
    }
    Ok(Report {
        entries: prev.0,
        last_hash: prev.1,
        entities_checked: if chain_only { 0 } else { entities_checked },
    })
}

fn live_seq(b: &Broken) -> i64 {
    match b {
        Broken::Live { seq, .. } => *seq,
        _ => i64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, prev: &str) -> AuditRow {
        let mut e = AuditRow {
            seq,
            at: chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
                .and_then(|d| d.and_hms_micro_opt(10, 0, 0, 123_456))
                .expect("valid time"),
            actor_id: Some("u1".into()),
            actor_username: "kiemtra.hue".into(),
            action: "update".into(),
            entity_kind: "visit".into(),
            entity_id: format!("v{seq}"),
            before_digest: Some("aa".into()),
            after_digest: Some("bb".into()),
            summary: Some("review_status: submitted → accepted".into()),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        e
    }

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut out: Vec<AuditRow> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map_or(GENESIS.to_string(), |e| e.hash.clone());
            out.push(entry(seq, &prev));
        }
        out
    }

    fn first_break(rows: &[AuditRow]) -> Option<Broken> {
        let mut prev = (0, GENESIS.to_string());
        for e in rows {
            if let Err(b) = check_entry((prev.0, &prev.1), e) {
                return Some(b);
            }
            prev = (e.seq, e.hash.clone());
        }
        None
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(first_break(&chain(5)), None);
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = entry(1, GENESIS);
        let edits: [fn(&mut AuditRow); 9] = [
            |e| e.at += chrono::Duration::microseconds(1),
            |e| e.actor_id = None,
            |e| e.actor_username.push('x'),
            |e| e.action = "create".into(),
            |e| e.entity_kind = "tip".into(),
            |e| e.entity_id.push('x'),
            |e| e.before_digest = None,
            |e| e.after_digest = Some("bc".into()),
            |e| e.summary = None,
        ];
        for edit in edits {
            let mut e = base.clone();
            edit(&mut e);
            assert_ne!(entry_hash(&e), base.hash, "{e:?}");
        }
    }

    #[test]
    fn edits_removals_and_swaps_are_named() {
        let mut rows = chain(6);
        rows[2].summary = Some("nothing happened".into());
        assert!(matches!(
            first_break(&rows),
            Some(Broken::Hash { seq: 3, .. })
        ));

        let mut rows = chain(6);
        rows.remove(3);
        assert_eq!(
            first_break(&rows),
            Some(Broken::Gap {
                expected: 4,
                found: 5
            })
        );

        let mut rows = chain(6);
        rows.swap(1, 2);
        let (a, b) = (rows[1].seq, rows[2].seq);
        rows[1].seq = b;
        rows[2].seq = a;
        assert_eq!(first_break(&rows), Some(Broken::PrevHash { seq: 2 }));
    }

    #[test]
    fn canonical_json_escapes_like_serde_json() {
        let a: Value = serde_json::from_str(
            r#"{"z\"q":"line\nbreak \u0001","é":[1.5,-0.0,1e300,null,true],"A":{}}"#,
        )
        .expect("json");
        assert_eq!(
            canonical_json(&a),
            r#"{"A":{},"z\"q":"line\nbreak \u0001","é":[1.5,-0.0,1e+300,null,true]}"#
        );
    }

    #[test]
    fn time_text_is_the_strftime_form() {
        let f = "%Y-%m-%d %H:%M:%S%.f";
        for t in [
            "2026-12-06 20:43:51.123456789",
            "2026-01-02 03:04:05",
            "0001-01-01 00:00:00.000001",
            "9999-12-31 23:59:59.999999",
            "2016-12-31 23:59:60.5",
        ] {
            let at = NaiveDateTime::parse_from_str(t, f).expect(t);
            assert_eq!(
                time_text(at),
                at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
            );
        }
        let far = NaiveDateTime::parse_from_str("+12345-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")
            .expect("year 12345");
        assert_eq!(
            time_text(far),
            far.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":"é"}}"#).expect("json");
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":"é","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }

    #[test]
    fn summaries_show_status_changes_and_name_other_fields() {
        let before = serde_json::json!({"status": "draft", "note": "a", "seq": 1});
        let after = serde_json::json!({"status": "released", "note": "a", "seq": 2});
        assert_eq!(
            summarise(Some(&before), Some(&after)).as_deref(),
            Some("seq, status: draft → released")
        );
        assert_eq!(
            summarise(None, Some(&after)).as_deref(),
            Some("status: released")
        );
        assert_eq!(
            summarise(Some(&before), Some(&before)).as_deref(),
            Some("no change")
        );
    }
}

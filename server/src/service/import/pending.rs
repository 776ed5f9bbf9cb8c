//! An uploaded establishment list between its preview and its confirmation: the bytes wait in
//! memory under a random token bound to the user, for an hour at most (one pending preview per
//! user: a newer upload replaces it).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How long an uploaded file waits for its confirmation.
const KEEP_FOR: Duration = Duration::from_secs(3600);
/// Uploads kept at most (the oldest go first); each user has one pending preview at a time.
const KEEP_AT_MOST: usize = 16;

/// An uploaded file waiting for its confirmation.
pub struct Upload {
    pub user: Uuid,
    pub name: String,
    pub bytes: Vec<u8>,
    pub at: Instant,
}

fn uploads() -> &'static Mutex<HashMap<String, Upload>> {
    static UPLOADS: OnceLock<Mutex<HashMap<String, Upload>>> = OnceLock::new();
    UPLOADS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Keeps an upload under a new random token (replacing the user's earlier one) and returns the
/// token.
pub fn keep(upload: Upload) -> String {
    let token = Uuid::new_v4().to_string();
    let mut map = uploads().lock().unwrap_or_else(|e| e.into_inner());
    map.retain(|_, u| u.at.elapsed() < KEEP_FOR && u.user != upload.user);
    while map.len() >= KEEP_AT_MOST {
        let oldest = map.iter().min_by_key(|(_, u)| u.at).map(|(k, _)| k.clone());
        match oldest {
            Some(k) => map.remove(&k),
            None => break,
        };
    }
    map.insert(token.clone(), upload);
    token
}

/// The upload kept under `token`, if it is `user`'s and has not expired (it is removed).
pub fn take(token: &str, user: Uuid) -> Option<Upload> {
    let mut map = uploads().lock().unwrap_or_else(|e| e.into_inner());
    match map.get(token) {
        Some(u) if u.user == user && u.at.elapsed() < KEEP_FOR => map.remove(token),
        _ => None,
    }
}

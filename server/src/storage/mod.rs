//! Photo bytes behind one trait, so a multi-server deployment can swap the local directory for an
//! object store. Keys are photo ids; the store never decides who may read.

use std::io::Write;
use std::path::{Path, PathBuf};

use uuid::Uuid;

pub mod s3;

use crate::config::{PhotoStoreSettings, Settings};

/// The photo store the settings name: the local directory or the S3-compatible object store.
pub fn open(settings: &Settings) -> anyhow::Result<std::sync::Arc<dyn PhotoStore>> {
    Ok(match &settings.photo_store {
        PhotoStoreSettings::Local => {
            std::sync::Arc::new(LocalDirStore::new(&settings.photo_dir())?)
        }
        PhotoStoreSettings::S3(s3) => std::sync::Arc::new(s3::S3Store::new(s3)?),
    })
}

/// The key (relative path) of a photo variant, the same in every store:
/// `<first two hex digits>/<id>.jpg` or `….thumb.jpg`.
pub fn relative_key(id: Uuid, variant: Variant) -> String {
    let name = id.simple().to_string();
    let suffix = match variant {
        Variant::Full => "jpg",
        Variant::Thumbnail => "thumb.jpg",
    };
    format!("{}/{name}.{suffix}", &name[..2])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Full,
    Thumbnail,
}

pub trait PhotoStore: Send + Sync {
    /// Stores the bytes durably (fsync'd) before returning.
    fn put(&self, id: Uuid, variant: Variant, bytes: &[u8]) -> std::io::Result<()>;
    /// Stores `to` with the same bytes as `from`, stored just before by [`PhotoStore::put`] (a
    /// photo small enough to be its own thumbnail). By default the bytes are stored again.
    fn put_same(&self, id: Uuid, _from: Variant, to: Variant, bytes: &[u8]) -> std::io::Result<()> {
        self.put(id, to, bytes)
    }
    fn get(&self, id: Uuid, variant: Variant) -> std::io::Result<Option<Vec<u8>>>;
    /// Where the bytes live, for messages (`local directory …`, `s3://bucket/prefix`).
    fn describe(&self) -> String {
        "photo store".to_string()
    }
}

/// Default store: `<dir>/<first two hex digits>/<id>[.thumb].jpg`, written via a temporary file and
/// an atomic rename so a crash never leaves half a photo under the final name.
pub struct LocalDirStore {
    dir: PathBuf,
}

impl LocalDirStore {
    pub fn new(dir: &Path) -> std::io::Result<LocalDirStore> {
        std::fs::create_dir_all(dir)?;
        Ok(LocalDirStore {
            dir: dir.to_path_buf(),
        })
    }

    pub fn path(&self, id: Uuid, variant: Variant) -> PathBuf {
        self.dir.join(relative_key(id, variant))
    }
}

impl PhotoStore for LocalDirStore {
    fn put(&self, id: Uuid, variant: Variant, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(id, variant);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile_in(dir)?;
        tmp.0.write_all(bytes)?;
        tmp.0.sync_all()?;
        std::fs::rename(&tmp.1, &path)?;
        Ok(())
    }

    /// A second name for the file `from` (a hard link, made under a temporary name and renamed
    /// into place like a copy would be): no second file to allocate and fsync. Where links are
    /// not possible, the bytes are written again.
    fn put_same(&self, id: Uuid, from: Variant, to: Variant, bytes: &[u8]) -> std::io::Result<()> {
        let (source, path) = (self.path(id, from), self.path(id, to));
        let dir = path.parent().unwrap_or(&self.dir);
        let tmp = temp_name(dir);
        let linked = std::fs::hard_link(&source, &tmp).and_then(|()| std::fs::rename(&tmp, &path));
        // Gone after a rename, except that renaming onto a name of the same file does nothing
        // (POSIX): a retried upload whose second name is already there leaves it behind.
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(()),
            Err(_) => self.put(id, to, bytes),
        }
    }

    fn get(&self, id: Uuid, variant: Variant) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(id, variant)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn describe(&self) -> String {
        format!("local directory {}", self.dir.display())
    }
}

/// A fresh temporary name in `dir`, to be renamed over the final one.
fn temp_name(dir: &Path) -> PathBuf {
    dir.join(format!(".tmp-{}", Uuid::new_v4().simple()))
}

fn tempfile_in(dir: &Path) -> std::io::Result<(std::fs::File, PathBuf)> {
    let path = temp_name(dir);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((file, path))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirStore::new(dir.path()).unwrap();
        let id = Uuid::new_v4();
        assert!(store.get(id, Variant::Full).unwrap().is_none());
        store.put(id, Variant::Full, b"abc").unwrap();
        store.put(id, Variant::Thumbnail, b"t").unwrap();
        assert_eq!(store.get(id, Variant::Full).unwrap().unwrap(), b"abc");
        assert_eq!(store.get(id, Variant::Thumbnail).unwrap().unwrap(), b"t");
    }

    #[test]
    fn the_same_bytes_under_a_second_variant() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirStore::new(dir.path()).unwrap();
        let same = |id: Uuid, bytes: &[u8]| {
            store
                .put_same(id, Variant::Full, Variant::Thumbnail, bytes)
                .unwrap();
            assert_eq!(store.get(id, Variant::Thumbnail).unwrap().unwrap(), bytes);
        };
        let id = Uuid::new_v4();
        store.put(id, Variant::Full, b"small").unwrap();
        same(id, b"small");
        // Again (a retried upload): replaced in place, no temporary file left behind.
        same(id, b"small");
        let sub = store.path(id, Variant::Full);
        let names: Vec<String> = std::fs::read_dir(sub.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // Without the first file to link to, the bytes are written instead.
        same(Uuid::new_v4(), b"alone");
    }
}

//! Photo bytes behind one trait, so a multi-server deployment can swap the local directory for an
//! object store. Keys are photo ids; the store never decides who may read.

use std::io::Write;
use std::path::{Path, PathBuf};

use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Full,
    Thumbnail,
}

pub trait PhotoStore: Send + Sync {
    /// Stores the bytes durably (fsync'd) before returning.
    fn put(&self, id: Uuid, variant: Variant, bytes: &[u8]) -> std::io::Result<()>;
    fn get(&self, id: Uuid, variant: Variant) -> std::io::Result<Option<Vec<u8>>>;
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

    fn path(&self, id: Uuid, variant: Variant) -> PathBuf {
        let name = id.simple().to_string();
        let suffix = match variant {
            Variant::Full => "jpg",
            Variant::Thumbnail => "thumb.jpg",
        };
        self.dir.join(&name[..2]).join(format!("{name}.{suffix}"))
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

    fn get(&self, id: Uuid, variant: Variant) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(id, variant)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(std::fs::File, PathBuf)> {
    let path = dir.join(format!(".tmp-{}", Uuid::new_v4().simple()));
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
}

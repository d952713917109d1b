//! `WORKGRAPH_TRUSTED_DOCUMENTS`: the list of documents the server runs, read from its file
//! at start-up and again whenever the process gets SIGHUP ([`reload_on_hangup`]). What a
//! list admits is [`graph::trusted`]'s business; this module only reads files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use graph::trusted::{DocumentSet, LoadError, TrustedDocuments};

/// Why the file could not be used. The cause is in the message, not a source of its own, so
/// the one line an operator reads says it once.
#[derive(Debug, thiserror::Error)]
pub enum TrustedFileError {
    #[error("cannot read the trusted documents {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("the trusted documents {} are unusable: {cause}", path.display())]
    List { path: PathBuf, cause: LoadError },
}

/// The file and the list read from it, shared with the schema. Cloning shares both.
#[derive(Debug, Clone)]
pub struct TrustedFile {
    path: PathBuf,
    documents: Arc<TrustedDocuments>,
}

impl TrustedFile {
    /// Reads `path`; with `introspection`, documents that only introspect run too. Fails
    /// on a file that can't be read or isn't a list: the server must not start with one.
    pub fn load(path: &Path, introspection: bool) -> Result<Self, TrustedFileError> {
        let set = read(path)?;
        tracing::info!(
            path = %path.display(),
            documents = set.len(),
            "serving trusted documents only"
        );
        if set.is_empty() {
            tracing::warn!(path = %path.display(), "the trusted documents list none: every request will be refused");
        }
        Ok(Self {
            path: path.to_owned(),
            documents: Arc::new(TrustedDocuments::new(set, introspection)),
        })
    }

    /// The list in force, for the schema.
    pub fn documents(&self) -> Arc<TrustedDocuments> {
        Arc::clone(&self.documents)
    }

    /// Reads the file again and puts its list in force; answers how many documents it
    /// holds. A file that can't be read or isn't a list leaves the old list in force (and
    /// is logged). Requests being answered meanwhile finish under the list they started
    /// with; none is dropped.
    pub fn reload(&self) -> Result<usize, TrustedFileError> {
        match read(&self.path) {
            Ok(set) => {
                let count = set.len();
                self.documents.replace(set);
                tracing::info!(path = %self.path.display(), documents = count, "reloaded the trusted documents");
                Ok(count)
            }
            Err(err) => {
                tracing::error!(error = %err, "kept the trusted documents in force");
                Err(err)
            }
        }
    }
}

fn read(path: &Path) -> Result<DocumentSet, TrustedFileError> {
    let text = std::fs::read_to_string(path).map_err(|cause| TrustedFileError::Read {
        path: path.to_owned(),
        cause,
    })?;
    DocumentSet::from_json(&text).map_err(|cause| TrustedFileError::List {
        path: path.to_owned(),
        cause,
    })
}

/// Listens for SIGHUP (registered before this returns, so a signal sent afterwards can't
/// end the process) and reloads `file` at each one, until the runtime stops.
#[cfg(unix)]
pub fn reload_on_hangup(file: TrustedFile) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            // Blocking file I/O, off the async workers; errors are logged by `reload`.
            let file = file.clone();
            let _ = tokio::task::spawn_blocking(move || file.reload()).await;
        }
    }))
}

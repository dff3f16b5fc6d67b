//! Where log lines go: stderr, stdout, a file, or nowhere. Runs on the background thread only.
//!
//! A failed write is reported once (the caller turns it into a warning) and the sink moves on:
//! a file falls back to stderr, a standard stream to nothing. The app never sees an error.

use crate::config::LogTarget;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::time::{Duration, Instant};

/// How long one line may wait on a full pipe (stdout/stderr set non-blocking by libuv).
const WOULD_BLOCK_PATIENCE: Duration = Duration::from_millis(500);

pub enum Sink {
    Stderr,
    Stdout,
    Off,
    File { path: String, file: Option<File> },
}

/// What happened when a line could not be written, for a one-time warning.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkFailure {
    pub message: String,
}

impl Sink {
    pub fn new(target: &LogTarget) -> Sink {
        match target {
            LogTarget::Stderr => Sink::Stderr,
            LogTarget::Stdout => Sink::Stdout,
            LogTarget::Off | LogTarget::Js => Sink::Off,
            LogTarget::File(path) => Sink::File { path: path.clone(), file: None },
        }
    }

    /// Writes one line (without its newline). On failure the sink degrades and says how.
    pub fn write_line(&mut self, line: &str) -> Result<(), SinkFailure> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        let result = match self {
            Sink::Off => return Ok(()),
            Sink::Stderr => write_patiently(&mut io::stderr().lock(), &bytes),
            Sink::Stdout => write_patiently(&mut io::stdout().lock(), &bytes),
            Sink::File { path, file } => write_file(path, file, &bytes),
        };
        result.map_err(|e| self.degrade(e, &bytes))
    }

    fn degrade(&mut self, error: io::Error, line: &[u8]) -> SinkFailure {
        let message = match self {
            Sink::File { path, .. } => {
                let message = format!("cannot write the leakwatch log to {path} ({error}); logging to stderr instead");
                *self = Sink::Stderr;
                // The line that failed is not lost.
                let _ = write_patiently(&mut io::stderr().lock(), line);
                message
            }
            Sink::Stderr | Sink::Stdout => {
                let name = if matches!(self, Sink::Stderr) { "stderr" } else { "stdout" };
                *self = Sink::Off;
                format!("cannot write the leakwatch log to {name} ({error}); logging stopped")
            }
            Sink::Off => String::new(),
        };
        SinkFailure { message }
    }
}

/// Appends to the file, opening it on first use and reopening it when it was deleted or
/// rotated (renamed away) since, as logrotate expects. New files are owner-only.
fn write_file(path: &str, file: &mut Option<File>, bytes: &[u8]) -> io::Result<()> {
    if file.as_ref().is_none_or(|f| !still_at_path(f, path)) {
        *file = Some(OpenOptions::new().create(true).append(true).mode(0o600).open(path)?);
    }
    let f = file.as_mut().expect("opened above");
    f.write_all(bytes)
}

fn still_at_path(file: &File, path: &str) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.ino() == named.ino() && open.dev() == named.dev(),
        _ => false,
    }
}

/// Node's stdio pipes are non-blocking: retry briefly instead of losing the line or spinning.
fn write_patiently(out: &mut impl Write, mut bytes: &[u8]) -> io::Result<()> {
    let deadline = Instant::now() + WOULD_BLOCK_PATIENCE;
    while !bytes.is_empty() {
        match out.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(e),
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_path(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("lw-sink-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        dir.to_string_lossy().into_owned()
    }

    #[test]
    fn appends_lines_owner_only() {
        let path = temp_path("append");
        let mut sink = Sink::new(&LogTarget::File(path.clone()));
        sink.write_line("{\"a\":1}").unwrap();
        sink.write_line("{\"a\":2}").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\n{\"a\":2}\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn reopens_after_rotation_and_deletion() {
        let path = temp_path("rotate");
        let rotated = format!("{path}.1");
        let mut sink = Sink::new(&LogTarget::File(path.clone()));
        sink.write_line("one").unwrap();
        std::fs::rename(&path, &rotated).unwrap();
        sink.write_line("two").unwrap();
        std::fs::remove_file(&path).unwrap();
        sink.write_line("three").unwrap();
        assert_eq!(std::fs::read_to_string(&rotated).unwrap(), "one\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three\n");
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(&rotated);
    }

    #[test]
    fn a_full_disk_degrades_once_to_stderr() {
        let mut sink = Sink::new(&LogTarget::File("/dev/full".into()));
        let failure = sink.write_line("x").unwrap_err();
        assert!(failure.message.contains("/dev/full") && failure.message.contains("stderr"), "{failure:?}");
        assert!(matches!(sink, Sink::Stderr));
    }

    #[test]
    fn an_unwritable_path_degrades() {
        let mut sink = Sink::new(&LogTarget::File("/nonexistent-dir/x.log".into()));
        assert!(sink.write_line("x").is_err());
        assert!(matches!(sink, Sink::Stderr));
    }

    #[test]
    fn off_writes_nothing() {
        let mut sink = Sink::new(&LogTarget::Off);
        assert!(sink.write_line("x").is_ok());
    }
}

//! Process figures read from /proc by the background thread: resident set size and open file
//! descriptors. Elsewhere (no /proc) they are `None` and the log says `null`.

use std::fs;

/// Resident set size in bytes, from the `VmRSS` line of /proc/self/status (in kB there, which
/// avoids guessing the page size that /proc/self/statm counts in).
pub fn rss_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Open file descriptors by kind, as `lsof -p` would show them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fds {
    pub total: u64,
    pub socket: u64,
    pub file: u64,
    pub pipe: u64,
    pub other: u64,
}

pub fn open_fds() -> Option<Fds> {
    let mut fds = Fds::default();
    for entry in fs::read_dir("/proc/self/fd").ok()?.flatten() {
        // An fd closed between readdir and readlink is simply not counted.
        let Ok(target) = fs::read_link(entry.path()) else {
            continue;
        };
        fds.count(&target.to_string_lossy());
    }
    // read_dir itself holds one fd open while it runs.
    fds.total = fds.total.saturating_sub(1);
    fds.file = fds.file.saturating_sub(1);
    Some(fds)
}

impl Fds {
    fn count(&mut self, target: &str) {
        self.total += 1;
        if target.starts_with("socket:") {
            self.socket += 1;
        } else if target.starts_with("pipe:") {
            self.pipe += 1;
        } else if target.starts_with('/') {
            self.file += 1;
        } else {
            self.other += 1; // anon_inode:[eventpoll], [eventfd], timerfd, …
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_rss() {
        let status = "Name:\tnode\nVmPeak:\t  100 kB\nVmRSS:\t   51234 kB\nThreads: 7\n";
        assert_eq!(parse_vm_rss(status), Some(51234 * 1024));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
    }

    #[test]
    fn reads_this_process() {
        assert!(rss_bytes().unwrap() > 1024 * 1024);
        // Other tests open files concurrently: an exact match on one of a few tries is proof.
        let exact = (0..50).any(|_| {
            let before = open_fds().unwrap();
            let files: Vec<_> = (0..3).map(|_| std::fs::File::open("/proc/self/status").unwrap()).collect();
            let after = open_fds().unwrap();
            drop(files);
            after.total == before.total + 3 && after.file == before.file + 3
        });
        assert!(exact, "three opened files were never counted exactly");
    }

    #[test]
    fn classifies_targets() {
        let mut f = Fds::default();
        for t in ["socket:[123]", "pipe:[9]", "/tmp/x", "anon_inode:[eventpoll]", "/dev/null"] {
            f.count(t);
        }
        assert_eq!(f, Fds { total: 5, socket: 1, file: 2, pipe: 1, other: 1 });
    }
}

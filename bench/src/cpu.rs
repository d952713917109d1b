//! CPU time from `/proc` (Linux; elsewhere every reading is `None`): where a request's cost
//! goes when the server, PostgreSQL and the load generator share one machine.

use std::fs;

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`): 100 on every Linux
/// architecture in use; reading `sysconf` would take `libc`.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds used so far by a process, and by its reaped children.
fn seconds(stat: &str, with_children: bool) -> Option<f64> {
    // `pid (comm) state ppid …`: the command may hold spaces, so count from its `)`.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .collect();
    // utime, stime, cutime, cstime are fields 14–17: 11–14 after the state (field 3).
    let ticks = |index: usize| fields.get(index)?.parse::<u64>().ok();
    let mut total = ticks(11)? + ticks(12)?;
    if with_children {
        total += ticks(13)? + ticks(14)?;
    }
    Some(total as f64 / TICKS_PER_SECOND)
}

/// CPU seconds used by process `pid`.
pub fn process(pid: u32) -> Option<f64> {
    seconds(
        &fs::read_to_string(format!("/proc/{pid}/stat")).ok()?,
        false,
    )
}

/// CPU seconds used by this process (the load generator).
pub fn this_process() -> Option<f64> {
    process(std::process::id())
}

/// CPU seconds used by every local process named `postgres`, and by the backends they
/// reaped (a backend's time moves to the postmaster when it exits). Every database on the
/// cluster counts, so other work on it shows up here. `None` when there is none (a remote
/// server).
pub fn postgres() -> Option<f64> {
    let mut total = 0.0;
    let mut found = false;
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name
            .to_string_lossy()
            .bytes()
            .all(|byte| byte.is_ascii_digit())
        {
            continue;
        }
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if stat.contains("(postgres)")
            && let Some(seconds) = seconds(&stat, true)
        {
            total += seconds;
            found = true;
        }
    }
    found.then_some(total)
}

/// CPU seconds of the server, of PostgreSQL and of the load generator at one moment.
#[derive(Clone, Copy)]
pub struct Snapshot {
    server: Option<f64>,
    postgres: Option<f64>,
    bench: Option<f64>,
}

impl Snapshot {
    /// `with_postgres` off for SQLite: the database is then inside the server process, and
    /// a local cluster's processes have nothing to do with the run.
    pub fn now(server_pid: u32, with_postgres: bool) -> Self {
        Self {
            server: process(server_pid),
            postgres: if with_postgres { postgres() } else { None },
            bench: this_process(),
        }
    }

    /// CPU seconds used since `earlier`: server, postgres, load generator.
    pub fn since(&self, earlier: &Self) -> Usage {
        let delta = |now: Option<f64>, then: Option<f64>| Some(now? - then?);
        Usage {
            server: delta(self.server, earlier.server),
            postgres: delta(self.postgres, earlier.postgres),
            bench: delta(self.bench, earlier.bench),
        }
    }
}

/// CPU seconds over an interval.
#[derive(Clone, Copy, Default)]
pub struct Usage {
    pub server: Option<f64>,
    pub postgres: Option<f64>,
    pub bench: Option<f64>,
}

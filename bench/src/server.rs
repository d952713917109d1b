//! The server under test: the release `workgraph` binary as a child process, as it is
//! deployed, rather than a library inside the load generator's process.

use std::io::{BufRead as _, BufReader, Read};
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

/// How long the server may take to migrate and answer `/readyz`.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Fails unless `bin` is a file: the release server this benchmark starts.
pub fn require_binary(bin: &Path) -> Result<()> {
    if !bin.is_file() {
        bail!(
            "no server binary at {} (build it: cargo build --release --bin workgraph)",
            bin.display()
        );
    }
    Ok(())
}

/// The load generator's runtime: one thread, since it shares the machine with the server
/// and the database and should take as little of it as it can.
pub fn load_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// A running server; dropping it kills the process.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// The loopback port it listens on.
    pub port: u16,
    /// Every line the server wrote (stdout and stderr), in arrival order.
    output: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `bin` on a free loopback port against `database_url` with `RUST_LOG=log`, in
    /// JSON log lines (so a probe can read fields), with `env` besides, and waits until it
    /// is ready.
    pub async fn start_with(
        bin: &Path,
        database_url: &str,
        log: &str,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        Self::start_on(bin, database_url, log, env, free_port()?).await
    }

    /// [`Server::start_with`] on a given loopback port: the soak's restart comes back where
    /// its clients are already sending.
    pub async fn start_on(
        bin: &Path,
        database_url: &str,
        log: &str,
        env: &[(&str, &str)],
        port: u16,
    ) -> Result<Self> {
        let mut child = Command::new(bin)
            .envs(env.iter().copied())
            .env("DATABASE_URL", database_url)
            .env("WORKGRAPH_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", log)
            .env("WORKGRAPH_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let output = Arc::new(Mutex::new(Vec::new()));
        // Threads, not tasks: they drain the pipes whatever the runtime is doing, so the
        // server never blocks on a full pipe. They end when the process does.
        if let Some(stdout) = child.stdout.take() {
            collect_lines(stdout, Arc::clone(&output));
        }
        if let Some(stderr) = child.stderr.take() {
            collect_lines(stderr, Arc::clone(&output));
        }
        let mut server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            output,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/readyz", self.base);
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before it was ready:\n{}",
                    self.tail(20)
                );
            }
            if let Ok(response) = http.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!(
            "the server was not ready within {READY_WITHIN:?}:\n{}",
            self.tail(20)
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many lines the server has written so far.
    pub fn line_count(&self) -> usize {
        self.output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The lines written after the first `from`.
    pub fn lines_from(&self, from: usize) -> Vec<String> {
        let lines = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().skip(from).cloned().collect()
    }

    /// The last `n` lines, for an error message.
    pub fn tail(&self, n: usize) -> String {
        let lines = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        let start = lines.len().saturating_sub(n);
        lines[start..].join("\n")
    }

    /// The process's peak resident set (`VmHWM`), in KiB; Linux only.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.memory().peak_kib
    }

    /// The process's peak and current resident set, from `/proc/<pid>/status`.
    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib = |field: &str| -> Option<u64> {
            let line = status.lines().find(|line| line.starts_with(field))?;
            line.split_whitespace().nth(1)?.parse().ok()
        };
        Memory {
            peak_kib: kib("VmHWM:"),
            current_kib: kib("VmRSS:"),
        }
    }

    /// Kills the server and waits for it to go.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        // SIGKILL: what is measured is over, and a graceful stop could wait on requests a
        // failed run left in flight.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A process's resident set at one moment, in KiB (`None` where `/proc` has no answer).
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// `VmHWM`: the peak so far.
    pub peak_kib: Option<u64>,
    /// `VmRSS`: now.
    pub current_kib: Option<u64>,
}

/// A port nothing listens on now. The OS could hand it to someone else before the server
/// binds it; on a loopback test machine that race is theoretical.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn collect_lines(pipe: impl Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            into.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }
    });
}

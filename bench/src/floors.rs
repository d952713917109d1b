//! The floors: the tree read straight from PostgreSQL with `pgbench`, with no HTTP, GraphQL
//! or ORM in the way, as one hand-written `json_agg` statement and as the statements the
//! server's loaders actually sent (recorded by [`crate::capture`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::Value;
use uuid::Uuid;

use crate::capture;

/// The tree of `workspace` as `viewer` may see it, as one statement producing the same JSON
/// the server answers: the same visibility rule (workspace membership; projects the viewer
/// is a member of or manages), the same orders (projects by id, tasks by creation, logs by
/// `logged_at`, ties by id) and the same page sizes.
pub fn json_agg_statement(workspace: Uuid, viewer: Uuid) -> String {
    let sql = format!(
        "SELECT json_build_object('data', json_build_object('workspace',
           json_build_object('projects', json_build_object('nodes', COALESCE((
             SELECT json_agg(json_build_object('id', p.id, 'name', p.name,
               'tasks', json_build_object('nodes', COALESCE((
                 SELECT json_agg(json_build_object('id', t.id, 'name', t.name, 'status', t.status,
                   'timeLogs', json_build_object('nodes', COALESCE((
                     SELECT json_agg(json_build_object('id', l.id, 'hours', l.hours,
                       'loggedAt', l.logged_at) ORDER BY l.logged_at, l.id)
                     FROM (SELECT id, hours, logged_at FROM time_logs WHERE task_id = t.id
                           ORDER BY logged_at, id LIMIT 8) AS l
                   ), '[]'::json))) ORDER BY t.created_at, t.id)
                 FROM (SELECT id, name, status, created_at FROM tasks WHERE project_id = p.id
                       ORDER BY created_at, id LIMIT 25) AS t
               ), '[]'::json))) ORDER BY p.id)
             FROM (SELECT id, name FROM projects AS pr WHERE pr.workspace_id = '{workspace}'
                     AND (EXISTS (SELECT 1 FROM project_users AS pu
                                  WHERE pu.project_id = pr.id AND pu.user_id = '{viewer}')
                          OR EXISTS (SELECT 1 FROM workspace_users AS wu
                                     WHERE wu.workspace_id = pr.workspace_id
                                       AND wu.user_id = '{viewer}'
                                       AND wu.role IN ('OWNER', 'ADMIN')))
                   ORDER BY id LIMIT 20) AS p
           ), '[]'::json)))))
         WHERE EXISTS (SELECT 1 FROM workspace_users
                       WHERE workspace_id = '{workspace}' AND user_id = '{viewer}')"
    );
    // One line: what pgbench reads as one command, and what a log shows as one.
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs the one-statement tree once and checks it lists the same projects, tasks and logs
/// (ids and hours, in order) as the server's answer, so the floor does the same work.
pub async fn check_same_tree(
    db: &DatabaseConnection,
    statement: &str,
    server: &Value,
) -> Result<()> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT ({statement})::text"),
        ))
        .await?
        .context("the json_agg statement returned no row")?;
    let text: String = row.try_get_by_index(0)?;
    let floor: Value = serde_json::from_str(&text)?;
    if skeleton(&floor) != skeleton(server) {
        bail!("the json_agg statement and the server disagree on the tree");
    }
    Ok(())
}

/// Ids (and hours) of every node in a tree answer, depth first.
fn skeleton(answer: &Value) -> Vec<String> {
    let nodes = |value: &Value, field: &str| {
        value[field]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for project in nodes(&answer["data"]["workspace"], "projects") {
        out.push(project["id"].to_string());
        for task in nodes(&project, "tasks") {
            out.push(format!("{} {}", task["id"], task["status"]));
            for log in nodes(&task, "timeLogs") {
                out.push(format!("{} {}", log["id"], log["hours"]));
            }
        }
    }
    out
}

/// A pgbench script running `statements` in order: one transaction is one tree request's
/// worth of statements.
pub fn batched_script(statements: &[capture::Statement]) -> Result<String> {
    let mut script = String::new();
    for statement in statements {
        match &statement.literal {
            Ok(sql) => {
                script.push_str(sql.trim().trim_end_matches(';'));
                script.push_str(";\n");
            }
            Err(why) => bail!("cannot replay `{}`: {why}", statement.sql),
        }
    }
    Ok(script)
}

/// What pgbench reported.
pub struct Pgbench {
    pub tps: f64,
    pub latency_ms: f64,
    pub transactions: u64,
    pub failed: u64,
}

/// `pgbench -n -M prepared -T seconds -c clients -j 2 -f script… url`, its output in
/// `out.out` and `out.err`; bounded: killed if it has not finished a minute after its time.
pub async fn pgbench(
    bin: &Path,
    url: &str,
    scripts: &[PathBuf],
    out: &Path,
    seconds: u64,
    clients: usize,
) -> Result<Pgbench> {
    let (out, err) = (out.with_extension("out"), out.with_extension("err"));
    let mut command = Command::new(bin);
    command
        .args(["-n", "-M", "prepared", "-j", "2"])
        .arg("-T")
        .arg(seconds.to_string())
        .arg("-c")
        .arg(clients.to_string());
    for script in scripts {
        command.arg("-f").arg(script);
    }
    let child = command
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out)?)
        .stderr(std::fs::File::create(&err)?)
        .spawn()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let mut child = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(seconds + 60);
    let status = loop {
        if let Some(status) = child.0.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            bail!("pgbench did not finish in time");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stdout = std::fs::read_to_string(&out)?;
    let stderr = std::fs::read_to_string(&err)?;
    if !status.success() {
        bail!("pgbench failed ({status}):\n{stdout}{}", tail(&stderr, 10));
    }
    let number = |prefix: &str| -> Option<f64> {
        let line = stdout.lines().find(|line| line.starts_with(prefix))?;
        line[prefix.len()..].split_whitespace().next()?.parse().ok()
    };
    let result = Pgbench {
        tps: number("tps = ").context("pgbench printed no tps")?,
        latency_ms: number("latency average = ").unwrap_or(f64::NAN),
        transactions: number("number of transactions actually processed: ").unwrap_or(0.0) as u64,
        // Printed by pgbench 15 and later.
        failed: number("number of failed transactions: ").unwrap_or(0.0) as u64,
    };
    if result.failed > 0 || result.transactions == 0 {
        bail!(
            "pgbench ran {} transactions, {} failed:\n{}",
            result.transactions,
            result.failed,
            tail(&stderr, 10)
        );
    }
    Ok(result)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A child process that does not outlive its handle (a cancelled run leaves none behind).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where the scripts go: the caller's directory (kept), or a temporary one.
pub enum ScriptDir {
    Kept(PathBuf),
    Temporary(tempfile::TempDir),
}

impl ScriptDir {
    pub fn new(keep: Option<&Path>) -> Result<Self> {
        Ok(match keep {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                Self::Kept(dir.to_owned())
            }
            None => Self::Temporary(tempfile::tempdir()?),
        })
    }

    pub fn path(&self) -> &Path {
        match self {
            Self::Kept(dir) => dir,
            Self::Temporary(dir) => dir.path(),
        }
    }
}

//! A loopback proxy between the server and PostgreSQL that records every statement the
//! server executes, with its parameters written in as literals.
//!
//! The server's statement text is not visible from outside otherwise: it turns off sqlx's
//! statement log, `pg_stat_statements` needs a server restart to load, and PostgreSQL's own
//! log (`log_statement`) goes wherever the cluster's configuration sends it. The wire
//! protocol always carries it: an extended-protocol `Parse` has the SQL and its parameter
//! types, `Bind` the values (sqlx sends them in binary), `Execute` runs it. Each `Execute`
//! (and each simple `Query`) is one statement executed, recorded as runnable SQL for the
//! pgbench script. Only the probe pass goes through here: the measured server talks to
//! PostgreSQL directly.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Duration as TimeDelta};

/// One executed statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// As the server sent it, with `$n` placeholders.
    pub sql: String,
    /// With each placeholder replaced by its value as a literal, or why it could not be.
    pub literal: Result<String, String>,
}

type Log = Arc<Mutex<Vec<Statement>>>;

/// The running proxy; dropping it stops accepting (open connections end with the server).
pub struct Capture {
    pub port: u16,
    log: Log,
    stop: Arc<AtomicBool>,
}

impl Capture {
    /// Listens on a free loopback port and forwards each connection to `upstream`.
    pub fn start(upstream: (String, u16)) -> Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        // Non-blocking so the accept loop can notice `stop` instead of blocking forever.
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let log: Log = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (accept_log, accept_stop) = (Arc::clone(&log), Arc::clone(&stop));
        thread::spawn(move || {
            while !accept_stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let log = Arc::clone(&accept_log);
                        let upstream = upstream.clone();
                        thread::spawn(move || {
                            let _ = relay(client, &upstream, log);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(Self { port, log, stop })
    }

    /// The statements recorded since the last call, in the order they were sent.
    pub fn take(&self) -> Vec<Statement> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Connects `client` to `upstream`: answers are copied as they are, requests are read
/// message by message on their way.
fn relay(client: TcpStream, upstream: &(String, u16), log: Log) -> io::Result<()> {
    client.set_nonblocking(false)?;
    let server = TcpStream::connect((upstream.0.as_str(), upstream.1))?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut server_read, mut client_write) = (server.try_clone()?, client.try_clone()?);
    thread::spawn(move || {
        let _ = io::copy(&mut server_read, &mut client_write);
        let _ = client_write.shutdown(Shutdown::Both);
    });
    let result = read_requests(client, server.try_clone()?, &log);
    let _ = server.shutdown(Shutdown::Both);
    result
}

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

fn read_requests(mut client: TcpStream, mut server: TcpStream, log: &Log) -> io::Result<()> {
    // The first packet has no type byte: the startup message, or a request for TLS or GSS
    // encryption (the proxied URL says `sslmode=disable`, but should one come anyway, what
    // follows may be encrypted: relay it unread).
    let mut length = [0u8; 4];
    client.read_exact(&mut length)?;
    let body = read_body(&mut client, length)?;
    server.write_all(&length)?;
    server.write_all(&body)?;
    let code = body
        .get(..4)
        .map(|code| u32::from_be_bytes([code[0], code[1], code[2], code[3]]));
    if let Some(SSL_REQUEST | GSSENC_REQUEST) = code {
        io::copy(&mut client, &mut server)?;
        return Ok(());
    }
    let mut statements: HashMap<String, (String, Vec<u32>)> = HashMap::new();
    let mut portals: HashMap<String, (String, Vec<Param>)> = HashMap::new();
    loop {
        let mut header = [0u8; 5];
        match client.read_exact(&mut header) {
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            other => other?,
        }
        let body = read_body(&mut client, [header[1], header[2], header[3], header[4]])?;
        server.write_all(&header)?;
        server.write_all(&body)?;
        let mut reader = Reader { buf: &body, at: 0 };
        match header[0] {
            b'P' => {
                if let Some((name, sql, types)) = reader.parse() {
                    statements.insert(name, (sql, types));
                }
            }
            b'B' => {
                if let Some((portal, statement, params)) = reader.bind() {
                    portals.insert(portal, (statement, params));
                }
            }
            b'E' => {
                let Some(portal) = reader.cstr() else {
                    continue;
                };
                let Some((name, params)) = portals.get(&portal) else {
                    continue;
                };
                let Some((sql, types)) = statements.get(name) else {
                    continue;
                };
                let literal = with_literals(sql, types, params);
                push(log, sql.clone(), literal);
            }
            b'Q' => {
                if let Some(sql) = reader.cstr() {
                    push(log, sql.clone(), Ok(sql));
                }
            }
            b'X' => return Ok(()),
            _ => {}
        }
    }
}

fn push(log: &Log, sql: String, literal: Result<String, String>) {
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Statement { sql, literal });
}

/// A message body after its 4-byte length (which counts itself).
fn read_body(client: &mut TcpStream, length: [u8; 4]) -> io::Result<Vec<u8>> {
    let length = u32::from_be_bytes(length) as usize;
    if !(4..=64 << 20).contains(&length) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad message length",
        ));
    }
    let mut body = vec![0; length - 4];
    client.read_exact(&mut body)?;
    Ok(body)
}

/// A bound parameter: its format (0 text, 1 binary) and bytes, `None` for NULL.
struct Param {
    format: i16,
    value: Option<Vec<u8>>,
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.buf.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }

    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Option<i32> {
        self.take(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn cstr(&mut self) -> Option<String> {
        let rest = self.buf.get(self.at..)?;
        let end = rest.iter().position(|byte| *byte == 0)?;
        self.at += end + 1;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// `Parse`: statement name, SQL, parameter type OIDs.
    fn parse(&mut self) -> Option<(String, String, Vec<u32>)> {
        let name = self.cstr()?;
        let sql = self.cstr()?;
        let count = usize::try_from(self.i16()?).ok()?;
        let types = (0..count)
            .map(|_| self.i32().map(|oid| oid as u32))
            .collect::<Option<_>>()?;
        Some((name, sql, types))
    }

    /// `Bind`: portal, statement, parameter formats and values.
    fn bind(&mut self) -> Option<(String, String, Vec<Param>)> {
        let portal = self.cstr()?;
        let statement = self.cstr()?;
        let format_count = usize::try_from(self.i16()?).ok()?;
        let formats: Vec<i16> = (0..format_count)
            .map(|_| self.i16())
            .collect::<Option<_>>()?;
        let count = usize::try_from(self.i16()?).ok()?;
        let mut params = Vec::with_capacity(count);
        for index in 0..count {
            // No codes: all text; one code: for every parameter; else one each.
            let format = match formats.len() {
                0 => 0,
                1 => formats[0],
                _ => *formats.get(index)?,
            };
            let length = self.i32()?;
            let value = match usize::try_from(length) {
                Ok(length) => Some(self.take(length)?.to_vec()),
                Err(_) => None,
            };
            params.push(Param { format, value });
        }
        Some((portal, statement, params))
    }
}

/// `sql` with `$n` outside quotes replaced by parameter n as a typed literal.
fn with_literals(sql: &str, types: &[u32], params: &[Param]) -> Result<String, String> {
    let mut out = String::with_capacity(sql.len() + params.len() * 48);
    let mut chars = sql.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((_, c)) = chars.next() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(|(_, next)| next.is_ascii_digit()) => {
                let mut number = 0usize;
                while let Some((_, digit)) =
                    chars.peek().copied().filter(|(_, d)| d.is_ascii_digit())
                {
                    number = number * 10 + digit.to_digit(10).map_or(0, |d| d as usize);
                    chars.next();
                }
                let index = number.wrapping_sub(1);
                let param = params
                    .get(index)
                    .ok_or_else(|| format!("${number} has no bound value"))?;
                let oid = types.get(index).copied().unwrap_or(0);
                out.push_str(&literal(oid, param)?);
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    Ok(out)
}

/// One parameter as SQL: a quoted, cast literal. Binary values are decoded by type.
fn literal(oid: u32, param: &Param) -> Result<String, String> {
    let Some(bytes) = &param.value else {
        return Ok("NULL".into());
    };
    let unsupported = || format!("a binary parameter of type OID {oid}");
    let type_name = match oid {
        16 => "boolean",
        17 => "bytea",
        20 => "int8",
        21 => "int2",
        23 => "int4",
        25 | 19 => "text",
        1043 => "varchar",
        700 => "float4",
        701 => "float8",
        1114 => "timestamp",
        1184 => "timestamptz",
        2950 => "uuid",
        _ if param.format == 0 => "",
        _ => return Err(unsupported()),
    };
    let text = if param.format == 0 {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        let int = |n: usize| -> Result<i64, String> {
            let array: [u8; 8] = match n {
                2 => {
                    let b: [u8; 2] = bytes.as_slice().try_into().map_err(|_| unsupported())?;
                    i64::from(i16::from_be_bytes(b)).to_be_bytes()
                }
                4 => {
                    let b: [u8; 4] = bytes.as_slice().try_into().map_err(|_| unsupported())?;
                    i64::from(i32::from_be_bytes(b)).to_be_bytes()
                }
                _ => bytes.as_slice().try_into().map_err(|_| unsupported())?,
            };
            Ok(i64::from_be_bytes(array))
        };
        match oid {
            16 => (bytes.first() == Some(&1)).to_string(),
            17 => format!(
                "\\x{}",
                bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ),
            20 => int(8)?.to_string(),
            21 => int(2)?.to_string(),
            23 => int(4)?.to_string(),
            700 => {
                let b: [u8; 4] = bytes.as_slice().try_into().map_err(|_| unsupported())?;
                f32::from_be_bytes(b).to_string()
            }
            701 => f64::from_bits(int(8)? as u64).to_string(),
            1114 | 1184 => {
                // Microseconds since 2000-01-01 00:00 UTC.
                let epoch_2000 =
                    DateTime::from_timestamp(946_684_800, 0).ok_or_else(unsupported)?;
                let at = epoch_2000 + TimeDelta::microseconds(int(8)?);
                at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
            }
            2950 => uuid::Uuid::from_slice(bytes)
                .map_err(|_| unsupported())?
                .to_string(),
            _ => String::from_utf8_lossy(bytes).into_owned(),
        }
    };
    let quoted = format!("'{}'", text.replace('\'', "''"));
    Ok(match type_name {
        "" => quoted,
        "int2" | "int4" | "int8" | "boolean" => text,
        name => format!("{quoted}::{name}"),
    })
}

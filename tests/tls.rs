//! TLS through the core: a netproc TLS server and clients (`:nowait` and blocking), the
//! certificate checks and their messages, handshake failures and time-outs, with
//! certificates made at test time (tests/support/certs.rs).

#[path = "support/certs.rs"]
mod certs;

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use netproc::core::{ContactQuery, Host, ProcRef, Shared, Value};

#[derive(Default)]
struct Recorder {
    log: Vec<String>,
    /// Bytes each filter got, by process name.
    received: std::collections::HashMap<String, Vec<u8>>,
}

impl Host for Recorder {
    fn filter(&mut self, process: &ProcRef, _filter: &Value, data: &[u8]) {
        self.log.push(format!("filter {}", process.name_text()));
        self.received.entry(process.name_text()).or_default().extend_from_slice(data);
    }
    fn sentinel(&mut self, process: &ProcRef, _sentinel: &Value, event: &netproc::core::event::SentinelEvent) {
        self.log.push(format!("sentinel {} {:?} {}", process.name_text(), &*event.message(), process.status().name()));
    }
    fn log(
        &mut self,
        server: &ProcRef,
        _log: &Value,
        client: Option<&ProcRef>,
        event: &netproc::core::event::LogEvent,
    ) {
        let client = client.map(|c| c.name_text()).unwrap_or_default();
        self.log.push(format!("log {} {} {:?}", server.name_text(), client, &*event.message()));
    }
    fn buffer_name(&mut self, _buffer: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
}

fn cert_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("netproc-tls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        certs::write_all(&dir).unwrap();
        dir
    })
}

fn file(name: &str) -> Value {
    Value::string(cert_dir().join(name).to_str().unwrap())
}

/// `(gnutls-x509pki KEY VALUE ...)`.
fn tls(plist: Vec<(&str, Value)>) -> Value {
    let mut items = vec![Value::symbol("gnutls-x509pki")];
    for (key, value) in plist {
        items.push(Value::symbol(key));
        items.push(value);
    }
    Value::list(items)
}

fn args(pairs: Vec<(&str, Value)>) -> Vec<(Value, Value)> {
    pairs.into_iter().map(|(k, v)| (Value::symbol(k), v)).collect()
}

fn pump_until(ctx: &Shared, host: &mut Recorder, done: impl Fn(&Recorder) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(host) {
        assert!(Instant::now() < deadline, "timed out; log so far: {:#?}", host.log);
        ctx.poll(Some(Duration::from_millis(20)), host).unwrap();
    }
}

fn marker() -> Value {
    Value::symbol("callback")
}

/// A TLS echo-less server with `cert`/`key`; returns it and its port.
fn server(ctx: &Shared, host: &mut Recorder, name: &str, cert: &str, key: &str, extra: Vec<(&str, Value)>) -> (ProcRef, i64) {
    let mut plist = vec![(":keylist", Value::list(vec![Value::list(vec![file(key), file(cert)])]))];
    plist.extend(extra);
    let server = ctx
        .make_network_process(
            args(vec![
                (":name", Value::string(name)),
                (":server", Value::T),
                (":host", Value::string("127.0.0.1")),
                (":service", Value::T),
                (":filter", marker()),
                (":sentinel", marker()),
                (":log", marker()),
                (":tls-parameters", tls(plist)),
            ]),
            host,
        )
        .unwrap()
        .unwrap();
    let Value::Int(port) = server.contact(&ContactQuery::Key(":service".into()), false) else { panic!("no port") };
    (server, port)
}

fn client(ctx: &Shared, host: &mut Recorder, name: &str, port: i64, nowait: bool, plist: Vec<(&str, Value)>) -> netproc::core::error::Result<Option<ProcRef>> {
    ctx.make_network_process(
        args(vec![
            (":name", Value::string(name)),
            (":host", Value::string("127.0.0.1")),
            (":service", Value::Int(port)),
            (":nowait", if nowait { Value::T } else { Value::Nil }),
            (":filter", marker()),
            (":sentinel", marker()),
            (":tls-parameters", tls(plist)),
        ]),
        host,
    )
}

fn trusting_ca() -> Vec<(&'static str, Value)> {
    vec![(":trustfiles", Value::list(vec![file("ca.pem")]))]
}

#[test]
fn nowait_client_opens_after_the_handshake_and_talks_both_ways() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let (_server, port) = server(&ctx, &mut host, "srv", "server.pem", "server.key", vec![]);
    let c = client(&ctx, &mut host, "c", port, true, trusting_ca()).unwrap().unwrap();
    assert_eq!(c.status().name(), "connect");
    pump_until(&ctx, &mut host, |h| h.log.iter().any(|l| l.starts_with("sentinel c ")));
    assert_eq!(c.status().name(), "open");
    assert_eq!(host.log.iter().filter(|l| l.starts_with("sentinel c ")).count(), 1);
    assert!(host.log.contains(&"sentinel c \"open\\n\" open".to_string()), "{:#?}", host.log);
    let protocol = c.contact(&ContactQuery::Key(":tls-protocol".into()), false);
    assert_eq!(protocol.princ(), "TLS1.3");
    // The server's connection is announced after its own handshake.
    pump_until(&ctx, &mut host, |h| h.log.iter().any(|l| l.starts_with("log srv ")));
    ctx.send(&c, b"hello through TLS").unwrap();
    pump_until(&ctx, &mut host, |h| h.received.values().any(|bytes| bytes == b"hello through TLS"));
    let accepted = host.received.keys().find(|name| name.starts_with("srv ")).cloned().unwrap();
    let conn = ctx.get_process(accepted.as_bytes()).unwrap();
    ctx.send(&conn, b"and back").unwrap();
    pump_until(&ctx, &mut host, |h| h.received.get("c").is_some_and(|b| b == b"and back"));
}

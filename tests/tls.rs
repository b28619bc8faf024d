//! TLS through the core: a netproc TLS server and clients (`:nowait` and blocking), the
//! certificate checks and their messages, handshake failures and time-outs, with
//! certificates made at test time (tests/support/certs.rs).

#[path = "support/certs.rs"]
mod certs;

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
    /// What `tls_check` answers (None: pass).
    refusal: Option<String>,
}

impl Host for Recorder {
    fn filter(&mut self, process: &ProcRef, _filter: &Value, data: &[u8]) {
        self.log.push(format!("filter {}", process.name_text()));
        self.received.entry(process.name_text()).or_default().extend_from_slice(data);
    }
    fn sentinel(
        &mut self,
        process: &ProcRef,
        _sentinel: &Value,
        event: &netproc::core::event::SentinelEvent,
    ) {
        self.log.push(format!(
            "sentinel {} {:?} {}",
            process.name_text(),
            &*event.message(),
            process.status().name()
        ));
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
    fn tls_check(&mut self, process: &ProcRef) -> Result<(), String> {
        let peer = process.tls_peer_status().is_non_nil();
        self.log.push(format!("check {} {} peer:{peer}", process.name_text(), process.status().name()));
        self.refusal.clone().map_or(Ok(()), Err)
    }
}

fn cert_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Under target/ (Cargo's scratch directory for integration tests), made anew each
        // run: nothing is left behind in /tmp.
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-test-certs");
        let _ = std::fs::remove_dir_all(&dir);
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
fn server(
    ctx: &Shared,
    host: &mut Recorder,
    name: &str,
    cert: &str,
    key: &str,
    extra: Vec<(&str, Value)>,
) -> (ProcRef, i64) {
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
    let Value::Int(port) = server.contact(&ContactQuery::Key(":service".into()), false) else {
        panic!("no port")
    };
    (server, port)
}

fn client(
    ctx: &Shared,
    host: &mut Recorder,
    name: &str,
    port: i64,
    nowait: bool,
    plist: Vec<(&str, Value)>,
) -> netproc::core::error::Result<Option<ProcRef>> {
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

fn sentinels_of<'a>(host: &'a Recorder, name: &str) -> Vec<&'a String> {
    let prefix = format!("sentinel {name} ");
    host.log.iter().filter(|line| line.starts_with(&prefix)).collect()
}

/// A nowait client to `port` with `plist` fails with exactly one sentinel carrying
/// `message`; a blocking one fails its create call with the same message.
fn fails_both_ways(port: i64, plist: Vec<(&str, Value)>, message: &str) {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let c = client(&ctx, &mut host, "c", port, true, plist.clone()).unwrap().unwrap();
    pump_until(&ctx, &mut host, |h| !sentinels_of(h, "c").is_empty());
    // A few more turns: no second sentinel comes.
    for _ in 0..5 {
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    let expected = format!("sentinel c {:?} failed", format!("failed with code {message}\n"));
    assert_eq!(sentinels_of(&host, "c"), vec![&expected], "{:#?}", host.log);
    assert_eq!(c.status().name(), "failed");
    assert!(!host.log.iter().any(|l| l.starts_with("filter c")));
    let err = client(&ctx, &mut host, "b", port, false, plist).unwrap_err();
    assert_eq!(err.message(), message);
}

/// A netproc TLS server on its own thread's context, serving until the test ends.
fn background_server(cert: &'static str, key: &'static str, extra: Vec<(&'static str, Value)>) -> i64 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ctx = Shared::new().unwrap();
        let mut host = Recorder::default();
        let (_server, port) = server(&ctx, &mut host, "bg", cert, key, extra);
        tx.send(port).unwrap();
        loop {
            ctx.poll(Some(Duration::from_millis(50)), &mut host).unwrap();
        }
    });
    rx.recv().unwrap()
}

#[test]
fn certificate_failures_name_their_reason() {
    let good = background_server("server.pem", "server.key", vec![]);
    let expired = background_server("expired.pem", "expired.key", vec![]);
    let wrong = background_server("wrong-name.pem", "wrong-name.key", vec![]);
    let own = background_server("self-signed.pem", "self-signed.key", vec![]);
    let other_ca = vec![(":trustfiles", Value::list(vec![file("other-ca.pem")]))];
    fails_both_ways(
        good,
        other_ca,
        "Certificate validation failed 127.0.0.1: the certificate was signed by an unknown and therefore untrusted authority",
    );
    fails_both_ways(
        expired,
        trusting_ca(),
        "Certificate validation failed 127.0.0.1: certificate has expired",
    );
    fails_both_ways(wrong, trusting_ca(), "The x509 certificate does not match \"127.0.0.1\"");
    fails_both_ways(
        own,
        trusting_ca(),
        "Certificate validation failed 127.0.0.1: the certificate was signed by an unknown and therefore untrusted authority",
    );
}

#[test]
fn lenient_checks_open_with_their_findings_kept() {
    let expired = background_server("expired.pem", "expired.key", vec![]);
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    // Emacs's default: (:verify-error nil) leaves the decision to the Network Security Manager.
    let mut plist = trusting_ca();
    plist.push((":verify-error", Value::Nil));
    let c = client(&ctx, &mut host, "c", expired, true, plist).unwrap().unwrap();
    pump_until(&ctx, &mut host, |h| !sentinels_of(h, "c").is_empty());
    assert_eq!(c.status().name(), "open");
    // :verify-flags 64 (no time checks) with every check fatal opens too.
    let mut plist = trusting_ca();
    plist.push((":verify-flags", Value::Int(64)));
    let b = client(&ctx, &mut host, "b", expired, false, plist).unwrap().unwrap();
    assert_eq!(b.status().name(), "open");
    // Only :hostname fatal: a wrong name still fails.
    let wrong = background_server("wrong-name.pem", "wrong-name.key", vec![]);
    let mut plist = trusting_ca();
    plist.push((":verify-error", Value::list(vec![Value::symbol(":hostname")])));
    let err = client(&ctx, &mut host, "w", wrong, false, plist).unwrap_err();
    assert_eq!(err.message(), "The x509 certificate does not match \"127.0.0.1\"");
}

#[test]
fn a_refused_port_fails_once_with_its_errno() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port() as i64
    };
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let c = client(&ctx, &mut host, "c", port, true, trusting_ca()).unwrap().unwrap();
    pump_until(&ctx, &mut host, |h| !sentinels_of(h, "c").is_empty());
    for _ in 0..5 {
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    assert_eq!(sentinels_of(&host, "c"), vec!["sentinel c \"failed with code 111\\n\" failed"]);
    assert_eq!(c.status().name(), "failed");
}

#[test]
fn a_peer_that_closes_or_stalls_in_the_handshake_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port() as i64;
    let closer = std::thread::spawn(move || {
        // First connection: closed at once. Second: held open, silent.
        // Read the ClientHello first, so that the close is an end of file, not a reset.
        let (mut first, _) = listener.accept().unwrap();
        let mut hello = [0u8; 5];
        std::io::Read::read_exact(&mut first, &mut hello).unwrap();
        assert_eq!(hello[0], 22, "a TLS handshake record");
        first.shutdown(std::net::Shutdown::Write).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        drop(first);
        let (second, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(2));
        drop(second);
    });
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    client(&ctx, &mut host, "closed", port, true, trusting_ca()).unwrap().unwrap();
    pump_until(&ctx, &mut host, |h| !sentinels_of(h, "closed").is_empty());
    assert_eq!(
        sentinels_of(&host, "closed"),
        vec!["sentinel closed \"failed with code TLS handshake failed: the peer closed the connection\\n\" failed"]
    );
    ctx.update_settings(|settings| settings.tls_handshake_timeout = Duration::from_millis(300));
    let started = Instant::now();
    client(&ctx, &mut host, "stalled", port, true, trusting_ca()).unwrap().unwrap();
    pump_until(&ctx, &mut host, |h| !sentinels_of(h, "stalled").is_empty());
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        sentinels_of(&host, "stalled"),
        vec!["sentinel stalled \"failed with code TLS handshake timed out after 0.3 seconds\\n\" failed"]
    );
    closer.join().unwrap();
}

#[test]
fn starttls_upgrades_a_plain_connection_in_place() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let srv = ctx
        .make_network_process(
            args(vec![
                (":name", Value::string("srv")),
                (":server", Value::T),
                (":host", Value::string("127.0.0.1")),
                (":service", Value::T),
                (":filter", marker()),
                (":sentinel", marker()),
            ]),
            &mut host,
        )
        .unwrap()
        .unwrap();
    let Value::Int(port) = srv.contact(&ContactQuery::Key(":service".into()), false) else { panic!() };
    let c = ctx
        .make_network_process(
            args(vec![
                (":name", Value::string("c")),
                (":host", Value::string("localhost")),
                (":service", Value::Int(port)),
                (":filter", marker()),
                (":sentinel", marker()),
            ]),
            &mut host,
        )
        .unwrap()
        .unwrap();
    ctx.send(&c, b"STARTTLS\n").unwrap();
    pump_until(&ctx, &mut host, |h| {
        h.received.iter().any(|(n, b)| n.starts_with("srv ") && b == b"STARTTLS\n")
    });
    let accepted = host.received.keys().find(|n| n.starts_with("srv ")).cloned().unwrap();
    let conn = ctx.get_process(accepted.as_bytes()).unwrap();
    // The reply goes out in the clear, then the server side waits for the handshake.
    ctx.send(&conn, b"OK begin TLS\n").unwrap();
    let server_keys =
        tls(vec![(":keylist", Value::list(vec![Value::list(vec![file("server.key"), file("server.pem")])]))]);
    ctx.negotiate_tls(&conn, &server_keys).unwrap();
    pump_until(&ctx, &mut host, |h| h.received.get("c").is_some_and(|b| b == b"OK begin TLS\n"));
    ctx.negotiate_tls(&c, &tls(trusting_ca())).unwrap();
    // Sent right away, before the handshake is done: it waits, then goes encrypted.
    ctx.send(&c, b"secret").unwrap();
    pump_until(&ctx, &mut host, |h| h.received.get(&accepted).is_some_and(|b| b.ends_with(b"secret")));
    assert_eq!(host.received[&accepted], b"STARTTLS\nsecret");
    assert_eq!(c.contact(&ContactQuery::Key(":tls-protocol".into()), false).princ(), "TLS1.3");
    assert_eq!(c.status().name(), "open");
    // A second upgrade is refused.
    assert_eq!(
        ctx.negotiate_tls(&c, &tls(trusting_ca())).unwrap_err().message(),
        "Process c already uses TLS"
    );
}

/// A host that hashes what its filters get and counts the bytes.
struct Digesting {
    digest: ring::digest::Context,
    bytes: u64,
    closed: bool,
}

impl Host for Digesting {
    fn filter(&mut self, _process: &ProcRef, _filter: &Value, data: &[u8]) {
        self.digest.update(data);
        self.bytes += data.len() as u64;
    }
    fn sentinel(
        &mut self,
        _process: &ProcRef,
        _sentinel: &Value,
        event: &netproc::core::event::SentinelEvent,
    ) {
        if event.message().starts_with("connection broken") {
            self.closed = true;
        }
    }
    fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &netproc::core::event::LogEvent) {}
    fn buffer_name(&mut self, _buffer: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
}

/// Deterministic bytes that do not compress or repeat in short periods (xorshift).
fn fill(block: &mut [u8], state: &mut u64) {
    for chunk in block.chunks_mut(8) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
}

#[test]
fn a_gibibyte_through_tls_arrives_intact() {
    const TOTAL: u64 = 1 << 30;
    let (tx, rx) = std::sync::mpsc::channel();
    let receiver = std::thread::spawn(move || {
        let ctx = Shared::new().unwrap();
        let mut host =
            Digesting { digest: ring::digest::Context::new(&ring::digest::SHA256), bytes: 0, closed: false };
        let mut recorder = Recorder::default();
        let (_server, port) = server(&ctx, &mut recorder, "sink", "server.pem", "server.key", vec![]);
        tx.send(port).unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !host.closed {
            assert!(Instant::now() < deadline, "received {} bytes", host.bytes);
            ctx.poll(Some(Duration::from_millis(100)), &mut host).unwrap();
        }
        (host.bytes, host.digest.finish().as_ref().to_vec())
    });
    let port = rx.recv().unwrap();
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let c = client(&ctx, &mut host, "source", port, false, trusting_ca()).unwrap().unwrap();
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut block = vec![0u8; 1 << 20];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    for _ in 0..TOTAL / block.len() as u64 {
        fill(&mut block, &mut state);
        digest.update(&block);
        // Keep at most a few MiB queued: the send queue is bounded.
        while ctx.output_pending(&c) > 4 << 20 {
            assert!(Instant::now() < deadline);
            ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
        }
        ctx.send(&c, &block).unwrap();
    }
    while ctx.output_pending(&c) > 0 {
        assert!(Instant::now() < deadline);
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    // Deleted with the last records maybe still in rustls: they drain before the close.
    ctx.delete_process(&c, &mut host).unwrap();
    while !receiver.is_finished() {
        assert!(Instant::now() < deadline);
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    let (received, remote_digest) = receiver.join().unwrap();
    assert_eq!(received, TOTAL);
    assert_eq!(remote_digest, digest.finish().as_ref());
}

#[test]
fn a_client_deleted_in_its_handshake_sends_nothing_it_queued() {
    // A server that accepts and never answers: the handshake cannot finish.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port() as i64;
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let c = client(&ctx, &mut host, "c", port, true, trusting_ca()).unwrap().unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    ctx.send(&c, b"never in the clear").unwrap();
    for _ in 0..5 {
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    ctx.delete_process(&c, &mut host).unwrap();
    for _ in 0..5 {
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    assert_eq!(ctx.output_lost(&c), 18);
    // The peer got the ClientHello, then the close: nothing else.
    let mut got = Vec::new();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    std::io::Read::read_to_end(&mut peer, &mut got).unwrap();
    assert_eq!(got[0], 22, "a handshake record");
    assert!(!got.windows(5).any(|w| w == b"never"), "plaintext reached the peer");
}

/// A TLS server and one client with the given address arguments; the client's sentinel
/// transcript and its :tls-protocol.
fn round_trip(
    server_address: Vec<(&str, Value)>,
    client_address: Vec<(&str, Value)>,
    client_tls: Vec<(&str, Value)>,
) -> (Vec<String>, String) {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let keys = (":keylist", Value::list(vec![Value::list(vec![file("server.key"), file("server.pem")])]));
    let mut server_args = vec![
        (":name", Value::string("srv")),
        (":server", Value::T),
        (":filter", marker()),
        (":tls-parameters", tls(vec![keys])),
    ];
    server_args.extend(server_address);
    ctx.make_network_process(args(server_args), &mut host).unwrap().unwrap();
    let mut client_args = vec![
        (":name", Value::string("c")),
        (":nowait", Value::T),
        (":filter", marker()),
        (":sentinel", marker()),
        (":tls-parameters", tls(client_tls)),
    ];
    client_args.extend(client_address);
    let c = ctx.make_network_process(args(client_args), &mut host).unwrap().unwrap();
    pump_until(&ctx, &mut host, |h| !sentinels_of(h, "c").is_empty());
    ctx.send(&c, b"ping").unwrap();
    pump_until(&ctx, &mut host, |h| h.received.iter().any(|(n, b)| n.starts_with("srv") && b == b"ping"));
    let protocol = c.contact(&ContactQuery::Key(":tls-protocol".into()), false).princ();
    (sentinels_of(&host, "c").into_iter().cloned().collect(), protocol)
}

#[test]
fn clients_over_ipv6_names_and_unix_sockets() {
    let open = vec!["sentinel c \"open\\n\" open".to_string()];
    // IPv6 loopback (the certificate names ::1).
    let listener = TcpListener::bind("[::1]:0").unwrap();
    let port6 = listener.local_addr().unwrap().port() as i64;
    drop(listener);
    let (log, protocol) = round_trip(
        vec![
            (":host", Value::string("::1")),
            (":service", Value::Int(port6)),
            (":family", Value::symbol("ipv6")),
        ],
        vec![
            (":host", Value::string("::1")),
            (":service", Value::Int(port6)),
            (":family", Value::symbol("ipv6")),
        ],
        trusting_ca(),
    );
    assert_eq!((log, protocol.as_str()), (open.clone(), "TLS1.3"));
    // A name, looked up in the background, and checked against the certificate.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port() as i64;
    drop(listener);
    let (log, _) = round_trip(
        vec![(":host", Value::string("127.0.0.1")), (":service", Value::Int(port))],
        vec![
            (":host", Value::string("localhost")),
            (":service", Value::Int(port)),
            (":family", Value::symbol("ipv4")),
        ],
        trusting_ca(),
    );
    assert_eq!(log, open);
    // A unix socket: no host, so :hostname names what the certificate must carry.
    let path = cert_dir().join("tls.sock");
    let _ = std::fs::remove_file(&path);
    let path = Value::string(path.to_str().unwrap());
    let mut with_name = trusting_ca();
    with_name.push((":hostname", Value::string("localhost")));
    let (log, _) = round_trip(
        vec![(":family", Value::symbol("local")), (":service", path.clone())],
        vec![(":family", Value::symbol("local")), (":service", path.clone())],
        with_name,
    );
    assert_eq!(log, open);
    // Without :hostname, the create call says what is missing.
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let err = ctx
        .make_network_process(
            args(vec![
                (":name", Value::string("u")),
                (":family", Value::symbol("local")),
                (":service", path),
                (":tls-parameters", tls(trusting_ca())),
            ]),
            &mut host,
        )
        .unwrap_err();
    assert_eq!(err.message(), "A TLS connection without :host needs :hostname in :tls-parameters");
}

#[test]
fn pem_text_stands_in_for_files() {
    let read = |name: &str| Value::string(std::fs::read(cert_dir().join(name)).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port() as i64;
    drop(listener);
    let (log, _) = round_trip(
        vec![(":host", Value::string("127.0.0.1")), (":service", Value::Int(port))],
        vec![(":host", Value::string("127.0.0.1")), (":service", Value::Int(port))],
        vec![(":trust-pem", read("ca.pem"))],
    );
    assert_eq!(log, vec!["sentinel c \"open\\n\" open".to_string()]);
    // A server from PEM text, and PEM text that is not PEM.
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let make = |plist: Vec<(&str, Value)>, host: &mut Recorder| {
        ctx.make_network_process(
            args(vec![
                (":name", Value::string("s")),
                (":server", Value::T),
                (":service", Value::T),
                (":tls-parameters", tls(plist)),
            ]),
            host,
        )
    };
    make(vec![(":cert-pem", read("server.pem")), (":key-pem", read("server.key"))], &mut host)
        .unwrap()
        .unwrap();
    let err = make(vec![(":cert-pem", Value::string("junk")), (":key-pem", read("server.key"))], &mut host)
        .unwrap_err();
    assert_eq!(err.message(), "No PEM certificate in the PEM text given");
    let err = make(
        vec![(
            ":keylist",
            Value::list(vec![Value::list(vec![Value::string("/nonexistent.key"), file("server.pem")])]),
        )],
        &mut host,
    )
    .unwrap_err();
    assert_eq!(err.symbol.name(), "file-missing");
}

#[test]
fn a_revoked_certificate_fails_with_the_revocation_list() {
    let revoked = background_server("revoked.pem", "revoked.key", vec![]);
    let good = background_server("server.pem", "server.key", vec![]);
    let mut with_crl = trusting_ca();
    with_crl.push((":crlfiles", Value::list(vec![file("crl.pem")])));
    fails_both_ways(
        revoked,
        with_crl.clone(),
        "Certificate validation failed 127.0.0.1: certificate was revoked (CRL)",
    );
    // Without the list, the same certificate is good; with it, another one is.
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    assert_eq!(
        client(&ctx, &mut host, "r", revoked, false, trusting_ca()).unwrap().unwrap().status().name(),
        "open"
    );
    assert_eq!(client(&ctx, &mut host, "g", good, false, with_crl).unwrap().unwrap().status().name(), "open");
}

// ---- gnutls-peer-status (src/core/peer_status.rs, src/core/tls/peer.rs) ----

/// The value of `key` in a plist.
fn plist_get<'a>(plist: &'a Value, key: &str) -> Option<&'a Value> {
    let Value::List(items) = plist else { return None };
    items.chunks_exact(2).find(|pair| pair[0].is_symbol(key)).map(|pair| &pair[1])
}

/// The keys of a plist, in order.
fn plist_keys(plist: &Value) -> Vec<String> {
    let Value::List(items) = plist else { return Vec::new() };
    items.chunks_exact(2).map(|pair| pair[0].as_symbol().unwrap_or("?").to_owned()).collect()
}

fn text_of(plist: &Value, key: &str) -> String {
    plist_get(plist, key).map(Value::princ).unwrap_or_else(|| panic!("no {key} in {}", plist.prin1()))
}

/// server.pem followed by ca.pem: a server that sends its chain.
fn chain_file() -> &'static str {
    static CHAIN: OnceLock<()> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let dir = cert_dir();
        let mut chain = std::fs::read(dir.join("server.pem")).unwrap();
        chain.extend(std::fs::read(dir.join("ca.pem")).unwrap());
        std::fs::write(dir.join("server-chain.pem"), chain).unwrap();
    });
    "server-chain.pem"
}

/// A client of `port` with `plist`, pumped until its first sentinel.
fn open_client(
    ctx: &Shared,
    host: &mut Recorder,
    name: &str,
    port: i64,
    plist: Vec<(&str, Value)>,
) -> ProcRef {
    let c = client(ctx, host, name, port, true, plist).unwrap().unwrap();
    pump_until(ctx, host, |h| !sentinels_of(h, name).is_empty());
    assert_eq!(c.status().name(), "open", "{:#?}", host.log);
    c
}

#[test]
fn peer_status_gives_the_chain_host_first_in_gnutls_terms() {
    use netproc::core::TlsState;
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let (_server, port) = server(&ctx, &mut host, "srv", chain_file(), "server.key", vec![]);
    let c = client(&ctx, &mut host, "c", port, true, trusting_ca()).unwrap().unwrap();
    // Nothing before the handshake is done.
    assert_eq!(c.tls_state(), TlsState::Handshaking);
    assert!(c.tls_peer_status().is_nil());
    pump_until(&ctx, &mut host, |h| !sentinels_of(h, "c").is_empty());
    assert_eq!(c.tls_state(), TlsState::Established);
    let status = c.tls_peer_status();
    // Emacs's keys in Emacs's order; no :warnings for a certificate that passed every check.
    assert_eq!(
        plist_keys(&status),
        [
            ":certificates",
            ":certificate",
            ":key-exchange",
            ":protocol",
            ":cipher",
            ":mac",
            ":encrypt-then-mac"
        ]
    );
    let Some(Value::List(chain)) = plist_get(&status, ":certificates") else { panic!("{}", status.prin1()) };
    assert_eq!(chain.len(), 2);
    let leaf = &chain[0];
    assert_eq!(plist_get(&status, ":certificate").map(Value::prin1), Some(leaf.prin1()));
    assert_eq!(
        plist_keys(leaf),
        [
            ":version",
            ":serial-number",
            ":issuer",
            ":valid-from",
            ":valid-to",
            ":subject",
            ":public-key-algorithm",
            ":certificate-security-level",
            ":signature-algorithm",
            ":public-key-id",
            ":certificate-id",
            ":pem"
        ]
    );
    assert_eq!(text_of(leaf, ":version"), "3");
    assert_eq!(text_of(leaf, ":subject"), "CN=localhost");
    assert_eq!(text_of(leaf, ":issuer"), "CN=netproc test CA");
    assert_eq!(text_of(&chain[1], ":subject"), "CN=netproc test CA");
    assert_eq!(text_of(leaf, ":valid-from"), "1975-01-01");
    assert_eq!(text_of(leaf, ":valid-to"), "4096-01-01");
    assert_eq!(text_of(leaf, ":public-key-algorithm"), "EC/ECDSA");
    assert_eq!(text_of(leaf, ":certificate-security-level"), "High");
    assert_eq!(text_of(leaf, ":signature-algorithm"), "ECDSA-SHA256");
    let sha1_id = |text: String| {
        text.len() == "sha1:".len() + 20 * 3 - 1
            && text.starts_with("sha1:")
            && text[5..].split(':').all(|pair| pair.len() == 2 && pair.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    assert!(sha1_id(text_of(leaf, ":public-key-id")));
    assert!(sha1_id(text_of(leaf, ":certificate-id")));
    assert_ne!(text_of(leaf, ":certificate-id"), text_of(&chain[1], ":certificate-id"));
    // GnuTLS's PEM export is the PEM the certificate came in.
    let pem = std::fs::read_to_string(cert_dir().join("server.pem")).unwrap();
    assert_eq!(text_of(leaf, ":pem"), pem);
    assert_eq!(text_of(&status, ":key-exchange"), "ECDHE-RSA");
    assert_eq!(text_of(&status, ":protocol"), "TLS1.3");
    assert_eq!(text_of(&status, ":cipher"), "AES-256-GCM");
    assert_eq!(text_of(&status, ":mac"), "AEAD");
    assert_eq!(text_of(&status, ":encrypt-then-mac"), "nil");
    // The server's side: a session, but no certificate from this client.
    pump_until(&ctx, &mut host, |h| h.log.iter().any(|l| l.starts_with("log srv ")));
    let accepted = ctx.process_list().into_iter().find(|p| p.name_text().starts_with("srv ")).unwrap();
    let served = accepted.tls_peer_status();
    assert_eq!(plist_keys(&served), [":key-exchange", ":protocol", ":cipher", ":mac", ":encrypt-then-mac"]);
    // A plain connection has none; a closed one no longer has one.
    let plain = ctx
        .make_network_process(
            args(vec![
                (":name", Value::string("plain")),
                (":host", Value::string("127.0.0.1")),
                (":service", Value::Int(port)),
                (":sentinel", marker()),
            ]),
            &mut host,
        )
        .unwrap()
        .unwrap();
    assert_eq!(plain.tls_state(), TlsState::None);
    assert!(plain.tls_peer_status().is_nil());
    ctx.delete_process(&c, &mut host).unwrap();
    assert!(c.tls_peer_status().is_nil());
    assert_eq!(c.tls_state(), TlsState::None);
}

/// Emacs's own network-stream-tests.el reads `gnutls-peer-status` right after deleting the
/// server: a close the host has not acted on must not take the answer away; only
/// `delete-process` does.
#[test]
fn peer_status_outlives_the_peers_close_until_delete() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let (_server, port) = server(&ctx, &mut host, "srv", chain_file(), "server.key", vec![]);
    let c = open_client(&ctx, &mut host, "c", port, trusting_ca());
    pump_until(&ctx, &mut host, |h| h.log.iter().any(|l| l.starts_with("log srv ")));
    let accepted = ctx.process_list().into_iter().find(|p| p.name_text().starts_with("srv ")).unwrap();
    ctx.delete_process(&accepted, &mut host).unwrap();
    pump_until(&ctx, &mut host, |h| sentinels_of(h, "c").len() >= 2);
    assert_eq!(c.status().name(), "closed", "{:#?}", host.log);
    let status = c.tls_peer_status();
    assert_eq!(text_of(&status, ":protocol"), "TLS1.3", "{}", status.prin1());
    let Some(Value::List(chain)) = plist_get(&status, ":certificates") else { panic!("{}", status.prin1()) };
    assert_eq!(text_of(&chain[0], ":subject"), "CN=localhost");
    ctx.delete_process(&c, &mut host).unwrap();
    assert!(c.tls_peer_status().is_nil());
}

/// The host judges a TLS client once its handshake is done, before its "open" (Emacs's
/// Network Security Manager, asked where src/process.c's finish_after_tls_connection asks
/// it): the process is still `connect` with its peer status there; a refusal fails it
/// with the host's reason, and nothing the server sent reaches the filter.
#[test]
fn the_host_judges_a_tls_client_before_its_open() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let (_server, port) = server(&ctx, &mut host, "srv", chain_file(), "server.key", vec![]);
    let passed = open_client(&ctx, &mut host, "passed", port, trusting_ca());
    let log: Vec<&String> = host.log.iter().filter(|l| l.contains(" passed")).collect();
    assert_eq!(log, ["check passed connect peer:true", "sentinel passed \"open\\n\" open"]);
    ctx.delete_process(&passed, &mut host).unwrap();

    host.refusal = Some("The Network Security Manager stopped the connections".into());
    let refused = client(&ctx, &mut host, "refused", port, true, trusting_ca()).unwrap().unwrap();
    // The server speaks first; none of it may reach a refused client's filter.
    pump_until(&ctx, &mut host, |h| h.log.iter().filter(|l| l.starts_with("log srv ")).count() == 2);
    // (The refusal may have closed the server's side already.)
    if let Some(accepted) =
        ctx.process_list().into_iter().filter(|p| p.name_text().starts_with("srv ")).last()
    {
        let _ = ctx.send(&accepted, b"banner\n");
    }
    pump_until(&ctx, &mut host, |h| !sentinels_of(h, "refused").is_empty());
    let log: Vec<&String> = host.log.iter().filter(|l| l.contains(" refused")).collect();
    assert_eq!(
        log,
        [
            "check refused connect peer:true",
            "sentinel refused \"failed with code The Network Security Manager stopped the connections\\n\" failed"
        ]
    );
    assert_eq!(refused.status().name(), "failed");
    assert!(refused.tls_peer_status().is_nil());
    // Nothing more comes for it, however long the context runs.
    for _ in 0..10 {
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    assert!(!host.received.contains_key("refused"), "{:#?}", host.log);
    assert_eq!(sentinels_of(&host, "refused").len(), 1);
}

/// A self-signed CA certificate for localhost and 127.0.0.1, with its key (self-signed-ca.pem, .key).
fn self_signed_ca() -> &'static str {
    static MADE: OnceLock<()> = OnceLock::new();
    MADE.get_or_init(|| {
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(cert_dir().join("self-signed-ca.pem"), cert.pem()).unwrap();
        std::fs::write(cert_dir().join("self-signed-ca.key"), key.serialize_pem()).unwrap();
    });
    "self-signed-ca.pem"
}

#[test]
fn peer_status_keeps_each_connections_warnings() {
    let expired = background_server("expired.pem", "expired.key", vec![]);
    let wrong = background_server("wrong-name.pem", "wrong-name.key", vec![]);
    let own = background_server("self-signed.pem", "self-signed.key", vec![]);
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let lenient = || {
        let mut plist = trusting_ca();
        plist.push((":verify-error", Value::Nil));
        plist
    };
    let warnings = |process: &ProcRef| {
        plist_get(&process.tls_peer_status(), ":warnings").map(Value::prin1).unwrap_or_default()
    };
    // Twice each: a second connection to the same server is checked afresh (a resumed
    // session would have no checks of its own to report).
    for round in 0..2 {
        let c = open_client(&ctx, &mut host, &format!("expired{round}"), expired, lenient());
        assert_eq!(warnings(&c), "(:expired :invalid)");
    }
    for round in 0..2 {
        let c = open_client(&ctx, &mut host, &format!("wrong{round}"), wrong, lenient());
        assert_eq!(warnings(&c), "(:no-host-match)");
    }
    for round in 0..2 {
        let c = open_client(&ctx, &mut host, &format!("own{round}"), own, lenient());
        assert_eq!(warnings(&c), "(:self-signed :unknown-ca :invalid)");
        assert_eq!(plist_keys(&c.tls_peer_status())[0], ":warnings");
    }
    // A self-signed CA certificate shown as the server's (what `openssl req -x509` makes):
    // webpki refuses it for being a CA's; GnuTLS reports its signer not found, and so do we.
    let ca_like = background_server(self_signed_ca(), "self-signed-ca.key", vec![]);
    let c = open_client(&ctx, &mut host, "ca-like", ca_like, lenient());
    assert_eq!(warnings(&c), "(:self-signed :unknown-ca :invalid)");
    // Trusted as its own anchor, a self-signed certificate is still called so.
    let trust_itself = vec![(":trustfiles", Value::list(vec![file("self-signed.pem")]))];
    let c = open_client(&ctx, &mut host, "trusted", own, trust_itself);
    assert_eq!(warnings(&c), "(:self-signed)");
}

#[test]
fn peer_status_of_tls12_names_the_suite() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let (_server, port) = server(&ctx, &mut host, "srv", "server.pem", "server.key", vec![]);
    let mut plist = trusting_ca();
    plist.push((":priority", Value::string("NORMAL:-VERS-TLS1.3")));
    let c = open_client(&ctx, &mut host, "c", port, plist);
    let status = c.tls_peer_status();
    assert_eq!(text_of(&status, ":protocol"), "TLS1.2");
    assert_eq!(text_of(&status, ":key-exchange"), "ECDHE-ECDSA");
    assert_eq!(text_of(&status, ":cipher"), "AES-256-GCM");
    assert_eq!(text_of(&status, ":mac"), "AEAD");
    // Below TLS 1.3, Emacs adds :safe-renegotiation last.
    assert_eq!(plist_keys(&status).last().map(String::as_str), Some(":safe-renegotiation"));
    assert_eq!(text_of(&status, ":safe-renegotiation"), "t");
}

#[test]
fn available_and_warning_texts() {
    let available = netproc::core::tls_available();
    let Value::List(items) = &available else { panic!() };
    assert!(items.last().is_some_and(|item| item.is_symbol("gnutls")));
    assert!(items.iter().any(|item| item.is_symbol("ALPN")));
    // Not Emacs's GnuTLS crypto functions, nor %DUMBFW padding.
    for absent in ["gnutls3", "ciphers", "digests", "macs", "AEAD-ciphers", "ClientHello Padding"] {
        assert!(!items.iter().any(|item| item.is_symbol(absent)), "{absent}");
    }
    assert_eq!(
        netproc::core::tls_warning_description(":no-host-match"),
        Some("certificate host does not match hostname")
    );
    assert_eq!(netproc::core::tls_warning_description(":other"), None);
}

#[test]
fn a_burst_ending_in_the_peers_close_arrives_whole() {
    // The server's connection is stopped while the client sends 256 KiB and its end of file,
    // so that the server then reads the last records and the socket's end together: every
    // record still undecrypted then must reach the filter before the close.
    const TOTAL: usize = 256 << 10;
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let (_server, port) = server(&ctx, &mut host, "srv", "server.pem", "server.key", vec![]);
    let c = client(&ctx, &mut host, "c", port, true, trusting_ca()).unwrap().unwrap();
    pump_until(&ctx, &mut host, |h| {
        h.log.iter().any(|l| l.starts_with("log srv ")) && !sentinels_of(h, "c").is_empty()
    });
    let name = host
        .log
        .iter()
        .find_map(|l| l.strip_prefix("log srv "))
        .unwrap()
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let conn = ctx.get_process(name.as_bytes()).unwrap();
    ctx.stop_process(&conn).unwrap();
    let block: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
    ctx.send(&c, &block).unwrap();
    ctx.send_eof(&c).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while ctx.output_pending(&c) > 0 {
        assert!(Instant::now() < deadline);
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    // Let the kernel take the last records and the FIN.
    for _ in 0..20 {
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    ctx.continue_process(&conn).unwrap();
    let closed = format!("sentinel {name} \"connection broken");
    pump_until(&ctx, &mut host, |h| h.log.iter().any(|l| l.starts_with(&closed)));
    let got = host.received.get(&name).map_or(0, Vec::len);
    assert_eq!(got, TOTAL, "{:#?}", host.log.iter().filter(|l| !l.starts_with("filter")).collect::<Vec<_>>());
    assert!(host.received[&name] == block);
}

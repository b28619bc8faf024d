//! Datagram processes through the core: one filter call per datagram, whole and empty
//! datagrams, replies to the last sender.

use std::time::{Duration, Instant};

use netproc::core::{ContactQuery, Host, ProcRef, Shared, Value};

#[derive(Default)]
struct Recorder {
    datagrams: Vec<(String, Vec<u8>)>,
    sentinels: Vec<String>,
}

impl Host for Recorder {
    fn filter(&mut self, process: &ProcRef, _f: &Value, data: &[u8]) {
        self.datagrams.push((process.name_text(), data.to_vec()));
    }
    fn sentinel(&mut self, process: &ProcRef, _s: &Value, event: &netproc::core::event::SentinelEvent) {
        let message = &*event.message();
        self.sentinels.push(format!("{} {message}", process.name_text()));
    }
    fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &netproc::core::event::LogEvent) {}
    fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
}

fn args(pairs: &[(&str, Value)]) -> Vec<(Value, Value)> {
    pairs.iter().map(|(k, v)| (Value::symbol(k), v.clone())).collect()
}

#[test]
fn udp_server_gets_whole_and_empty_datagrams_and_replies_to_sender() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let f = Value::symbol("f");
    let server = ctx
        .make_network_process(
            args(&[
                (":name", Value::string("udp")),
                (":type", Value::symbol("datagram")),
                (":server", Value::T),
                (":service", Value::T),
                (":filter", f.clone()),
            ]),
            &mut host,
        )
        .unwrap()
        .unwrap();
    assert_eq!(server.status().name(), "open");
    assert_eq!(server.datagram_address().prin1(), "(0 . [0 0 0 0 0 0 0 0 0 0 0 0 0 0])");
    let Value::Int(port) = server.contact(&ContactQuery::Key(":service".into()), false) else { panic!() };
    let client = ctx
        .make_network_process(
            args(&[
                (":name", Value::string("cli")),
                (":type", Value::symbol("datagram")),
                (":service", Value::Int(port)),
                (":filter", f.clone()),
            ]),
            &mut host,
        )
        .unwrap()
        .unwrap();
    let big = vec![b'x'; 65507];
    ctx.send(&client, &big).unwrap();
    ctx.send(&client, b"").unwrap(); // Emacs sends nothing for empty data.
    let raw = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.send_to(b"", ("127.0.0.1", port as u16)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while host.datagrams.len() < 2 && Instant::now() < deadline {
        ctx.poll(Some(Duration::from_millis(20)), &mut host).unwrap();
    }
    assert_eq!(host.datagrams.len(), 2, "one call per datagram");
    assert_eq!(host.datagrams[0].1.len(), 65507, "a large datagram arrives whole");
    assert!(host.datagrams[1].1.is_empty(), "an empty datagram is a zero-length call");
    assert_eq!(server.status().name(), "open", "an empty datagram does not close the server");
    // The last sender was `raw`: a reply goes there.
    ctx.send(&server, b"reply").unwrap();
    let mut buf = [0u8; 16];
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (n, _) = raw.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"reply");
    assert!(host.sentinels.is_empty());
}

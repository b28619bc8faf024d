//! Datagram runs (datagrams.rs, inbox.rs, delivery.rs) in a real context: a batch read at
//! once goes to the filter one datagram per call, and what a filter changes in the middle
//! of a batch (its filter, its coding system, stop-process, delete-process) applies from
//! the very next datagram of that batch, as it did when each datagram was an arrival of
//! its own. Then the inbox's rules for a run in flight, which no filter can reach through
//! the API today (no datagram process has a framer or a decoder that holds bytes back).

use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::context::{Host, Shared};
use super::datagrams::DatagramBatch;
use super::event::{LogEvent, SentinelEvent};
use super::inbox::{Arrival, Inbox};
use super::ops::ContactQuery;
use super::process::ProcRef;
use super::value::Value;

/// What one filter call saw.
#[derive(Debug)]
struct Call {
    data: Vec<u8>,
    filter: String,
    multibyte: bool,
    /// The sender, as Emacs's address vector printed.
    sender: String,
}

/// A host whose filter records each call and then does what the test says for the
/// datagram it got.
struct Scripted {
    ctx: Arc<Shared>,
    calls: Vec<Call>,
    sentinels: Vec<String>,
    action: fn(&mut Scripted, &ProcRef, &[u8]),
}

impl Host for Scripted {
    fn filter(&mut self, process: &ProcRef, filter: &Value, data: &[u8]) {
        self.calls.push(Call {
            data: data.to_vec(),
            filter: filter.as_symbol().unwrap_or_default().to_string(),
            multibyte: process.filter_multibyte_p(),
            sender: format!("{:?}", process.datagram_sender()),
        });
        (self.action)(self, process, data);
    }
    fn sentinel(&mut self, _: &ProcRef, _: &Value, event: &SentinelEvent) {
        self.sentinels.push(event.message().to_string());
    }
    fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &LogEvent) {}
    fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
}

fn datagram_server(ctx: &Shared, host: &mut dyn Host, name: &str) -> (ProcRef, u16) {
    let args = vec![
        (Value::symbol(":name"), Value::string(name)),
        (Value::symbol(":type"), Value::symbol("datagram")),
        (Value::symbol(":server"), Value::T),
        (Value::symbol(":host"), Value::string("127.0.0.1")),
        (Value::symbol(":service"), Value::Int(0)),
        (Value::symbol(":coding"), Value::symbol("binary")),
        (Value::symbol(":filter"), Value::symbol("first")),
    ];
    let server = ctx.make_network_process(args, host).unwrap().expect("a process");
    let Value::Int(port) = server.contact(&ContactQuery::Key(":service".into()), false) else {
        panic!("a bound port")
    };
    let port = u16::try_from(port).unwrap();
    (server, port)
}

fn pump(ctx: &Shared, host: &mut Scripted, calls: usize) {
    let until = Instant::now() + Duration::from_secs(5);
    while host.calls.len() < calls && Instant::now() < until {
        ctx.poll(Some(Duration::from_millis(10)), host).unwrap();
    }
}

/// `d0` … `d7`: datagram n says "dn" (and `d2` holds a two-byte UTF-8 character).
fn datagram(n: usize) -> Vec<u8> {
    if n == 2 {
        "d2é".as_bytes().to_vec()
    } else {
        format!("d{n}").into_bytes()
    }
}

#[test]
fn a_filters_changes_apply_from_the_next_datagram_of_its_batch() {
    let ctx = Shared::new().unwrap();
    let mut host = Scripted {
        ctx: ctx.clone(),
        calls: Vec::new(),
        sentinels: Vec::new(),
        action: |host, process, data| {
            let ctx = host.ctx.clone();
            match data {
                b"d0" => ctx.set_filter(process, Value::symbol("second")).unwrap(),
                b"d1" => {
                    let utf8 = Value::symbol("utf-8");
                    ctx.set_coding_system(process, &utf8, &utf8).unwrap();
                }
                _ if data.starts_with(b"d2") => {
                    let binary = Value::symbol("binary");
                    ctx.set_coding_system(process, &binary, &binary).unwrap();
                }
                b"d3" => ctx.stop_process(process).unwrap(),
                b"d5" => ctx.delete_process(process, host).unwrap(),
                _ => {}
            }
        },
    };
    let (server, port) = datagram_server(&ctx, &mut host, "run");
    // Two senders, taking turns, so that each datagram's own sender can be told apart.
    let senders = [UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap()];
    for n in 0..8 {
        senders[n % 2].send_to(&datagram(n), ("127.0.0.1", port)).unwrap();
    }
    // All eight wait in the socket: the first read takes them in one batch.
    pump(&ctx, &mut host, 4);
    let seen: Vec<_> = host.calls.iter().map(|call| call.data.clone()).collect();
    assert_eq!(seen, (0..4).map(datagram).collect::<Vec<_>>(), "stop-process holds the rest");
    let filters: Vec<_> = host.calls.iter().map(|call| call.filter.as_str()).collect();
    assert_eq!(filters, ["first", "second", "second", "second"], "the new filter takes the next datagram");
    let multibyte: Vec<_> = host.calls.iter().map(|call| call.multibyte).collect();
    assert_eq!(multibyte, [false, false, true, false], "each coding change applies to the next datagram");
    assert_eq!(host.calls[2].data, "d2é".as_bytes(), "d2 decoded as UTF-8, unchanged");

    // Stopped: nothing more arrives, however long it is pumped.
    for _ in 0..5 {
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    assert_eq!(host.calls.len(), 4);
    ctx.continue_process(&server).unwrap();
    pump(&ctx, &mut host, 6);
    for _ in 0..5 {
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    let seen: Vec<_> = host.calls.iter().map(|call| call.data.clone()).collect();
    assert_eq!(seen, (0..6).map(datagram).collect::<Vec<_>>(), "deleted after d5: d6 and d7 are dropped");
    assert_eq!(host.sentinels, ["deleted\n"]);

    // Every call knew its own datagram's sender.
    assert!(host.calls[0].sender.starts_with("Vector"), "{}", host.calls[0].sender);
    assert_ne!(host.calls[0].sender, host.calls[1].sender);
    for (n, call) in host.calls.iter().enumerate() {
        assert_eq!(call.sender, host.calls[n % 2].sender, "datagram {n}'s sender");
    }
    ctx.shutdown(&mut host);
}

/// Two datagram servers of one context, for the inbox's own tests.
fn two_processes() -> (Arc<Shared>, ProcRef, ProcRef) {
    let ctx = Shared::new().unwrap();
    let mut host =
        Scripted { ctx: ctx.clone(), calls: Vec::new(), sentinels: Vec::new(), action: |_, _, _| {} };
    let (first, _) = datagram_server(&ctx, &mut host, "first");
    let (second, _) = datagram_server(&ctx, &mut host, "second");
    (ctx, first, second)
}

/// A run of one datagram saying `text`.
fn run_of(text: &[u8]) -> Box<super::datagrams::DatagramRun> {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(text, receiver.local_addr().unwrap()).unwrap();
    let socket = socket2::Socket::from(receiver);
    socket.set_nonblocking(false).unwrap();
    let mut batch = DatagramBatch::default();
    let received = batch.receive(&socket, 65536);
    let received = match received {
        Ok(n) => n,
        Err(_) => {
            // MSG_DONTWAIT may find it not there yet.
            std::thread::sleep(Duration::from_millis(50));
            batch.receive(&socket, 65536).unwrap()
        }
    };
    batch.take_run(received, false)
}

/// What the queue holds, in order: each arrival's process name and what it is.
fn drain(inbox: &mut Inbox) -> Vec<(String, String)> {
    let mut order = Vec::new();
    while let Some((process, arrival)) = inbox.pop() {
        let what = match arrival {
            Arrival::Datagrams(run) => format!("run {}", String::from_utf8_lossy(run.current())),
            Arrival::Data { bytes } => format!("data {}", String::from_utf8_lossy(&bytes)),
            Arrival::Closed { .. } => "closed".to_string(),
            _ => "other".to_string(),
        };
        order.push((process.name_text(), what));
    }
    order
}

#[test]
fn a_run_in_flight_keeps_its_place_first_in_line() {
    let (ctx, first, second) = two_processes();
    let mut inbox = Inbox::default();
    let mut state = first.state.lock();
    inbox.record(&first, &mut state, Arrival::Datagrams(run_of(b"a")));
    let (process, Arrival::Datagrams(run)) = inbox.pop().unwrap() else { panic!("the run comes first") };
    inbox.start_flight(&process);
    assert!(inbox.flight_is_first());
    assert!(inbox.has_for(&first), "a run in flight still waits for delivery");

    // Another process's arrival, recorded during the call, waits behind the run.
    let mut other = second.state.lock();
    inbox.record(&second, &mut other, Arrival::Data { bytes: b"other".to_vec() });
    drop(other);
    // Status news behind the run (and nothing else) waits for it, as it would behind a
    // queued run.
    inbox.record(&first, &mut state, Arrival::Closed { reset: false });
    assert!(inbox.take_status_news().is_empty());

    // Put ahead for the run's process: ahead of the run (so ahead of everything), and the
    // run lands right behind it.
    inbox.record_ahead(&first, &mut state, Arrival::Data { bytes: b"ahead".to_vec() });
    assert!(!inbox.flight_is_first());
    drop(state);
    assert!(inbox.land(process, run).is_none(), "a run with a datagram left goes back");
    let order = drain(&mut inbox);
    let expected =
        [("first", "data ahead"), ("first", "run a"), ("second", "data other"), ("first", "closed")];
    let expected: Vec<_> = expected.iter().map(|(n, w)| (n.to_string(), w.to_string())).collect();
    assert_eq!(order, expected);
    assert!(!inbox.has_for(&first));

    // A run with nothing left comes back to be recycled.
    let mut run = run_of(b"b");
    run.advance();
    inbox.start_flight(&first);
    let (process, _) = inbox.land(first.clone(), run).expect("a spent run comes back");
    assert_eq!(process.name_text(), "first");
    assert!(inbox.is_empty() && !inbox.has_for(&first));
    let mut host =
        Scripted { ctx: ctx.clone(), calls: Vec::new(), sentinels: Vec::new(), action: |_, _, _| {} };
    ctx.shutdown(&mut host);
}

//! Datagram runs (datagrams.rs, inbox.rs, delivery.rs) in a real context: a batch read at
//! once goes to the filter one datagram per call, and everything a host can observe is as
//! when each datagram was an arrival of its own. What a filter changes in the middle of a
//! batch (its filter, its coding system, stop-process, delete-process) applies from the
//! very next datagram; a pause with JUST-THIS-ONE leaves the rest of the run in its place
//! among other processes' arrivals; a filter that unwinds loses only its own datagram; a
//! poll from `pause_delivery` is refused as from a callback; a filter sees the rest of its
//! batch as due. Then the inbox's rules for a run in flight, some of which no filter can
//! reach through the API today (no datagram process has a framer or a decoder that holds
//! bytes back).

use std::net::UdpSocket;
use std::panic::{catch_unwind, AssertUnwindSafe};
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

/// A host that records each call as "name:datagram", pauses once it made `pause_at`
/// calls, panics in the filter on `panic_on`, and polls from `pause_delivery` once it made
/// any of `polls_from_pause_at` calls (counting the polls refused).
struct Recorder {
    ctx: Arc<Shared>,
    calls: Vec<String>,
    pause_at: Option<usize>,
    panic_on: Option<Vec<u8>>,
    polls_from_pause_at: Vec<usize>,
    polls_refused: usize,
}

impl Recorder {
    fn new(ctx: &Arc<Shared>) -> Recorder {
        Recorder {
            ctx: ctx.clone(),
            calls: Vec::new(),
            pause_at: None,
            panic_on: None,
            polls_from_pause_at: Vec::new(),
            polls_refused: 0,
        }
    }
}

impl Host for Recorder {
    fn filter(&mut self, process: &ProcRef, _: &Value, data: &[u8]) {
        self.calls.push(format!("{}:{}", process.name_text(), String::from_utf8_lossy(data)));
        if self.panic_on.as_deref() == Some(data) {
            self.panic_on = None;
            panic!("a host's filter panics");
        }
    }
    fn sentinel(&mut self, _: &ProcRef, _: &Value, _: &SentinelEvent) {}
    fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &LogEvent) {}
    fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
    fn pause_delivery(&mut self) -> bool {
        if let Some(at) = self.polls_from_pause_at.iter().position(|&at| at == self.calls.len()) {
            self.polls_from_pause_at.remove(at);
            let ctx = self.ctx.clone();
            if ctx.poll(Some(Duration::ZERO), self).is_err() {
                self.polls_refused += 1;
            }
        }
        self.pause_at.is_some_and(|at| self.calls.len() >= at)
    }
}

fn coded_server(ctx: &Shared, host: &mut dyn Host, name: &str, coding: &str) -> (ProcRef, u16) {
    let (server, port) = datagram_server(ctx, host, name);
    let coding = Value::symbol(coding);
    ctx.set_coding_system(&server, &coding, &coding).unwrap();
    (server, port)
}

/// Send "PREFIXn" for each n of `range`, from one socket, and let them arrive.
fn send(prefix: &str, range: std::ops::Range<usize>, port: u16) {
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for n in range {
        sender.send_to(format!("{prefix}{n}").as_bytes(), ("127.0.0.1", port)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(30));
}

/// What the recorder writes for datagrams PREFIXn, n in `range`, to the server PREFIX.
fn calls(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("{prefix}:{prefix}{n}")).collect()
}

#[test]
fn a_paused_just_this_one_leaves_the_rest_of_a_run_in_its_place() {
    // Both the run in flight (binary) and the run taken one datagram at a time (decoded).
    for coding in ["binary", "utf-8"] {
        let ctx = Shared::new().unwrap();
        let mut host = Recorder::new(&ctx);
        let (a, port_a) = coded_server(&ctx, &mut host, "a", coding);
        let (_b, port_b) = coded_server(&ctx, &mut host, "b", "binary");
        // b's batch is read first, and not delivered (the host pauses from the start).
        send("b", 0..4, port_b);
        host.pause_at = Some(0);
        ctx.poll(Some(Duration::from_millis(200)), &mut host).unwrap();
        assert!(host.calls.is_empty());
        // a's batch is read after it; JUST-THIS-ONE a, paused after one call.
        send("a", 0..4, port_a);
        host.pause_at = Some(1);
        ctx.poll_for(&a, Some(Duration::from_millis(200)), &mut host).unwrap();
        assert_eq!(host.calls, ["a:a0"]);
        host.pause_at = None;
        for _ in 0..5 {
            ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
        }
        let mut expected = calls("a", 0..1);
        expected.extend(calls("b", 0..4));
        expected.extend(calls("a", 1..4));
        assert_eq!(host.calls, expected, "{coding}: the order read, across processes");
        ctx.shutdown(&mut host);
    }
}

#[test]
fn a_filter_that_unwinds_loses_only_its_own_datagram() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::new(&ctx);
    let (p, port) = datagram_server(&ctx, &mut host, "p");
    send("p", 0..4, port);
    host.panic_on = Some(b"p1".to_vec());
    let outcome = catch_unwind(AssertUnwindSafe(|| ctx.poll(Some(Duration::from_millis(200)), &mut host)));
    assert!(outcome.is_err());
    assert!(!ctx.in_callback(), "the flight's callback window closed as it unwound");
    assert!(p.datagram_sender().is_nil(), "no datagram is being delivered any more");
    for _ in 0..5 {
        ctx.poll(Some(Duration::from_millis(10)), &mut host).unwrap();
    }
    assert_eq!(host.calls, ["p:p0", "p:p1", "p:p2", "p:p3"], "p2 and p3 still delivered, once");
    ctx.shutdown(&mut host);
}

#[test]
fn a_poll_from_pause_delivery_is_refused_as_from_a_callback() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::new(&ctx);
    let (_p, port) = datagram_server(&ctx, &mut host, "p");
    // Two batches of eight, read in one turn.
    send("p", 0..16, port);
    // After a call in the middle of a run, and between the two runs.
    host.polls_from_pause_at = vec![1, 8];
    for _ in 0..5 {
        ctx.poll(Some(Duration::from_millis(50)), &mut host).unwrap();
    }
    assert_eq!(host.polls_refused, 2);
    assert_eq!(host.calls, calls("p", 0..16), "one process's datagrams in the order read");
    ctx.shutdown(&mut host);
}

#[test]
fn a_filter_sees_the_rest_of_its_batch_as_due() {
    struct Asker {
        ctx: Arc<Shared>,
        due: Vec<Option<Duration>>,
        queued: Vec<bool>,
    }
    impl Host for Asker {
        fn filter(&mut self, process: &ProcRef, _: &Value, _: &[u8]) {
            self.due.push(self.ctx.next_timeout());
            self.queued.push(self.ctx.core.lock().inbox().has_for(process));
        }
        fn sentinel(&mut self, _: &ProcRef, _: &Value, _: &SentinelEvent) {}
        fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &LogEvent) {}
        fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
            None
        }
        fn get_buffer_create(&mut self, name: &[u8]) -> Value {
            Value::string(name)
        }
    }
    let ctx = Shared::new().unwrap();
    let mut host = Asker { ctx: ctx.clone(), due: Vec::new(), queued: Vec::new() };
    let (_p, port) = datagram_server(&ctx, &mut host, "p");
    send("p", 0..4, port);
    ctx.poll(Some(Duration::from_millis(200)), &mut host).unwrap();
    assert_eq!(host.due.len(), 4);
    assert_eq!(host.due[..3], [Some(Duration::ZERO); 3], "p1..p3 are due: {:?}", host.due);
    assert_eq!(host.queued[..3], [true; 3], "the rest of the batch waits for p");
    ctx.shutdown(&mut host);
}

#[test]
fn a_shutdown_from_a_filter_leaves_nothing_queued() {
    struct Stopper {
        ctx: Arc<Shared>,
        calls: usize,
    }
    impl Host for Stopper {
        fn filter(&mut self, _: &ProcRef, _: &Value, _: &[u8]) {
            self.calls += 1;
            if self.calls == 1 {
                let ctx = self.ctx.clone();
                ctx.shutdown(self);
            }
        }
        fn sentinel(&mut self, _: &ProcRef, _: &Value, _: &SentinelEvent) {}
        fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &LogEvent) {}
        fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
            None
        }
        fn get_buffer_create(&mut self, name: &[u8]) -> Value {
            Value::string(name)
        }
    }
    let ctx = Shared::new().unwrap();
    let mut host = Stopper { ctx: ctx.clone(), calls: 0 };
    let (p, port) = datagram_server(&ctx, &mut host, "p");
    send("p", 0..4, port);
    ctx.poll(Some(Duration::from_millis(200)), &mut host).unwrap();
    assert_eq!(host.calls, 1);
    assert_eq!(ctx.next_timeout(), None, "nothing waits after the shutdown");
    assert_eq!(Arc::strong_count(&p), 1, "the context keeps no reference to p");
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
    std::thread::sleep(Duration::from_millis(20));
    let socket = socket2::Socket::from(receiver);
    let mut batch = DatagramBatch::default();
    let received = batch.receive(&socket, 65536).unwrap();
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
            Arrival::InFlight => "in flight".to_string(),
            _ => "other".to_string(),
        };
        order.push((process.name_text(), what));
    }
    order
}

fn named(order: &[(&str, &str)]) -> Vec<(String, String)> {
    order.iter().map(|(name, what)| (name.to_string(), what.to_string())).collect()
}

#[test]
fn a_run_in_flight_keeps_its_place() {
    let (ctx, first, second) = two_processes();
    let mut inbox = Inbox::default();
    let mut state = first.state.lock();
    inbox.record(&first, &mut state, Arrival::Datagrams(run_of(b"a")));
    let (process, Arrival::Datagrams(run)) = inbox.pop().unwrap() else { panic!("the run comes first") };
    inbox.start_flight(&process);
    assert!(inbox.flight_is_first(&first));
    assert!(inbox.has_for(&first) && !inbox.is_empty(), "a run in flight still waits for delivery");

    // Another process's arrival, recorded during a call, waits behind the run.
    let mut other = second.state.lock();
    inbox.record(&second, &mut other, Arrival::Data { bytes: b"other".to_vec() });
    drop(other);
    // Status news behind the run (and nothing else) waits for it, as behind a queued run.
    inbox.record(&first, &mut state, Arrival::Closed { reset: false });
    assert!(inbox.take_status_news().is_empty());

    // Put ahead for the run's process: ahead of the run, which is then no longer first.
    inbox.record_ahead(&first, &mut state, Arrival::Data { bytes: b"ahead".to_vec() });
    assert!(!inbox.flight_is_first(&first));
    drop(state);
    assert!(matches!(inbox.land(&first, run), (None, None)), "a run with a datagram left takes its place");
    let expected =
        [("first", "data ahead"), ("first", "run a"), ("second", "data other"), ("first", "closed")];
    assert_eq!(drain(&mut inbox), named(&expected));

    // A spent run: its placeholder goes (its reference comes back), and so does the run.
    let mut state = first.state.lock();
    let mut run = run_of(b"b");
    inbox.record(&first, &mut state, Arrival::Data { bytes: b"later".to_vec() });
    drop(state);
    inbox.pop();
    inbox.start_flight(&first);
    run.advance();
    let (placeholder, spent) = inbox.land(&first, run);
    assert!(placeholder.is_some_and(|placeholder| Arc::ptr_eq(&placeholder, &first)));
    assert!(spent.is_some());
    assert!(inbox.is_empty() && !inbox.has_for(&first));

    // With JUST-THIS-ONE, the run was taken from the middle of the queue: it lands there.
    let mut state = first.state.lock();
    let mut other = second.state.lock();
    inbox.record(&second, &mut other, Arrival::Data { bytes: b"earlier".to_vec() });
    inbox.record(&first, &mut state, Arrival::Datagrams(run_of(b"c")));
    inbox.record(&second, &mut other, Arrival::Data { bytes: b"later".to_vec() });
    drop((state, other));
    let (process, Arrival::Datagrams(run)) = inbox.pop_for(&first).unwrap() else { panic!("first's run") };
    inbox.start_flight(&process);
    assert!(inbox.flight_is_first(&first));
    assert!(matches!(inbox.land(&first, run), (None, None)));
    let expected = [("second", "data earlier"), ("first", "run c"), ("second", "data later")];
    assert_eq!(drain(&mut inbox), named(&expected));

    let mut host =
        Scripted { ctx: ctx.clone(), calls: Vec::new(), sentinels: Vec::new(), action: |_, _, _| {} };
    ctx.shutdown(&mut host);
}

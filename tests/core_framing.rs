//! `:framing` through real loopback sockets: whole messages, one per filter call, in
//! order, however the bytes are split or coalesced on the way; the maximum; decoding;
//! framing changed while bytes are held (src/core/framing.rs has the framer's own tests).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use netproc::core::event::{LogEvent, SentinelEvent};
use netproc::core::{ContactQuery, ExitStatus, Host, ProcRef, Shared, Value};

/// Records each filter call's bytes and each sentinel message; with `switches`, a filter
/// call whose data is a key sets `:framing` to its value, from inside the filter.
#[derive(Default)]
struct Recorder {
    messages: Vec<Vec<u8>>,
    sentinels: Vec<String>,
    context: Option<Arc<Shared>>,
    switches: Vec<(&'static [u8], Value)>,
    /// A message on which the filter calls `stop-process`.
    stop_on: Option<&'static [u8]>,
}

impl Host for Recorder {
    fn filter(&mut self, process: &ProcRef, _filter: &Value, data: &[u8]) {
        self.messages.push(data.to_vec());
        if let Some((_, framing)) = self.switches.iter().find(|(key, _)| *key == data) {
            let context = self.context.as_ref().expect("a context to switch with");
            context.set_network_option(process, ":framing", framing, false).unwrap();
        }
        if self.stop_on == Some(data) {
            self.context.as_ref().expect("a context to stop with").stop_process(process).unwrap();
        }
    }
    fn sentinel(&mut self, _process: &ProcRef, _sentinel: &Value, event: &SentinelEvent) {
        self.sentinels.push(event.message().into_owned());
    }
    fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &LogEvent) {}
    fn buffer_name(&mut self, _buffer: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
}

fn args(pairs: &[(&str, Value)]) -> Vec<(Value, Value)> {
    pairs.iter().map(|(k, v)| (Value::symbol(k), v.clone())).collect()
}

fn pump_until(ctx: &Shared, host: &mut Recorder, limit: Duration, done: impl Fn(&Recorder) -> bool) {
    let deadline = Instant::now() + limit;
    while !done(host) {
        assert!(
            Instant::now() < deadline,
            "timed out with {} messages, sentinels {:?}",
            host.messages.len(),
            host.sentinels
        );
        ctx.poll(Some(Duration::from_millis(20)), host).unwrap();
    }
}

fn filter() -> Value {
    Value::symbol("filter")
}

/// A netproc client of a loopback listener, and the listener's side of the connection.
fn client(ctx: &Shared, host: &mut Recorder, extra: &[(&str, Value)]) -> (ProcRef, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut pairs = vec![
        (":name", Value::string("framed")),
        (":host", Value::string("127.0.0.1")),
        (":service", Value::Int(port.into())),
        (":filter", filter()),
        (":sentinel", Value::symbol("sentinel")),
    ];
    pairs.extend(extra.iter().cloned());
    let process = ctx.make_network_process(args(&pairs), host).unwrap().unwrap();
    let (peer, _) = listener.accept().unwrap();
    (process, peer)
}

/// SplitMix64: seeded, so a failure can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// `count` messages in `framing` (`line`, `content-length`, `length-prefix`), and the
/// stream carrying them: LF and CR LF ends, LSP headers in either order with bytes to
/// skip before some, every byte value a framing allows in a body.
fn messages_and_stream(framing: &str, count: usize, random: &mut Random) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut messages = Vec::with_capacity(count);
    let mut stream = Vec::new();
    for _ in 0..count {
        let length = if random.below(10) == 0 { 0 } else { random.below(300) };
        let mut body: Vec<u8> = (0..length).map(|_| random.next() as u8).collect();
        match framing {
            "line" => {
                body.retain(|&byte| byte != b'\n' && byte != b'\r');
                stream.extend_from_slice(&body);
                stream.extend_from_slice(if random.below(2) == 0 { b"\n" } else { b"\r\n" });
            }
            "content-length" => {
                if random.below(20) == 0 {
                    stream.extend_from_slice(b"12 skipped 34\n");
                }
                let header = if random.below(2) == 0 {
                    format!("Content-Length: {}\r\n\r\n", body.len())
                } else {
                    format!("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length:{}\r\n\r\n", body.len())
                };
                stream.extend_from_slice(header.as_bytes());
                stream.extend_from_slice(&body);
            }
            _ => {
                stream.extend_from_slice(&(body.len() as u32).to_be_bytes());
                stream.extend_from_slice(&body);
            }
        }
        messages.push(body);
    }
    (messages, stream)
}

fn framing_value(framing: &str) -> Value {
    match framing {
        "length-prefix" => Value::list(vec![Value::symbol("length-prefix"), Value::Int(4)]),
        name => Value::symbol(name),
    }
}

/// 10,000 messages of each framing to a framed server's connection, written in chunks of
/// random sizes (1 byte to 64 KiB, so reads split headers, prefixes and bodies anywhere and
/// coalesce many messages), arrive one per filter call: nothing lost, merged or reordered.
#[test]
fn ten_thousand_messages_arrive_whole_and_in_order() {
    for (seed, framing) in ["line", "content-length", "length-prefix"].into_iter().enumerate() {
        let ctx = Shared::new().unwrap();
        let mut host = Recorder::default();
        let server = ctx
            .make_network_process(
                args(&[
                    (":name", Value::string("server")),
                    (":server", Value::T),
                    (":service", Value::T),
                    (":host", Value::string("127.0.0.1")),
                    (":filter", filter()),
                    (":framing", framing_value(framing)),
                ]),
                &mut host,
            )
            .unwrap()
            .unwrap();
        let Value::Int(port) = server.contact(&ContactQuery::Key(":service".into()), false) else {
            panic!("no port")
        };
        let mut random = Random(0xf4a3_0000 + seed as u64);
        let (messages, stream) = messages_and_stream(framing, 10_000, &mut random);
        let writer_seed = random.next();
        let writer = thread::spawn(move || {
            let mut random = Random(writer_seed);
            let mut peer = TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
            peer.set_nodelay(true).unwrap();
            let mut at = 0;
            let mut writes = 0;
            while at < stream.len() {
                let size = match random.below(20) {
                    0..=9 => 1 + random.below(16),
                    10..=16 => 1 + random.below(4096),
                    _ => 1 + random.below(65536),
                };
                let end = (at + size).min(stream.len());
                peer.write_all(&stream[at..end]).unwrap();
                at = end;
                writes += 1;
                if writes % 32 == 0 {
                    // Let the reader catch up now and then, so that reads end mid-message.
                    thread::sleep(Duration::from_millis(1));
                }
            }
            peer
        });
        pump_until(&ctx, &mut host, Duration::from_secs(60), |h| h.messages.len() >= messages.len());
        let peer = writer.join().unwrap();
        // Anything extra (a message cut in two) would arrive in the same polls.
        ctx.poll(Some(Duration::from_millis(50)), &mut host).unwrap();
        assert_eq!(host.messages.len(), messages.len(), "{framing}");
        for (index, (got, sent)) in host.messages.iter().zip(&messages).enumerate() {
            assert!(
                got == sent,
                "{framing}: message {index} differs: {} bytes, sent {}",
                got.len(),
                sent.len()
            );
        }
        drop(peer);
    }
}

/// A 3.5 MB LSP message, written in 64 KiB pieces, reaches the filter in one call, decoded
/// (utf-8) as the process decodes; the small message after it in another.
#[test]
fn a_three_and_a_half_megabyte_message_is_one_filter_call() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let (_process, mut peer) = client(
        &ctx,
        &mut host,
        &[(":framing", Value::symbol("content-length")), (":coding", Value::symbol("utf-8"))],
    );
    let mut body = Vec::with_capacity(3_500_000);
    while body.len() < 3_500_000 {
        body.extend_from_slice("{\"jsonrpc\":\"2.0\",\"result\":\"données\"},".as_bytes());
    }
    let mut stream = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    stream.extend_from_slice(&body);
    stream.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
    let writer = thread::spawn(move || {
        for piece in stream.chunks(65536) {
            peer.write_all(piece).unwrap();
        }
        peer
    });
    pump_until(&ctx, &mut host, Duration::from_secs(60), |h| h.messages.len() >= 2);
    let _peer = writer.join().unwrap();
    assert_eq!(host.messages.len(), 2);
    assert_eq!(host.messages[0].len(), body.len());
    assert!(host.messages[0] == body);
    assert_eq!(host.messages[1], b"{}");
}

/// A message over `:framing-max` fails the process once its header says so: the messages
/// before it were delivered, the sentinel says why, nothing after it is delivered, and the
/// peer sees the connection closed.
#[test]
fn a_message_over_the_maximum_fails_the_process() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let (process, mut peer) = client(
        &ctx,
        &mut host,
        &[(":framing", Value::symbol("content-length")), (":framing-max", Value::Int(1000))],
    );
    let mut stream = b"Content-Length: 5\r\n\r\nhello".to_vec();
    stream.extend_from_slice(b"Content-Length: 1001\r\n\r\n");
    stream.extend_from_slice(&[b'x'; 1001]);
    stream.extend_from_slice(b"Content-Length: 2\r\nhi");
    peer.write_all(&stream).unwrap();
    pump_until(&ctx, &mut host, Duration::from_secs(10), |h| !h.sentinels.is_empty());
    ctx.poll(Some(Duration::from_millis(50)), &mut host).unwrap();
    assert_eq!(host.messages, [b"hello"]);
    assert_eq!(host.sentinels, ["failed with code message too large: 1001 bytes, :framing-max is 1000\n"]);
    assert_eq!(process.status().name(), "failed");
    assert_eq!(
        process.exit_status(),
        ExitStatus::Message("message too large: 1001 bytes, :framing-max is 1000".into())
    );
    peer.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut rest = Vec::new();
    // End of file, or a reset (netproc closed with bytes unread): either way, closed.
    let _ = peer.read_to_end(&mut rest);
    assert!(rest.is_empty());
}

/// Each message is decoded on its own, as the process decodes (latin-1 here; utf-8 with a
/// character cut by a message's end, which arrives as a raw byte in that message).
#[test]
fn each_message_is_decoded_as_the_process_decodes() {
    for (coding, sent, expected) in [
        (
            "latin-1",
            &b"caf\xe9\r\nna\xefve\n"[..],
            vec!["café".as_bytes().to_vec(), "naïve".as_bytes().to_vec()],
        ),
        // Emacs's raw-byte form of 0xC3 and 0xA9 (README, "Text").
        ("utf-8", &b"a\xc3\n\xa9b\n"[..], vec![b"a\xc1\x83".to_vec(), b"\xc0\xa9b".to_vec()]),
    ] {
        let ctx = Shared::new().unwrap();
        let mut host = Recorder::default();
        let (_process, mut peer) = client(
            &ctx,
            &mut host,
            &[(":framing", Value::symbol("line")), (":coding", Value::symbol(coding))],
        );
        peer.write_all(sent).unwrap();
        pump_until(&ctx, &mut host, Duration::from_secs(10), |h| h.messages.len() >= 2);
        assert_eq!(host.messages, expected, "{coding}");
    }
}

/// At the end of the stream, bytes that make no whole message (a last line without its
/// LF) reach the filter in one call before the sentinel.
#[test]
fn a_last_line_without_its_end_arrives_before_the_sentinel() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let (_process, mut peer) = client(&ctx, &mut host, &[(":framing", Value::symbol("line"))]);
    peer.write_all(b"one\ntwo").unwrap();
    drop(peer);
    pump_until(&ctx, &mut host, Duration::from_secs(10), |h| !h.sentinels.is_empty());
    assert_eq!(host.messages, [&b"one"[..], b"two"]);
    assert_eq!(host.sentinels, ["connection broken by remote peer\n"]);
}

/// `set-network-process-option` from inside a filter: what the framer holds is framed the
/// new way (line, then content-length), and with nil it reaches the filter as read.
#[test]
fn framing_changes_apply_to_what_is_held() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder {
        context: Some(ctx.clone()),
        switches: vec![(b"switch", Value::symbol("content-length")), (b"off", Value::Nil)],
        ..Recorder::default()
    };
    let (_process, mut peer) = client(&ctx, &mut host, &[(":framing", Value::symbol("line"))]);
    peer.write_all(b"switch\nContent-Length: 3\r\n\r\nabcContent-Length: 3\r\n\r\noffraw\nrest").unwrap();
    let whole = |h: &Recorder| h.messages.len() >= 4 && h.messages[3..].concat() == b"raw\nrest";
    pump_until(&ctx, &mut host, Duration::from_secs(10), whole);
    assert_eq!(host.messages[..3], [&b"switch"[..], b"abc", b"off"]);
}

/// `stop-process` from inside a filter holds the messages after that one (read in the
/// same read), the close too; `continue-process` gives them back, in order.
#[test]
fn a_stopped_process_holds_its_next_messages() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder { context: Some(ctx.clone()), stop_on: Some(b"stop"), ..Recorder::default() };
    let (process, mut peer) = client(&ctx, &mut host, &[(":framing", Value::symbol("line"))]);
    peer.write_all(b"one\nstop\nthree\nfour\n").unwrap();
    drop(peer);
    pump_until(&ctx, &mut host, Duration::from_secs(10), |h| h.messages.len() >= 2);
    for _ in 0..5 {
        ctx.poll(Some(Duration::from_millis(20)), &mut host).unwrap();
    }
    assert_eq!(host.messages, [&b"one"[..], b"stop"]);
    assert!(host.sentinels.is_empty());
    ctx.continue_process(&process).unwrap();
    pump_until(&ctx, &mut host, Duration::from_secs(10), |h| !h.sentinels.is_empty());
    assert_eq!(host.messages, [&b"one"[..], b"stop", b"three", b"four"]);
    assert_eq!(host.sentinels, ["connection broken by remote peer\n"]);
}

#[test]
fn framing_values_are_checked() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let make = |host: &mut Recorder, extra: &[(&str, Value)]| {
        let mut pairs = vec![(":name", Value::string("x")), (":server", Value::T), (":service", Value::T)];
        pairs.extend(extra.iter().cloned());
        ctx.make_network_process(args(&pairs), host).map(|made| made.unwrap())
    };
    let datagram = [(":type", Value::symbol("datagram")), (":framing", Value::symbol("line"))];
    assert_eq!(
        make(&mut host, &datagram).unwrap_err().message(),
        "‘:framing’ is incompatible with ‘:type datagram’"
    );
    let bad = make(&mut host, &[(":framing", Value::symbol("json"))]).unwrap_err();
    assert_eq!(bad.message(), "Bad option value for :framing: json");
    let negative = make(&mut host, &[(":framing-max", Value::Int(-1))]).unwrap_err();
    assert_eq!(negative.message(), "Wrong type argument: natnump, -1");

    let udp = make(&mut host, &[(":type", Value::symbol("datagram"))]).unwrap();
    let refused = ctx.set_network_option(&udp, ":framing", &Value::symbol("line"), false).unwrap_err();
    assert_eq!(refused.message(), "‘:framing’ is incompatible with ‘:type datagram’");
    assert!(ctx.set_network_option(&udp, ":framing", &Value::Nil, false).unwrap());
    let server = make(&mut host, &[(":framing", Value::symbol("line"))]).unwrap();
    assert!(ctx.set_network_option(&server, ":framing-max", &Value::Int(10), false).unwrap());
    let shown = server.contact(&ContactQuery::Key(":framing-max".into()), false);
    assert!(matches!(shown, Value::Int(10)), "{shown:?}");
}

//! Receiving datagrams several at a time with `recvmmsg`: one system call for up to
//! [`BATCH`] datagrams instead of one each (W5's profile: the per-datagram recvfrom was
//! the largest cost after the filter call itself).

use std::io;
use std::mem::{self, MaybeUninit};
use std::os::fd::AsRawFd;

use socket2::{SockAddr, Socket};

use super::address::Address;

/// Datagrams per `recvmmsg`.
pub(crate) const BATCH: usize = 8;

/// Scratch space for one batch: a slot per datagram, each big enough for the largest one,
/// and its sender's address. Made on first use, kept by the context.
#[derive(Default)]
pub(crate) struct DatagramBatch {
    buffer: Vec<u8>,
    slot: usize,
    senders: Vec<libc::sockaddr_storage>,
    headers: Vec<libc::mmsghdr>,
    vectors: Vec<libc::iovec>,
}

// SAFETY: the raw pointers in `headers`/`vectors` only point into this struct's own heap
// buffers (which do not move when the struct does), and are rebuilt with them.
unsafe impl Send for DatagramBatch {}

impl DatagramBatch {
    /// Receive up to BATCH datagrams of at most `slot` bytes each without blocking.
    /// Returns how many arrived; WouldBlock when none was waiting.
    pub(crate) fn receive(&mut self, socket: &Socket, slot: usize) -> io::Result<usize> {
        self.prepare(slot);
        // SAFETY: every header points at its own slot of `buffer` (`slot` bytes) and its own
        // `senders` entry, all alive and unaliased for the duration of the call.
        let received = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if received < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(received as usize)
    }

    /// The `index`th datagram of the last batch.
    pub(crate) fn datagram(&self, index: usize) -> &[u8] {
        let length = (self.headers[index].msg_len as usize).min(self.slot);
        let start = index * self.slot;
        &self.buffer[start..start + length]
    }

    /// The sender of the `index`th datagram (None when it has no address to answer: an
    /// unbound unix socket reports no name or only its family). An IPv4 or IPv6 sender is
    /// read in place: a `SockAddr` is a 128-byte copy of the kernel's storage, made and
    /// moved twice per datagram (W5's profile).
    pub(crate) fn sender(&self, index: usize) -> Option<Address> {
        let name_length = self.headers[index].msg_hdr.msg_namelen;
        if name_length as usize <= mem::size_of::<libc::sa_family_t>() {
            return None;
        }
        let storage = &self.senders[index];
        let storage_pointer: *const libc::sockaddr_storage = storage;
        match i32::from(storage.ss_family) {
            libc::AF_INET if name_length as usize >= mem::size_of::<libc::sockaddr_in>() => {
                // SAFETY: the kernel wrote a whole sockaddr_in here, and sockaddr_storage is
                // large and aligned enough for any socket address.
                let v4 = unsafe { &*storage_pointer.cast::<libc::sockaddr_in>() };
                // s_addr holds the address in network order, as its bytes in memory.
                Some(Address::Inet4 {
                    octets: v4.sin_addr.s_addr.to_ne_bytes(),
                    port: u16::from_be(v4.sin_port),
                })
            }
            libc::AF_INET6 if name_length as usize >= mem::size_of::<libc::sockaddr_in6>() => {
                // SAFETY: as above, for a whole sockaddr_in6.
                let v6 = unsafe { &*storage_pointer.cast::<libc::sockaddr_in6>() };
                let groups = std::net::Ipv6Addr::from(v6.sin6_addr.s6_addr).segments();
                Some(Address::Inet6 { groups, port: u16::from_be(v6.sin6_port) })
            }
            _ => {
                // SAFETY: the kernel wrote `name_length` bytes of a valid address here.
                let sender = unsafe { SockAddr::new(*storage, name_length) };
                Some(Address::from_sockaddr(&sender))
            }
        }
    }

    /// Size the scratch space and point every header at its slot (once per slot size);
    /// then reset what the kernel changes on each call.
    fn prepare(&mut self, slot: usize) {
        if self.slot != slot || self.headers.len() != BATCH {
            self.build(slot);
        }
        for header in &mut self.headers {
            header.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_len = 0;
        }
    }

    fn build(&mut self, slot: usize) {
        self.slot = slot;
        self.buffer = vec![0; slot * BATCH];
        // SAFETY: sockaddr_storage, mmsghdr and iovec are plain C data, valid when zeroed.
        let zeroed_storage: libc::sockaddr_storage = unsafe { MaybeUninit::zeroed().assume_init() };
        self.senders = vec![zeroed_storage; BATCH];
        let base = self.buffer.as_mut_ptr();
        // SAFETY: index * slot is within `buffer`, which is BATCH slots long.
        self.vectors = (0..BATCH)
            .map(|index| libc::iovec { iov_base: unsafe { base.add(index * slot) }.cast(), iov_len: slot })
            .collect();
        self.headers.clear();
        for index in 0..BATCH {
            // SAFETY: as above, plain C data.
            let mut header: libc::mmsghdr = unsafe { MaybeUninit::zeroed().assume_init() };
            header.msg_hdr.msg_name = (&mut self.senders[index] as *mut libc::sockaddr_storage).cast();
            header.msg_hdr.msg_iov = &mut self.vectors[index];
            header.msg_hdr.msg_iovlen = 1;
            self.headers.push(header);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Type};

    #[test]
    fn a_batch_brings_every_waiting_datagram_whole_with_its_sender() {
        let receiver = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        receiver.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
        let address = receiver.local_addr().unwrap();
        let sender = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        let sizes = [0usize, 1, 1500, 65507];
        for (index, size) in sizes.iter().enumerate() {
            let datagram = vec![index as u8 + 1; *size];
            sender.send_to(&datagram, &address).unwrap();
        }
        let mut batch = DatagramBatch::default();
        let received = batch.receive(&receiver, 65536).unwrap();
        assert_eq!(received, sizes.len());
        for (index, size) in sizes.iter().enumerate() {
            let bytes = batch.datagram(index);
            assert_eq!(bytes.len(), *size);
            assert!(bytes.iter().all(|&b| b == index as u8 + 1));
            let port = sender.local_addr().unwrap().as_socket().map(|socket| socket.port()).unwrap();
            assert_eq!(batch.sender(index), Some(Address::Inet4 { octets: [127, 0, 0, 1], port }));
        }
        let empty = batch.receive(&receiver, 65536).unwrap_err();
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn an_ipv6_sender_is_read_in_place_as_socket2_reads_it() {
        let receiver = Socket::new(Domain::IPV6, Type::DGRAM, None).unwrap();
        receiver.bind(&"[::1]:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
        let sender = Socket::new(Domain::IPV6, Type::DGRAM, None).unwrap();
        sender.bind(&"[::1]:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
        sender.send_to(b"six", &receiver.local_addr().unwrap()).unwrap();
        let mut batch = DatagramBatch::default();
        assert_eq!(batch.receive(&receiver, 65536).unwrap(), 1);
        assert_eq!(batch.datagram(0), b"six");
        let expected = Address::from_sockaddr(&sender.local_addr().unwrap());
        assert!(matches!(expected, Address::Inet6 { groups: [0, 0, 0, 0, 0, 0, 0, 1], .. }));
        assert_eq!(batch.sender(0), Some(expected));
    }
}

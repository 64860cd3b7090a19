//! Answers with a body where actix-http answers without one: a request head longer than its
//! 128 KiB read buffer gets actix-http's bare `431` (and a target past the `http` crate's 64 KiB
//! URI limit a bare `400`) before any of the service's code runs. This wrapper around a
//! connection's plaintext stream writes, in their place, the same statuses with the body every
//! other error of the service has (an OperationOutcome, or RFC 6749 JSON under `/oauth` and
//! `/audit`; `fhir_api::limits`), then the connection closes, as actix-http closes it.
//!
//! It parses no HTTP framing (a second reading of where a request ends could disagree with
//! actix-http's, the stuff of request smuggling). It watches two things only:
//! - what was read since the service last wrote: at least `LONG_HEAD` bytes with no blank line,
//!   or a first line longer than `LONG_TARGET`, is what those bare answers follow;
//! - the first bytes of the next write: actix-http's own `431` or `400` with an empty body.
//!
//! Only when both hold is the write replaced. The service itself never answers 431, nor 400
//! without a body, so no answer of the service's is ever taken for actix-http's; and an answer is
//! written only after its request was read, so a long request body is followed by the service's
//! own answer, never by a bare 431.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much of a request head, read without a blank line since the last answer, marks it as one
/// actix-http will refuse: below its 128 KiB buffer, so that the mark is set before it answers.
const LONG_HEAD: usize = 96 * 1024;
/// A first line longer than this holds a target the `http` crate refuses (65,534 bytes).
const LONG_TARGET: usize = 65_534;
/// How much of a head is kept to read its method and path from.
const KEPT: usize = 2048;

/// A stream whose bare head-size refusals are answered with a body.
#[derive(Debug)]
pub struct HeadGuard<IO> {
    io: IO,
    /// Bytes read since the service last wrote.
    read: usize,
    /// Whether those bytes hold a blank line (`\r\n\r\n`), and their last three bytes (a
    /// blank line may span two reads).
    blank_line: bool,
    tail: [u8; 3],
    /// Length of the first line of those bytes, and whether it ended.
    first_line: usize,
    first_line_ended: bool,
    /// Their first bytes (for the method and path).
    head: Vec<u8>,
    /// An answer being written in place of actix-http's, and how much of it is out.
    replacement: Option<(Vec<u8>, usize)>,
}

impl<IO> HeadGuard<IO> {
    /// Guards `io`.
    pub fn new(io: IO) -> HeadGuard<IO> {
        HeadGuard {
            io,
            read: 0,
            blank_line: false,
            tail: [0; 3],
            first_line: 0,
            first_line_ended: false,
            head: Vec::new(),
            replacement: None,
        }
    }

    /// The guarded stream (for the TLS session's client certificate).
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    fn observe_read(&mut self, bytes: &[u8]) {
        self.read = self.read.saturating_add(bytes.len());
        if self.blank_line && self.first_line_ended {
            // Nothing more to learn until the next answer (the usual case: a body).
            return;
        }
        // Line ends are few in a head: each is found by memchr (vectorised) and the three bytes
        // before it decide whether it ends a blank line; the bytes between are not looked at.
        let byte_before = |at: usize, back: usize| -> u8 {
            match at.checked_sub(back) {
                Some(index) => bytes[index],
                None => self.tail[3 - (back - at)],
            }
        };
        for at in memchr::memchr_iter(b'\n', bytes) {
            if !self.first_line_ended {
                self.first_line_ended = true;
                self.first_line += at;
            }
            if byte_before(at, 1) == b'\r' && byte_before(at, 2) == b'\n' && byte_before(at, 3) == b'\r' {
                self.blank_line = true;
                break;
            }
        }
        if !self.first_line_ended {
            self.first_line += bytes.len();
        }
        for byte in bytes.iter().rev().take(3).rev() {
            self.tail = [self.tail[1], self.tail[2], *byte];
        }
        let room = KEPT.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..room.min(bytes.len())]);
    }

    /// What replaces `answer` (the start of a write), if it is a bare refusal of a head as read.
    fn replacement_for(&self, answer: &[u8]) -> Option<Vec<u8>> {
        let bare = |status: &[u8]| {
            answer.starts_with(status)
                && answer.windows(19).take(256).any(|window| window.eq_ignore_ascii_case(b"content-length: 0\r\n"))
        };
        // The path only when an answer is replaced: this runs for every answer written.
        if self.read >= LONG_HEAD && !self.blank_line && bare(b"HTTP/1.1 431 ") {
            let path = request_path(&self.head);
            return Some(refusal(431, "Request Header Fields Too Large", &path, "the request head is too long"));
        }
        if self.first_line > LONG_TARGET && bare(b"HTTP/1.1 400 ") {
            let path = request_path(&self.head);
            return Some(refusal(414, "URI Too Long", &path, "the request target is too long"));
        }
        None
    }

    fn forget_reads(&mut self) {
        self.read = 0;
        self.blank_line = false;
        self.tail = [0; 3];
        self.first_line = 0;
        self.first_line_ended = false;
        self.head.clear();
    }
}

/// The path of a request line's target, without its query (`GET /x/fhir/Patient?...`).
fn request_path(head: &[u8]) -> String {
    let line = head.split(|byte| *byte == b'\n').next().unwrap_or_default();
    let target = line.split(|byte| *byte == b' ').nth(1).unwrap_or_default();
    let path = target.split(|byte| *byte == b'?').next().unwrap_or_default();
    String::from_utf8_lossy(path).into_owned()
}

/// A whole HTTP/1.1 answer with `status`, in the protocol of `path`, closing the connection.
fn refusal(status: u16, reason: &str, path: &str, why: &str) -> Vec<u8> {
    let (media_type, body) = fhir_api::limits::refusal_body(path, why);
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {media_type}\r\ncontent-length: {}\r\ncache-control: no-store\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl<IO: AsyncRead + Unpin> AsyncRead for HeadGuard<IO> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &polled {
            this.observe_read(&buf.filled()[before..]);
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for HeadGuard<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacement.is_none()
            && let Some(answer) = self.replacement_for(buf)
        {
            self.replacement = Some((answer, 0));
        }
        if self.replacement.is_some() {
            // actix-http's answer is taken whole; ours goes out in its place.
            return match self.as_mut().poll_replacement(cx) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.len())),
                Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
                Poll::Pending => Poll::Pending,
            };
        }
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(count)) = &written
            && *count > 0
        {
            self.forget_reads();
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.as_mut().poll_replacement(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.io).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.as_mut().poll_replacement(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.io).poll_shutdown(cx),
            other => other,
        }
    }
}

impl<IO: AsyncWrite + Unpin> HeadGuard<IO> {
    /// Writes what is left of the replacement answer, if any.
    fn poll_replacement(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let this = &mut *self;
            let Some((answer, sent)) = &mut this.replacement else { return Poll::Ready(Ok(())) };
            if *sent == answer.len() {
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut this.io).poll_write(cx, &answer[*sent..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(count)) => *sent += count,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard_after(read: &[u8]) -> HeadGuard<()> {
        let mut guard = HeadGuard::new(());
        guard.observe_read(read);
        guard
    }

    const BARE_431: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
    const BARE_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

    #[test]
    fn a_bare_431_after_a_long_head_becomes_an_answer_with_a_body() {
        let head = format!("GET /umcx/48/fhir/Observation?code={} HTTP/1.1\r\nHost: x\r\n", "c".repeat(LONG_HEAD));
        let answer = guard_after(head.as_bytes()).replacement_for(BARE_431).expect("replaced");
        let text = String::from_utf8(answer).expect("text");
        assert!(text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{text}");
        assert!(text.contains("content-type: application/fhir+json") && text.contains("\"too-long\""), "{text}");
        assert!(text.contains("connection: close"));
        let oauth = format!("GET /oauth/authorize?state={} HTTP/1.1\r\n", "s".repeat(LONG_HEAD));
        let text = String::from_utf8(guard_after(oauth.as_bytes()).replacement_for(BARE_431).expect("replaced"))
            .expect("text");
        assert!(text.contains("\"error\":\"invalid_request\""), "{text}");
    }

    #[test]
    fn a_bare_400_after_an_overlong_target_becomes_a_414_with_a_body() {
        let head = format!("GET /x/48/fhir/Patient?{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(LONG_TARGET));
        let text =
            String::from_utf8(guard_after(head.as_bytes()).replacement_for(BARE_400).expect("replaced")).expect("text");
        assert!(text.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{text}");
    }

    #[test]
    fn nothing_else_is_ever_replaced() {
        let long_body =
            format!("PUT /ingest/x/stu3/Patient/p HTTP/1.1\r\ncontent-length: 1\r\n\r\n{}", "x".repeat(LONG_HEAD));
        // A long body follows a blank line: the service's own answer is not touched.
        assert!(guard_after(long_body.as_bytes()).replacement_for(BARE_431).is_none());
        let long_head = format!("GET /{} HTTP/1.1\r\n", "a".repeat(LONG_HEAD));
        let guard = guard_after(long_head.as_bytes());
        // The service's own answers, even the 400s and 431s it could give, have bodies.
        assert!(guard.replacement_for(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(
            guard
                .replacement_for(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 12\r\n\r\n")
                .is_none()
        );
        // A short head: actix-http's bare answers for other reasons stay as they are.
        assert!(guard_after(b"GET / HTTP/1.1\r\n").replacement_for(BARE_431).is_none());
        assert!(guard_after(b"GET / HTTP/1.1\r\n").replacement_for(BARE_400).is_none());
    }

    #[test]
    fn a_blank_line_split_over_reads_is_found_and_a_first_line_measured_across_them() {
        let mut guard = HeadGuard::new(());
        guard.observe_read(b"GET /a HTTP/1.1\r\nHost: x\r");
        guard.observe_read(b"\n");
        assert!(!guard.blank_line);
        guard.observe_read(b"\r");
        guard.observe_read(b"\nbody");
        assert!(guard.blank_line);
        assert_eq!(guard.first_line, "GET /a HTTP/1.1\r".len());
        let mut long = HeadGuard::new(());
        long.observe_read(&[b'a'; 100]);
        long.observe_read(&[b'b'; 50]);
        long.observe_read(b"c\r\n");
        assert_eq!(long.first_line, 152);
    }

    #[test]
    fn an_answer_forgets_what_was_read_before_it() {
        let mut guard = guard_after(format!("GET /{} HTTP/1.1\r\n", "a".repeat(LONG_HEAD)).as_bytes());
        guard.forget_reads();
        assert!(guard.replacement_for(BARE_431).is_none());
        assert_eq!(request_path(b"GET /a/b?c=d HTTP/1.1\r\n"), "/a/b");
    }
}

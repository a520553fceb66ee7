//! An answer made of pieces kept elsewhere: a body that sends a list of shared [`Bytes`] one
//! after the other (a `Content-Length` of their sum, written with vectored writes), so that a
//! page built from large kept parts costs no copy of them; and what a gzip answer built from
//! kept deflated parts needs to close its stream: the CRC-32 of the whole, combined from the
//! CRCs of the parts without reading their bytes again.
//!
//! Small pieces are copied together into one buffer instead: hyper writes at most 16 buffers
//! per `writev`, and the shop's gzip answer of ~35 KB was some 90 pieces, so six system calls,
//! each a TCP send, where nginx makes one. Copying a few KB costs far less than a system call
//! (measured with `perf`: 6 `writev` per answer before, 1 after). A piece of [`KEEP_FROM`]
//! bytes or more is sent as it is kept while the answer stays within [`MAX_PARTS`] buffers
//! (one `writev`); past that, pieces are copied too.
//!
//! Combining: CRC-32 is linear over GF(2), so `crc(A ‖ B) = crc(A) · x^(8·|B|) ⊕ crc(B)` (mod
//! the CRC's polynomial, conditioning included). The factor `x^(8·|B|) mod P` depends on `B`'s
//! length only: a kept part keeps it ([`Crc::shift`]), and adding the part to a running CRC is
//! one multiplication of 32 steps ([`Crc::then`]). `crc32fast`'s own `combine` recomputes that
//! factor on every call by squaring 32 × 32 bit matrices, some 40,000 operations for a 100 KB
//! part, which is more than reading the part again.

use std::{
    collections::VecDeque,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};

/// Pieces shorter than this are copied, with their small neighbours, into one buffer; longer
/// ones are sent as they are kept (within [`MAX_PARTS`]).
const KEEP_FROM: usize = 1024;

/// The most buffers hyper writes in one `writev` (its `MAX_BUF_LIST_BUFFERS`).
const MAX_PARTS: usize = 16;

/// The body of an answer: these bytes, in this order.
#[derive(Default)]
pub(crate) struct Pieces {
    parts: VecDeque<Bytes>,
    /// Small pieces since the last large one, copied together.
    small: BytesMut,
    len: u64,
}

impl Pieces {
    /// Room for `small` bytes of copied pieces, so that copying them never moves them again.
    pub(crate) fn with_capacity(small: usize) -> Self {
        Self {
            parts: VecDeque::with_capacity(MAX_PARTS),
            small: BytesMut::with_capacity(small),
            len: 0,
        }
    }

    /// Appends a piece (nothing for an empty one).
    pub(crate) fn push(&mut self, b: Bytes) {
        if b.len() >= KEEP_FROM && self.parts.len() + 2 < MAX_PARTS {
            self.len += b.len() as u64;
            self.end_small();
            self.parts.push_back(b);
        } else {
            self.copy(&b);
        }
    }

    /// Appends a piece by copying it (a few bytes made for this answer).
    pub(crate) fn copy(&mut self, b: &[u8]) {
        self.len += b.len() as u64;
        self.small.extend_from_slice(b);
    }

    /// Closes the buffer of small pieces into a part.
    fn end_small(&mut self) {
        if !self.small.is_empty() {
            self.parts.push_back(self.small.split().freeze());
        }
    }

    /// The answer's length.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The pieces (small ones joined).
    pub(crate) fn into_parts(mut self) -> VecDeque<Bytes> {
        self.end_small();
        self.parts
    }

    /// All the pieces in one buffer (tests, and a client that needs it whole).
    #[cfg(test)]
    pub(crate) fn concat(&self) -> Vec<u8> {
        self.parts
            .iter()
            .flat_map(|b| b.iter().copied())
            .chain(self.small.iter().copied())
            .collect()
    }

    /// As a response body.
    pub(crate) fn into_body(self) -> poem::Body {
        use http_body_util::BodyExt;
        poem::Body::from(self.map_err(|never| match never {}).boxed())
    }
}

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.parts.is_empty() {
            self.end_small();
        }
        let next = self.parts.pop_front();
        if let Some(b) = &next {
            self.len -= b.len() as u64;
        }
        Poll::Ready(next.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty() && self.small.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

/// The CRC-32 polynomial (reflected), as gzip uses it.
const POLY: u32 = 0xedb8_8320;

/// `a · b mod P`, both polynomials in the reflected order (bit 31 is x⁰).
fn multiply(a: u32, mut b: u32) -> u32 {
    let mut product = 0;
    let mut bit = 1u32 << 31;
    while bit != 0 && a & (bit | (bit - 1)) != 0 {
        if a & bit != 0 {
            product ^= b;
        }
        bit >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    product
}

/// `x^(8·len) mod P`.
fn shift_of(len: u64) -> u32 {
    let mut shift = 1u32 << 31;
    let mut n = len;
    for p in powers() {
        if n == 0 {
            break;
        }
        if n & 1 != 0 {
            shift = multiply(*p, shift);
        }
        n >>= 1;
    }
    shift
}

/// `x^(2^k) mod P` for k = 3 … 66: the powers a byte length is made of.
fn powers() -> &'static [u32; 64] {
    static POWERS: std::sync::OnceLock<[u32; 64]> = std::sync::OnceLock::new();
    POWERS.get_or_init(|| {
        // x¹, squared three times: x⁸, one byte.
        let mut p = 1u32 << 30;
        for _ in 0..3 {
            p = multiply(p, p);
        }
        let mut t = [0u32; 64];
        for slot in &mut t {
            *slot = p;
            p = multiply(p, p);
        }
        t
    })
}

/// A part's CRC-32 and what appending it to another part's CRC takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Crc {
    /// CRC-32 of the part (gzip's).
    pub(crate) sum: u32,
    /// `x^(8·len) mod P`.
    shift: u32,
    /// The part's length.
    pub(crate) len: u64,
}

impl Crc {
    /// Of `bytes` (reads them once, when the part is kept).
    pub(crate) fn of(bytes: &[u8]) -> Self {
        let len = bytes.len() as u64;
        Self {
            sum: crc32fast::hash(bytes),
            shift: shift_of(len),
            len,
        }
    }

    /// Of the bytes between two points of a text, from the CRCs of the text up to each
    /// (`self` up to the end, `start` up to the beginning): `crc(A ‖ B) = crc(A) · x^(8·|B|)
    /// ⊕ crc(B)` solved for `crc(B)`. As many multiplications as `|B|` has bits set, plus one,
    /// whatever the number of parts in between.
    pub(crate) fn since(&self, start: &Crc) -> Self {
        let len = self.len - start.len;
        let shift = shift_of(len);
        Self {
            sum: self.sum ^ multiply(shift, start.sum),
            shift,
            len,
        }
    }

    /// Of nothing: what a running CRC starts from.
    pub(crate) fn empty() -> Self {
        Self {
            sum: 0,
            shift: 1 << 31,
            len: 0,
        }
    }

    /// The CRC of `self` followed by the part `next`.
    pub(crate) fn then(self, next: &Crc) -> Self {
        Self {
            sum: multiply(next.shift, self.sum) ^ next.sum,
            shift: multiply(next.shift, self.shift),
            len: self.len + next.len,
        }
    }

    /// The CRC of `self` followed by `bytes`, read now (for a few bytes made per answer). The
    /// result's shift is not kept: only [`Crc::sum`] and [`Crc::len`] are meant to be read,
    /// or more bytes appended.
    pub(crate) fn then_bytes(self, bytes: &[u8]) -> Self {
        let mut h = crc32fast::Hasher::new_with_initial(self.sum);
        h.update(bytes);
        Self {
            sum: h.finalize(),
            shift: self.shift,
            len: self.len + bytes.len() as u64,
        }
    }

    /// gzip's trailer: the CRC, then the length modulo 2³², little-endian.
    pub(crate) fn trailer(&self) -> [u8; 8] {
        let mut t = [0u8; 8];
        t[..4].copy_from_slice(&self.sum.to_le_bytes());
        // gzip keeps the length modulo 2^32 (RFC 1952, ISIZE).
        t[4..].copy_from_slice(&((self.len & 0xffff_ffff) as u32).to_le_bytes());
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_crcs_are_the_crc_of_the_whole() {
        let text: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for cuts in [
            vec![0, 200_000],
            vec![0, 1, 200_000],
            vec![0, 5, 5, 17, 4096, 65_536, 131_073, 200_000],
            vec![0, 199_999, 200_000],
        ] {
            let mut crc = Crc::empty();
            for w in cuts.windows(2) {
                let part = &text[w[0]..w[1]];
                crc = if w[1] - w[0] < 10 {
                    crc.then_bytes(part)
                } else {
                    crc.then(&Crc::of(part))
                };
            }
            assert_eq!(crc.sum, crc32fast::hash(&text), "cut at {cuts:?}");
            assert_eq!(crc.len, 200_000);
        }
        assert_eq!(
            Crc::empty().then(&Crc::of(b"abc")).sum,
            crc32fast::hash(b"abc")
        );
    }

    #[test]
    fn pieces_say_their_length_and_send_every_byte() {
        let mut p = Pieces::default();
        p.push(Bytes::from_static(b"<html>"));
        p.push(Bytes::new());
        p.push(Bytes::from_static(b"</html>"));
        assert_eq!(p.len(), 13);
        assert_eq!(p.concat(), b"<html></html>");
        assert_eq!(
            http_body::Body::size_hint(&p).exact(),
            Some(13),
            "a Content-Length, not chunks"
        );
    }

    #[test]
    fn small_pieces_go_out_together_and_large_ones_as_kept() {
        let large = Bytes::from(vec![b'x'; KEEP_FROM]);
        let mut p = Pieces::default();
        for piece in [&b"<a>"[..], b"<b>", b"<c>"] {
            p.push(Bytes::copy_from_slice(piece));
        }
        p.push(large.clone());
        p.push(Bytes::from_static(b"</c>"));
        let whole = p.concat();
        let parts: Vec<Bytes> = p.into_parts().into();
        assert_eq!(
            parts.len(),
            3,
            "the three small pieces joined, the large one, the end"
        );
        assert_eq!(&parts[0][..], b"<a><b><c>");
        assert_eq!(
            parts[1].as_ptr(),
            large.as_ptr(),
            "the large piece is not copied"
        );
        assert_eq!(parts.concat(), whole);
    }

    #[test]
    fn an_answer_stays_within_one_writev() {
        let mut p = Pieces::with_capacity(64);
        let mut expected = Vec::new();
        for i in 0..40u8 {
            let large = Bytes::from(vec![i; KEEP_FROM + usize::from(i)]);
            expected.extend_from_slice(&large);
            p.push(large);
            p.copy(&[b'-', i]);
            expected.extend_from_slice(&[b'-', i]);
        }
        assert_eq!(p.len(), expected.len() as u64);
        let parts: Vec<Bytes> = p.into_parts().into();
        assert!(parts.len() <= MAX_PARTS, "{} buffers", parts.len());
        assert_eq!(parts.concat(), expected);
    }

    #[test]
    fn the_crc_of_a_stretch_from_the_crcs_up_to_its_ends() {
        let text: Vec<u8> = (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        let upto = |n: usize| Crc::of(&text[..n]);
        for (a, b) in [
            (0, 0),
            (0, 50_000),
            (1, 2),
            (17, 4096),
            (4096, 4096),
            (333, 49_999),
        ] {
            let stretch = upto(b).since(&upto(a));
            assert_eq!(stretch, Crc::of(&text[a..b]), "{a}..{b}");
        }
    }
}

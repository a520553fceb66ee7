//! The shop's offers kept rendered: the big part of the shop page (236 offers, ~140 KB in the
//! demo) is rendered once per (cycle, what the cycle shows — `Store::shown_cycle`'s version,
//! language, logged in or not), with a hole in each orderable offer's input for the visitor's
//! quantity, and each plain `GET` splices the visitor's basket into it (a copy of the bytes)
//! instead of rendering 236 offers again.
//!
//! What the kept HTML cannot say takes the full render (`ShopOffers::for_visitor`): a `?q=`
//! filter, the page again after a refused form (typed text, errors), a sold-out offer kept in
//! the basket. Both give the same bytes (tested in `tests/e2e/pages_shop_speed.rs`).
//!
//! The page around the offers (layout, the visitor's name, CSRF token, basket count) is kept
//! too, per visitor ([`Around`], keyed by everything it is rendered from), so that a reload
//! renders nothing: the answer is the kept prefix, slices of the kept offers with the basket's
//! quantities between them, and the kept suffix, sent as they are (`crate::pieces`), not
//! copied into one buffer.
//!
//! gzip: the kept HTML is also kept deflated, in chunks of about [`CHUNK_BYTES`] cut at holes,
//! each a raw deflate stream of its own ending on a sync flush (byte-aligned, not final), so
//! that chunks concatenate; and each chunk again piece by piece between its holes. A gzip
//! answer is the visitor's page around the offers deflated (once, kept with it), the kept
//! chunks where the basket fills no hole, for the few chunks it does fill their pieces with the
//! quantities between them as stored blocks, and the CRC-32 of the whole, combined from each
//! part's kept CRC (`crate::pieces::Crc`): nothing of the offers is deflated, copied or read
//! per request.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex, RwLock},
};

use bytes::Bytes;
use domain::Quantity;
use flate2::{Compress, Compression, FlushCompress, Status};
use serde_json::{Value, json};

use super::{
    super::{Site, i18n::Lang},
    offers::{ShopOffers, dot_decimal},
};
use crate::pieces::{Crc, Pieces};

/// What marks a hole while rendering: never in a product's text (checked).
const MARK: char = '\u{1}';

/// The size of the kept HTML's deflated chunks: a basket's line costs deflating one per
/// request.
const CHUNK_BYTES: usize = 8 * 1024;

/// A kept part, deflated, with its CRC.
struct Part {
    /// Raw deflate, ending on a sync flush (byte-aligned, not final); empty for nothing.
    deflated: Bytes,
    /// Of the part's HTML.
    crc: Crc,
}

impl Part {
    fn of(c: &mut Compress, bytes: &[u8]) -> Option<Self> {
        let deflated = if bytes.is_empty() {
            Vec::new()
        } else {
            deflate_piece(c, bytes, false)?
        };
        Some(Self {
            deflated: Bytes::from(deflated),
            crc: Crc::of(bytes),
        })
    }
}

/// A piece of the kept HTML, deflated.
struct Chunk {
    /// Its holes, in `KeptOffers::holes`.
    holes: std::ops::Range<usize>,
    /// All of it.
    whole: Part,
    /// The same bytes cut at each of its holes (one more piece than holes), each deflated on
    /// its own: a chunk with a basket line in it is these pieces with the quantities between
    /// them as stored blocks, nothing deflated per request.
    pieces: Vec<Part>,
}

/// `bytes` as raw deflate of its own (`c` is reset first): ending on a sync flush
/// (byte-aligned, more may follow), or on the final block when `last`.
fn deflate_piece(c: &mut Compress, bytes: &[u8], last: bool) -> Option<Vec<u8>> {
    c.reset();
    let mut out = Vec::with_capacity(bytes.len() / 3 + 64);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    // Each round has room for the whole rest; a few rounds at most.
    for _ in 0..64 {
        let done = usize::try_from(c.total_in()).ok()?;
        out.reserve(bytes.len() - done + 1024);
        let status = c.compress_vec(&bytes[done..], &mut out, flush).ok()?;
        let all_in = usize::try_from(c.total_in()).ok()? == bytes.len();
        let ended = if last {
            status == Status::StreamEnd
        } else {
            out.len() < out.capacity()
        };
        if all_in && ended {
            return Some(out);
        }
    }
    None
}

/// `bytes` (under 64 KB) as a stored deflate block, not final; the stream must be
/// byte-aligned (it is after a sync flush or another stored block).
fn stored(bytes: &[u8]) -> Option<Bytes> {
    let len = u16::try_from(bytes.len()).ok()?;
    let mut out = Vec::with_capacity(bytes.len() + 5);
    out.push(0);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(bytes);
    Some(Bytes::from(out))
}

/// The gzip header: deflate, no name, no time, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// The offers of one (cycle, version, language, logged in or not), rendered with holes.
pub(crate) struct KeptOffers {
    /// The rendered offers, holes taken out.
    html: Bytes,
    /// Where each offer's ` value="..."` goes: (byte offset in `html`, offer id), in order.
    holes: Vec<(usize, i64)>,
    /// Each orderable offer's hole, by offer id.
    hole_of: HashMap<i64, usize>,
    /// Offers with nothing left: one kept in a basket takes the full render.
    sold_out: HashSet<i64>,
    /// `html` deflated, in chunks; empty if deflating failed (answers then go through the
    /// site's gzip).
    chunks: Vec<Chunk>,
    /// The chunks' deflated wholes one after the other, so that a run of chunks the basket
    /// fills no hole of goes out as one slice.
    runs: Runs,
    /// The page's `shop` context, without its producers.
    pub(crate) meta: Value,
    /// The cycle's name.
    pub(crate) title: String,
}

impl KeptOffers {
    /// Renders `offers` with a mark for each orderable offer's quantity, and takes the marks
    /// out; `None` when the marks cannot be found back (the page is then rendered in full).
    pub(crate) fn render(
        site: &Site,
        lang: Lang,
        logged_in: bool,
        offers: &ShopOffers,
    ) -> Option<Self> {
        let mut sold_out = HashSet::new();
        let mut marks = HashMap::new();
        for o in offers
            .producers
            .iter()
            .flat_map(|p| &p.kinds)
            .flat_map(|k| &k.offers)
        {
            if o.sold_out {
                sold_out.insert(o.id);
            } else {
                marks.insert(o.id, format!("{MARK}{}{MARK}", o.id));
            }
        }
        let shop = offers.for_visitor("", &marks, &HashMap::new());
        let marked = site.render_part(
            lang,
            "shop/offers",
            json!({ "shop": shop, "logged_in": logged_in }),
        )?;
        let mut html = String::with_capacity(marked.len());
        let mut holes = Vec::new();
        let open = format!(" value=\"{MARK}");
        let mut rest = marked.as_str();
        while let Some(at) = rest.find(&open) {
            html.push_str(&rest[..at]);
            let after = &rest[at + open.len()..];
            let end = after.find(MARK)?;
            let id: i64 = after[..end].parse().ok()?;
            rest = after[end..].strip_prefix(&format!("{MARK}\""))?;
            holes.push((html.len(), id));
        }
        html.push_str(rest);
        if html.contains(MARK) {
            return None;
        }
        let mut chunks = chunks_of(&html, &holes).unwrap_or_default();
        let runs = Runs::of(&mut chunks);
        let hole_of = holes
            .iter()
            .enumerate()
            .map(|(i, (_, id))| (*id, i))
            .collect();
        let mut meta = shop;
        if let Some(m) = meta.as_object_mut() {
            m.remove("producers");
        }
        Some(Self {
            html: Bytes::from(html),
            holes,
            hole_of,
            sold_out,
            chunks,
            runs,
            meta,
            title: offers.name.clone(),
        })
    }

    /// Whether this basket can be shown from the kept HTML: not when a sold-out offer is in
    /// it (the full render then shows it, orderable).
    pub(crate) fn shows(&self, lines: &BTreeMap<i64, Quantity>) -> bool {
        !lines.keys().any(|id| self.sold_out.contains(id))
    }

    /// The holes the basket fills, in the page's order, with the attribute that fills each.
    fn filled(&self, lines: &BTreeMap<i64, Quantity>) -> Vec<(usize, String)> {
        let mut filled: Vec<(usize, String)> = lines
            .iter()
            .filter_map(|(id, q)| {
                let hole = *self.hole_of.get(id)?;
                Some((
                    hole,
                    format!(" value=\"{}\"", handlebars::html_escape(&dot_decimal(*q))),
                ))
            })
            .collect();
        filled.sort_unstable_by_key(|(hole, _)| *hole);
        filled
    }

    /// Appends the offers' HTML for a visitor whose basket holds `lines`.
    pub(crate) fn splice_into(&self, lines: &BTreeMap<i64, Quantity>, out: &mut String) {
        let mut body = Pieces::default();
        self.push_plain(lines, &mut body);
        for b in body.into_parts() {
            out.push_str(std::str::from_utf8(&b).unwrap_or_default());
        }
    }

    /// Appends the offers' HTML for `lines` to `body`: slices of the kept HTML, no copy.
    fn push_plain(&self, lines: &BTreeMap<i64, Quantity>, body: &mut Pieces) {
        let mut from = 0;
        for (hole, value) in self.filled(lines) {
            let at = self.holes[hole].0;
            body.push(self.html.slice(from..at));
            body.copy(value.as_bytes());
            from = at;
        }
        body.push(self.html.slice(from..));
    }

    /// The whole page, plain: the page around the offers and the offers for `lines`.
    pub(crate) fn plain_page(&self, around: &Around, lines: &BTreeMap<i64, Quantity>) -> Pieces {
        let mut body = Pieces::with_capacity(2048);
        body.push(around.prefix.clone());
        self.push_plain(lines, &mut body);
        body.push(around.suffix.clone());
        body
    }

    /// The whole page gzipped: the page around the offers deflated (kept with it), the kept
    /// chunks, the basket's quantities as stored blocks, the CRC of the whole combined from the
    /// parts'; `None` if deflating failed.
    pub(crate) fn gzip_page(
        &self,
        around: &Around,
        lines: &BTreeMap<i64, Quantity>,
    ) -> Option<Pieces> {
        if self.chunks.is_empty() {
            return None;
        }
        let gz = around.gzipped()?;
        let filled = self.filled(lines);
        // Copied per answer: the stored quantities, the small pieces around them, the trailer.
        let copied = 2048 + filled.iter().map(|(_, v)| v.len() + 8).sum::<usize>();
        let mut body = Pieces::with_capacity(copied);
        body.push(gz.head.clone());
        let mut crc = gz.prefix;
        let mut next = filled.iter().peekable();
        // The first of the chunks since the last one the basket fills a hole of.
        let mut run = None;
        for (i, c) in self.chunks.iter().enumerate() {
            if next.peek().is_none_or(|(hole, _)| !c.holes.contains(hole)) {
                run.get_or_insert(i);
                continue;
            }
            if let Some(first) = run.take() {
                crc = crc.then(&self.runs.push(&mut body, first, i)?);
            }
            for (piece, hole) in c.pieces.iter().zip(c.holes.clone()) {
                body.push(piece.deflated.clone());
                crc = crc.then(&piece.crc);
                if let Some((_, value)) = next.next_if(|(h, _)| *h == hole) {
                    body.copy(&stored(value.as_bytes())?);
                    crc = crc.then_bytes(value.as_bytes());
                }
            }
            let last = c.pieces.last()?;
            body.push(last.deflated.clone());
            crc = crc.then(&last.crc);
        }
        if let Some(first) = run {
            crc = crc.then(&self.runs.push(&mut body, first, self.chunks.len())?);
        }
        body.push(gz.tail.clone());
        crc = crc.then(&gz.suffix);
        body.copy(&crc.trailer());
        Some(body)
    }
}

/// The deflated wholes of the chunks in one buffer, where each chunk starts in it, and the CRC
/// of the HTML up to each chunk.
#[derive(Default)]
struct Runs {
    deflated: Bytes,
    at: Vec<usize>,
    upto: Vec<Crc>,
}

impl Runs {
    /// Joins the chunks' deflated wholes (each chunk then keeps a slice of the joined buffer).
    fn of(chunks: &mut [Chunk]) -> Self {
        let mut joined = Vec::with_capacity(chunks.iter().map(|c| c.whole.deflated.len()).sum());
        let mut at = vec![0];
        let mut upto = vec![Crc::empty()];
        let mut crc = Crc::empty();
        for c in chunks.iter() {
            joined.extend_from_slice(&c.whole.deflated);
            at.push(joined.len());
            crc = crc.then(&c.whole.crc);
            upto.push(crc);
        }
        let deflated = Bytes::from(joined);
        for (c, w) in chunks.iter_mut().zip(at.windows(2)) {
            c.whole.deflated = deflated.slice(w[0]..w[1]);
        }
        Self { deflated, at, upto }
    }

    /// Sends chunks `first..end` whole, as one slice; their CRC.
    fn push(&self, body: &mut Pieces, first: usize, end: usize) -> Option<Crc> {
        let (from, to) = (*self.at.get(first)?, *self.at.get(end)?);
        body.push(self.deflated.slice(from..to));
        Some(self.upto.get(end)?.since(self.upto.get(first)?))
    }
}

/// `html` cut at holes into chunks of about [`CHUNK_BYTES`], each deflated on its own, and
/// again piece by piece between its holes.
fn chunks_of(html: &str, holes: &[(usize, i64)]) -> Option<Vec<Chunk>> {
    let mut c = Compress::new(Compression::default(), false);
    let bytes = html.as_bytes();
    let mut chunk = |start: usize, end: usize, range: std::ops::Range<usize>| -> Option<Chunk> {
        let whole = Part::of(&mut c, bytes.get(start..end)?)?;
        let mut pieces = Vec::new();
        let mut from = start;
        for (at, _) in holes.get(range.clone())? {
            pieces.push(Part::of(&mut c, bytes.get(from..*at)?)?);
            from = *at;
        }
        pieces.push(Part::of(&mut c, bytes.get(from..end)?)?);
        Some(Chunk {
            holes: range,
            whole,
            pieces,
        })
    };
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut first = 0;
    for (i, (at, _)) in holes.iter().enumerate() {
        if at - start >= CHUNK_BYTES {
            chunks.push(chunk(start, *at, first..i)?);
            start = *at;
            first = i;
        }
    }
    chunks.push(chunk(start, html.len(), first..holes.len())?);
    Some(chunks)
}

/// The page around the offers for one visitor (its name, CSRF token, basket count…), as
/// rendered once: the HTML before and after the offers, and (when a gzip answer first needs
/// it) both deflated.
pub(crate) struct Around {
    prefix: Bytes,
    suffix: Bytes,
    gz: std::sync::OnceLock<Option<AroundGz>>,
}

/// The page around the offers, deflated.
struct AroundGz {
    /// The gzip header and the prefix, ending on a sync flush.
    head: Bytes,
    /// The suffix, ending the deflate stream.
    tail: Bytes,
    prefix: Crc,
    suffix: Crc,
}

impl Around {
    pub(crate) fn new(prefix: &str, suffix: &str) -> Self {
        Self {
            prefix: Bytes::copy_from_slice(prefix.as_bytes()),
            suffix: Bytes::copy_from_slice(suffix.as_bytes()),
            gz: std::sync::OnceLock::new(),
        }
    }

    fn size(&self) -> usize {
        // The deflated forms, when made, are smaller than the plain ones.
        2 * (self.prefix.len() + self.suffix.len()) + 256
    }

    fn gzipped(&self) -> Option<&AroundGz> {
        self.gz
            .get_or_init(|| {
                let mut c = Compress::new(Compression::default(), false);
                let mut head = GZIP_HEADER.to_vec();
                head.extend_from_slice(&deflate_piece(&mut c, &self.prefix, false)?);
                Some(AroundGz {
                    head: Bytes::from(head),
                    tail: Bytes::from(deflate_piece(&mut c, &self.suffix, true)?),
                    prefix: Crc::of(&self.prefix),
                    suffix: Crc::of(&self.suffix),
                })
            })
            .as_ref()
    }
}

/// The pages around the offers, by what they were rendered from: two generations, the older
/// dropped when the newer holds [`AROUND_BYTES`].
#[derive(Default)]
struct Arounds {
    new: HashMap<String, Arc<Around>>,
    old: HashMap<String, Arc<Around>>,
    new_bytes: usize,
}

/// What one generation of pages around the offers may hold (some 1,000 visitors' pages).
const AROUND_BYTES: usize = 8 * 1024 * 1024;

/// Key: (cycle, language, logged in).
pub(crate) type Key = (i64, Lang, bool);

/// The kept offers of each (cycle, language, logged in or not), at the latest version seen.
#[derive(Default)]
pub(crate) struct KeptPages {
    kept: RwLock<HashMap<Key, (u64, Arc<KeptOffers>)>>,
    /// Each visitor's page around the offers.
    arounds: Mutex<Arounds>,
    /// One rendering at a time: the readers of a cycle that just changed (an order under a
    /// rush) wait for one rendering instead of each making its own.
    pub(crate) rendering: tokio::sync::Mutex<()>,
}

/// The most kept (a market has one or two open cycles, two languages, two kinds of visitor).
const MAX_KEPT: usize = 1024;

impl KeptPages {
    /// The kept offers of `key` at `version`, if rendered already.
    pub(crate) fn get(&self, key: Key, version: u64) -> Option<Arc<KeptOffers>> {
        let kept = self.kept.read().ok()?;
        kept.get(&key)
            .filter(|(v, _)| *v == version)
            .map(|(_, k)| k.clone())
    }

    /// The page around the offers rendered from `key` (everything it shows), if kept.
    pub(crate) fn around(&self, key: &str) -> Option<Arc<Around>> {
        let mut a = self.arounds.lock().ok()?;
        if let Some(found) = a.new.get(key) {
            return Some(found.clone());
        }
        let found = a.old.remove(key)?;
        let size = found.size();
        a.new_bytes += size;
        a.new.insert(key.to_owned(), found.clone());
        Some(found)
    }

    /// Keeps the page around the offers rendered from `key`.
    pub(crate) fn keep_around(&self, key: String, around: Arc<Around>) {
        let Ok(mut a) = self.arounds.lock() else {
            return;
        };
        let size = around.size() + key.len();
        if a.new_bytes + size > AROUND_BYTES {
            let new = std::mem::take(&mut a.new);
            a.old = new;
            a.new_bytes = 0;
        }
        a.new_bytes += size;
        a.new.insert(key, around);
    }

    /// Keeps `offers` for `key` at `version` (a newer version replaces an older one only).
    pub(crate) fn keep(&self, key: Key, version: u64, offers: Arc<KeptOffers>) {
        if let Ok(mut kept) = self.kept.write() {
            if kept.len() >= MAX_KEPT && !kept.contains_key(&key) {
                kept.clear();
            }
            if kept.get(&key).is_none_or(|(v, _)| *v <= version) {
                kept.insert(key, (version, offers));
            }
        }
    }
}

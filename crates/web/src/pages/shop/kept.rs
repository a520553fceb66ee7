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
//! gzip: the kept HTML is also kept deflated, in chunks of about [`CHUNK_BYTES`] cut at holes,
//! each a raw deflate stream of its own ending on a sync flush (byte-aligned, not final), so
//! that chunks concatenate; and each chunk again piece by piece between its holes. A gzip
//! answer is the page around the offers deflated per request (a few KB, fast level), the kept
//! chunks where the basket fills no hole, for the few chunks it does fill their pieces with the
//! quantities between them as stored blocks, and the CRC-32 of the whole: nothing of the
//! offers is deflated per request.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, RwLock},
};

use domain::Quantity;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use serde_json::{Value, json};

use super::{
    super::{Site, i18n::Lang},
    offers::{ShopOffers, dot_decimal},
};

/// What marks a hole while rendering: never in a product's text (checked).
const MARK: char = '\u{1}';

/// The size of the kept HTML's deflated chunks: a basket's line costs deflating one per
/// request.
const CHUNK_BYTES: usize = 8 * 1024;

/// A piece of the kept HTML, deflated.
struct Chunk {
    /// Its bytes in `KeptOffers::html`.
    start: usize,
    end: usize,
    /// Its holes, in `KeptOffers::holes`.
    holes: std::ops::Range<usize>,
    /// Raw deflate, ending on a sync flush.
    deflated: Vec<u8>,
    /// The same bytes cut at each of its holes (one more piece than holes), each deflated on
    /// its own (empty for an empty piece): a chunk with a basket line in it is these pieces
    /// with the quantities between them as stored blocks, nothing deflated per request.
    pieces: Vec<Vec<u8>>,
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
fn stored(out: &mut Vec<u8>, bytes: &[u8]) -> Option<()> {
    let len = u16::try_from(bytes.len()).ok()?;
    out.push(0);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(bytes);
    Some(())
}

thread_local! {
    /// Each worker's compressor for the page around the offers (fast: a few KB per answer).
    static AROUND: std::cell::RefCell<Compress> =
        std::cell::RefCell::new(Compress::new(Compression::fast(), false));
}

/// The offers of one (cycle, version, language, logged in or not), rendered with holes.
pub(crate) struct KeptOffers {
    /// The rendered offers, holes taken out.
    html: String,
    /// Where each offer's ` value="..."` goes: (byte offset in `html`, offer id), in order.
    holes: Vec<(usize, i64)>,
    /// Offers with nothing left: one kept in a basket takes the full render.
    sold_out: HashSet<i64>,
    /// `html` deflated, in chunks; empty if deflating failed (answers then go through the
    /// site's gzip).
    chunks: Vec<Chunk>,
    /// Their deflated bytes in all.
    deflated_len: usize,
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
        let chunks = chunks_of(&html, &holes).unwrap_or_default();
        let deflated_len = chunks.iter().map(|c| c.deflated.len()).sum();
        let mut meta = shop;
        if let Some(m) = meta.as_object_mut() {
            m.remove("producers");
        }
        Some(Self {
            html,
            holes,
            sold_out,
            chunks,
            deflated_len,
            meta,
            title: offers.name.clone(),
        })
    }

    /// The kept HTML's length.
    pub(crate) fn len(&self) -> usize {
        self.html.len()
    }

    /// Whether this basket can be shown from the kept HTML: not when a sold-out offer is in
    /// it (the full render then shows it, orderable).
    pub(crate) fn shows(&self, lines: &BTreeMap<i64, Quantity>) -> bool {
        !lines.keys().any(|id| self.sold_out.contains(id))
    }

    /// Appends the offers' HTML for a visitor whose basket holds `lines`.
    pub(crate) fn splice_into(&self, lines: &BTreeMap<i64, Quantity>, out: &mut String) {
        self.splice_range(0, self.html.len(), 0..self.holes.len(), lines, out);
    }

    /// Appends `html[start..end]` with the quantities of `lines` in the holes `holes`.
    fn splice_range(
        &self,
        start: usize,
        end: usize,
        holes: std::ops::Range<usize>,
        lines: &BTreeMap<i64, Quantity>,
        out: &mut String,
    ) {
        let mut from = start;
        for (at, id) in self.holes.get(holes).unwrap_or_default() {
            if let Some(q) = lines.get(id) {
                out.push_str(&self.html[from..*at]);
                out.push_str(" value=\"");
                out.push_str(&handlebars::html_escape(&dot_decimal(*q)));
                out.push('"');
                from = *at;
            }
        }
        out.push_str(&self.html[from..end]);
    }

    /// The gzip of `prefix`, the offers for `lines`, then `suffix`; `None` if deflating fails.
    pub(crate) fn gzip_page(
        &self,
        prefix: &str,
        lines: &BTreeMap<i64, Quantity>,
        suffix: &str,
    ) -> Option<Vec<u8>> {
        if self.chunks.is_empty() {
            return None;
        }
        let html = self.html.as_bytes();
        let mut crc = Crc::new();
        // The header: deflate, no name, no time, unknown OS.
        let mut out = Vec::with_capacity(self.deflated_len + 8 * 1024);
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let (head, tail) = AROUND.with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            Some((
                deflate_piece(&mut c, prefix.as_bytes(), false)?,
                deflate_piece(&mut c, suffix.as_bytes(), true)?,
            ))
        })?;
        out.extend_from_slice(&head);
        crc.update(prefix.as_bytes());
        let mut value = String::new();
        for c in &self.chunks {
            let holes = self.holes.get(c.holes.clone()).unwrap_or_default();
            if !holes.iter().any(|(_, id)| lines.contains_key(id)) {
                out.extend_from_slice(&c.deflated);
                crc.update(html.get(c.start..c.end)?);
                continue;
            }
            let mut from = c.start;
            for (i, (at, id)) in holes.iter().enumerate() {
                out.extend_from_slice(c.pieces.get(i)?);
                crc.update(html.get(from..*at)?);
                from = *at;
                if let Some(q) = lines.get(id) {
                    value.clear();
                    value.push_str(" value=\"");
                    value.push_str(&handlebars::html_escape(&dot_decimal(*q)));
                    value.push('"');
                    stored(&mut out, value.as_bytes())?;
                    crc.update(value.as_bytes());
                }
            }
            out.extend_from_slice(c.pieces.get(holes.len())?);
            crc.update(html.get(from..c.end)?);
        }
        out.extend_from_slice(&tail);
        crc.update(suffix.as_bytes());
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&crc.amount().to_le_bytes());
        Some(out)
    }
}

/// `html` cut at holes into chunks of about [`CHUNK_BYTES`], each deflated on its own, and
/// again piece by piece between its holes.
fn chunks_of(html: &str, holes: &[(usize, i64)]) -> Option<Vec<Chunk>> {
    let mut c = Compress::new(Compression::default(), false);
    let bytes = html.as_bytes();
    let mut chunk = |start: usize, end: usize, range: std::ops::Range<usize>| -> Option<Chunk> {
        let deflated = deflate_piece(&mut c, bytes.get(start..end)?, false)?;
        let mut pieces = Vec::new();
        let mut from = start;
        for (at, _) in holes.get(range.clone())? {
            pieces.push(piece(&mut c, bytes.get(from..*at)?)?);
            from = *at;
        }
        pieces.push(piece(&mut c, bytes.get(from..end)?)?);
        Some(Chunk {
            start,
            end,
            holes: range,
            deflated,
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

/// A piece between holes, deflated (nothing for nothing).
fn piece(c: &mut Compress, bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.is_empty() {
        Some(Vec::new())
    } else {
        deflate_piece(c, bytes, false)
    }
}

/// Key: (cycle, language, logged in).
type Key = (i64, Lang, bool);

/// The kept offers of each (cycle, language, logged in or not), at the latest version seen.
#[derive(Default)]
pub(crate) struct KeptPages {
    kept: RwLock<HashMap<Key, (u64, Arc<KeptOffers>)>>,
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

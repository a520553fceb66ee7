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
//! each a raw deflate stream ending on a sync flush (byte-aligned, not final), so that chunks
//! concatenate, and each made with the [`LINK_BYTES`] of HTML before it as its dictionary: a
//! chunk refers back into the one before, as one stream over the whole page would (the
//! answer is some 2.5 times smaller than with chunks deflated on their own). A gzip answer is
//! the visitor's page around the offers deflated (once, kept with it), then the kept chunks
//! as long as no quantity of the basket goes into them or into the HTML their dictionary
//! covers; each quantity as a stored block; and where a quantity moves what follows it (a
//! back-reference across it would land on the wrong bytes), the HTML up to the next kept chunk
//! as *segments* deflated with a dictionary that stops at the quantity, made the first time an
//! answer needs them and kept ([`MAX_SEGMENTS`]). The CRC-32 of the whole is combined from each
//! part's kept CRC (`crate::pieces::Crc`): nothing of the offers is deflated, copied or read
//! per request once its segments are kept.

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

/// The size of the kept HTML's deflated chunks.
const CHUNK_BYTES: usize = 8 * 1024;

/// How much of the HTML before a chunk or segment its deflate dictionary holds (at most: a
/// basket's quantity in between cuts it short).
const LINK_BYTES: usize = 8 * 1024;

/// The most segments kept for one [`KeptOffers`] (some 1 KB each); past it they start again.
const MAX_SEGMENTS: usize = 4096;

/// A kept part, deflated, with its CRC.
struct Part {
    /// Raw deflate, ending on a sync flush (byte-aligned, not final); empty for nothing.
    deflated: Bytes,
    /// Of the part's HTML.
    crc: Crc,
}

impl Part {
    /// `html[from..to]` deflated with `html[dict..from]` as its dictionary (the bytes that come
    /// just before it in the answer).
    fn linked(c: &mut Compress, html: &[u8], dict: usize, from: usize, to: usize) -> Option<Self> {
        let bytes = html.get(from..to)?;
        c.reset();
        if dict < from {
            c.set_dictionary(html.get(dict..from)?).ok()?;
        }
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

/// `bytes` deflated by `c` as it stands (reset, or given a dictionary): ending on a sync flush
/// (byte-aligned, more may follow), or on the final block when `last`.
fn deflate_piece(c: &mut Compress, bytes: &[u8], last: bool) -> Option<Vec<u8>> {
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
    /// Where `html` is cut into chunks (at holes, from 0 to its length).
    cuts: Vec<usize>,
    /// The chunks deflated, each linked to the HTML before it; `None` if deflating failed
    /// (answers then go through the site's gzip).
    runs: Option<Runs>,
    /// Chunks as a basket's quantities cut them, deflated when an answer first needed them:
    /// by (from, to, dictionary's start) in `html`.
    segments: Mutex<HashMap<(usize, usize, usize), Arc<Part>>>,
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
        let cuts = cuts_of(html.len(), &holes);
        let runs = Runs::of(html.as_bytes(), &cuts);
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
            cuts,
            runs,
            segments: Mutex::default(),
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
    /// chunks, the basket's quantities as stored blocks and the segments around them, the CRC
    /// of the whole combined from the parts'; `None` if deflating failed.
    pub(crate) fn gzip_page(
        &self,
        around: &Around,
        lines: &BTreeMap<i64, Quantity>,
    ) -> Option<Pieces> {
        let runs = self.runs.as_ref()?;
        let gz = around.gzipped()?;
        let filled = self.filled(lines);
        let steps = self.steps(&filled)?;
        // What is copied per answer: the quantities, small parts, the trailer.
        let copied = gz.head.len()
            + gz.tail.len()
            + 64
            + steps
                .iter()
                .map(|step| match step {
                    Step::Run(..) => 0,
                    Step::Segment(s) => s.deflated.len(),
                    Step::Quantity(value) => value.len() + 5,
                })
                .sum::<usize>();
        let mut body = Pieces::with_capacity(copied);
        body.push(gz.head.clone());
        let mut crc = gz.prefix;
        for step in steps {
            match step {
                Step::Run(first, end) => crc = crc.then(&runs.push(&mut body, first, end)?),
                Step::Segment(s) => {
                    body.push(s.deflated.clone());
                    crc = crc.then(&s.crc);
                }
                Step::Quantity(value) => {
                    body.copy(&stored(value.as_bytes())?);
                    crc = crc.then_bytes(value.as_bytes());
                }
            }
        }
        body.push(gz.tail.clone());
        crc = crc.then(&gz.suffix);
        body.copy(&crc.trailer());
        Some(body)
    }

    /// What the offers' deflate stream is made of for these filled holes: runs of kept chunks
    /// where no quantity goes into a chunk or the HTML its dictionary covers; elsewhere the
    /// segments between quantities (kept, or deflated now), each linked to the HTML before it
    /// back to the last quantity at most; and the quantities.
    fn steps<'a>(&self, filled: &'a [(usize, String)]) -> Option<Vec<Step<'a>>> {
        let mut fills = Vec::with_capacity(filled.len());
        for (hole, value) in filled {
            fills.push((self.holes.get(*hole)?.0, value.as_str()));
        }
        let mut next = fills.into_iter().peekable();
        let mut steps = Vec::new();
        // Where the last quantity went in: the HTML before it is not before what follows.
        let mut last: Option<usize> = None;
        // The first of the kept chunks since the last step of another kind.
        let mut run = None;
        for (k, w) in self.cuts.windows(2).enumerate() {
            let (start, end) = (w[0], w[1]);
            let linked = start.saturating_sub(LINK_BYTES);
            let cut = next.peek().is_some_and(|(at, _)| *at < end);
            if !cut && last.is_none_or(|at| at <= linked) {
                run.get_or_insert(k);
                continue;
            }
            if let Some(first) = run.take() {
                steps.push(Step::Run(first, k));
            }
            let mut from = start;
            loop {
                while let Some((at, value)) = next.next_if(|(at, _)| *at == from) {
                    steps.push(Step::Quantity(value));
                    last = Some(at);
                }
                let to = next.peek().map_or(end, |(at, _)| (*at).min(end));
                let dict = last.map_or(linked, |at| at.max(linked));
                if to > from {
                    steps.push(Step::Segment(self.segment(from, to, dict)?));
                }
                if to >= end {
                    break;
                }
                from = to;
            }
        }
        if let Some(first) = run {
            steps.push(Step::Run(first, self.cuts.len().saturating_sub(1)));
        }
        // A quantity in no chunk (not a hole of this HTML): not this page.
        next.peek().is_none().then_some(steps)
    }

    /// `html[from..to]` deflated with `html[dict..from]` as dictionary: kept, or made now.
    fn segment(&self, from: usize, to: usize, dict: usize) -> Option<Arc<Part>> {
        let key = (from, to, dict);
        if let Some(s) = self.segments.lock().ok()?.get(&key) {
            return Some(s.clone());
        }
        let mut c = Compress::new(Compression::default(), false);
        let s = Arc::new(Part::linked(&mut c, &self.html, dict, from, to)?);
        let mut kept = self.segments.lock().ok()?;
        if kept.len() >= MAX_SEGMENTS {
            kept.clear();
        }
        kept.insert(key, s.clone());
        Some(s)
    }
}

/// A part of the offers' deflate stream.
enum Step<'a> {
    /// Kept chunks `first..end`, sent as one slice.
    Run(usize, usize),
    /// HTML between quantities, or linked only to the HTML since the last one.
    Segment(Arc<Part>),
    /// A basket's quantity, as a stored block.
    Quantity(&'a str),
}

/// The chunks deflated one after the other in one buffer, where each chunk starts in it, and
/// the CRC of the HTML up to each chunk.
struct Runs {
    deflated: Bytes,
    at: Vec<usize>,
    upto: Vec<Crc>,
}

impl Runs {
    /// Deflates the chunks between `cuts`, each with the [`LINK_BYTES`] before it as its
    /// dictionary.
    fn of(html: &[u8], cuts: &[usize]) -> Option<Self> {
        let mut c = Compress::new(Compression::default(), false);
        let mut joined = Vec::with_capacity(html.len() / 4);
        let mut at = vec![0];
        let mut upto = vec![Crc::empty()];
        let mut crc = Crc::empty();
        for w in cuts.windows(2) {
            let (from, to) = (w[0], w[1]);
            let part = Part::linked(&mut c, html, from.saturating_sub(LINK_BYTES), from, to)?;
            joined.extend_from_slice(&part.deflated);
            at.push(joined.len());
            crc = crc.then(&part.crc);
            upto.push(crc);
        }
        Some(Self {
            deflated: Bytes::from(joined),
            at,
            upto,
        })
    }

    /// Sends chunks `first..end` whole, as one slice; their CRC.
    fn push(&self, body: &mut Pieces, first: usize, end: usize) -> Option<Crc> {
        let (from, to) = (*self.at.get(first)?, *self.at.get(end)?);
        body.push(self.deflated.slice(from..to));
        Some(self.upto.get(end)?.since(self.upto.get(first)?))
    }
}

/// Where `html` (of `len` bytes) is cut into chunks of about [`CHUNK_BYTES`]: at holes, from 0
/// to `len`.
fn cuts_of(len: usize, holes: &[(usize, i64)]) -> Vec<usize> {
    let mut cuts = vec![0];
    for (at, _) in holes {
        if cuts.last().is_some_and(|c| at - c >= CHUNK_BYTES) {
            cuts.push(*at);
        }
    }
    if cuts.last().is_some_and(|c| *c < len) {
        cuts.push(len);
    }
    cuts
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
                c.reset();
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Offers as the shop renders them, closely enough: repeated markup, a hole in each input,
    /// some 40 KB for 100 offers (five chunks).
    fn offers(n: i64) -> KeptOffers {
        let mut html = String::new();
        let mut holes = Vec::new();
        for id in 0..n {
            html.push_str(&format!(
                "<li class=\"offer\"><h3>Produit {id} de la ferme {}</h3><p>{},{:02} € le kilo, \
                 plus que {}</p><label for=\"q_{id}\">Quantité</label><input id=\"q_{id}\" \
                 name=\"q_{id}\"",
                id % 7,
                id * 37 % 100,
                id * 11 % 100,
                id % 5
            ));
            holes.push((html.len(), id));
            html.push_str(&format!(
                " inputmode=\"decimal\"><p>{}</p></li>\n",
                "Légumes de saison ".repeat(usize::try_from(id % 9).unwrap_or_default())
            ));
        }
        let cuts = cuts_of(html.len(), &holes);
        let runs = Runs::of(html.as_bytes(), &cuts);
        KeptOffers {
            html: Bytes::from(html),
            hole_of: holes
                .iter()
                .enumerate()
                .map(|(i, (_, id))| (*id, i))
                .collect(),
            holes,
            sold_out: HashSet::new(),
            cuts,
            runs,
            segments: Mutex::default(),
            meta: Value::Null,
            title: String::new(),
        }
    }

    fn inflate(gz: &[u8]) -> Result<Vec<u8>, std::io::Error> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn the_gzip_answer_is_the_plain_one_for_any_basket() -> Result<(), Box<dyn std::error::Error>> {
        let kept = offers(100);
        assert!(kept.cuts.len() > 4, "several chunks: {:?}", kept.cuts);
        let around = Around::new(
            "<html><body><h1>Boutique</h1><form>",
            "</form></body></html>",
        );
        // Holes at the start of a chunk, just before one, the first and the last.
        let at_cuts: Vec<i64> = kept
            .holes
            .iter()
            .filter(|(at, _)| kept.cuts.contains(at))
            .map(|(_, id)| *id)
            .collect();
        assert!(!at_cuts.is_empty());
        let mut baskets: Vec<Vec<i64>> = vec![
            vec![],
            vec![0],
            vec![99],
            vec![0, 1, 2, 3, 4],
            vec![98, 99],
            at_cuts.clone(),
            at_cuts.iter().map(|id| id - 1).collect(),
        ];
        // And pseudo-random ones (a fixed sequence).
        let mut x: u64 = 7;
        for _ in 0..40 {
            let mut b = Vec::new();
            for _ in 0..(x % 9) {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                b.push(i64::try_from((x >> 33) % 100)?);
            }
            baskets.push(b);
        }
        let quantities = [1_000, 500, 12_250, 3_000, 250];
        for (n, ids) in baskets.iter().enumerate() {
            let lines: BTreeMap<i64, Quantity> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| (*id, Quantity::from_milli(quantities[(i + n) % 5])))
                .collect();
            let plain = kept.plain_page(&around, &lines).concat();
            let gz = kept.gzip_page(&around, &lines).ok_or("gzip")?.concat();
            assert_eq!(inflate(&gz)?, plain, "basket {ids:?}");
        }
        // Without a basket, everything comes from the kept chunks.
        let empty = kept.gzip_page(&around, &BTreeMap::new()).ok_or("gzip")?;
        assert!(empty.len() < 20_000, "{} bytes", empty.len());
        Ok(())
    }

    #[test]
    fn linked_chunks_are_smaller_than_chunks_on_their_own() -> Result<(), Box<dyn std::error::Error>>
    {
        let kept = offers(100);
        let mut c = Compress::new(Compression::default(), false);
        let mut alone = 0;
        for w in kept.cuts.windows(2) {
            alone += Part::linked(&mut c, &kept.html, w[0], w[0], w[1])
                .ok_or("deflate")?
                .deflated
                .len();
        }
        let linked = kept.runs.as_ref().ok_or("runs")?.deflated.len();
        assert!(linked < alone, "{linked} linked, {alone} alone");
        Ok(())
    }
}

//! A small page writer on top of printpdf's operations: a cursor running
//! down A4 pages, text with measured widths (wrapped or cut with `…`),
//! rules, boxes, tables whose header row is repeated after a page break,
//! and page footers (`Page 2 / 5`) added once the page count is known.
//!
//! Coordinates given to the writer are in points from the **top-left**
//! corner (`y` grows downwards, like the documents are read); they are
//! turned into PDF's bottom-left coordinates when the operations are made.
//!
//! Each page keeps its graphics (rules, fills, boxes) and its text apart:
//! the graphics are drawn first, then all the text in one text object, with
//! the font set only when it changes. Fewer operations make the PDF smaller
//! and faster to write, and text always lies on top of the grey fills.

use std::collections::BTreeSet;

use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Op, PaintMode, PdfFontHandle, Point, Pt, Rect,
    TextItem,
};

use super::font::{Face, Faces};

/// A4 width in points.
pub(crate) const PAGE_W: f32 = 595.275_6;
/// A4 height in points.
pub(crate) const PAGE_H: f32 = 841.889_8;

/// Resource name of the regular face.
pub(crate) const FONT_REGULAR: &str = "F1";
/// Resource name of the bold face.
pub(crate) const FONT_BOLD: &str = "F2";

/// How a piece of text looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    /// Size in points.
    pub size: f32,
    /// Bold face.
    pub bold: bool,
    /// Grey instead of black.
    pub grey: bool,
}

impl Style {
    /// Regular black text of a size.
    pub(crate) const fn regular(size: f32) -> Style {
        Style {
            size,
            bold: false,
            grey: false,
        }
    }

    /// Bold black text of a size.
    pub(crate) const fn bold(size: f32) -> Style {
        Style {
            size,
            bold: true,
            grey: false,
        }
    }

    /// Regular grey text of a size.
    pub(crate) const fn grey(size: f32) -> Style {
        Style {
            size,
            bold: false,
            grey: true,
        }
    }

    /// Distance between two baselines.
    pub(crate) fn line_height(self) -> f32 {
        self.size * 1.22
    }

    /// Distance from the top of a line to its baseline.
    pub(crate) fn ascent(self) -> f32 {
        self.size * 0.93
    }
}

/// Horizontal alignment in a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// Flush left.
    Left,
    /// Flush right.
    Right,
    /// Centred.
    Center,
}

/// Page margins in points.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Margins {
    /// Top.
    pub top: f32,
    /// Bottom (the footer sits in it).
    pub bottom: f32,
    /// Left.
    pub left: f32,
    /// Right.
    pub right: f32,
}

/// One finished page.
pub(crate) struct Page {
    /// Drawing operations.
    pub ops: Vec<Op>,
}

/// A page being written: graphics and text kept apart.
#[derive(Default)]
struct Draft {
    gfx: Vec<Op>,
    text: Vec<Op>,
    /// Face (bold?) and size last set in the text object.
    font: Option<(bool, f32)>,
    /// Where the last text line started (PDF coordinates): `Td` moves
    /// relative to it.
    origin: (f32, f32),
    /// Whether the text fill colour is grey.
    grey: bool,
    footer: String,
}

impl Draft {
    fn into_ops(self) -> Vec<Op> {
        let mut ops = self.gfx;
        if !self.text.is_empty() {
            ops.reserve(self.text.len() + 3);
            ops.push(Op::SetFillColor { col: grey(0.0) });
            ops.push(Op::StartTextSection);
            ops.extend(self.text);
            ops.push(Op::EndTextSection);
        }
        ops
    }
}

/// The page writer.
pub(crate) struct Writer {
    faces: &'static Faces,
    pages: Vec<Draft>,
    page: Draft,
    /// Footer text of the page being written.
    pub footer: String,
    /// Footer size in points.
    pub footer_size: f32,
    /// Word for "Page".
    pub page_word: String,
    /// Cursor: distance from the top of the page.
    pub y: f32,
    /// Margins.
    pub margins: Margins,
    /// Text printed at the top of a page opened by [`Writer::ensure`].
    pub running: String,
    has_page: bool,
    used: [BTreeSet<u16>; 2],
    hash: u64,
}

/// Rounds to 0.01 pt (shorter numbers in the content streams).
fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

fn grey(level: f32) -> Color {
    Color::Greyscale(Greyscale::new(level, None))
}

impl Writer {
    /// A writer with no page yet.
    pub(crate) fn new(faces: &'static Faces, margins: Margins, page_word: &str) -> Writer {
        Writer {
            faces,
            pages: Vec::new(),
            page: Draft::default(),
            footer: String::new(),
            footer_size: 8.0,
            page_word: page_word.to_string(),
            y: margins.top,
            margins,
            running: String::new(),
            has_page: false,
            used: [BTreeSet::new(), BTreeSet::new()],
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }

    fn mix(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.hash ^= u64::from(b);
            self.hash = self.hash.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn mix_f(&mut self, values: &[f32]) {
        for v in values {
            self.mix(&v.to_bits().to_le_bytes());
        }
    }

    /// The usable width between the margins.
    pub(crate) fn width(&self) -> f32 {
        PAGE_W - self.margins.left - self.margins.right
    }

    /// The lowest `y` content may reach.
    pub(crate) fn limit(&self) -> f32 {
        PAGE_H - self.margins.bottom
    }

    fn face(&self, style: Style) -> &'static Face {
        if style.bold {
            &self.faces.bold
        } else {
            &self.faces.regular
        }
    }

    /// Starts a new page (closing the current one, if any).
    pub(crate) fn new_page(&mut self) {
        if self.has_page {
            let mut page = std::mem::take(&mut self.page);
            page.footer = self.footer.clone();
            self.pages.push(page);
        }
        self.has_page = true;
        self.y = self.margins.top;
        self.mix(b"page");
    }

    /// Makes sure a page is open.
    pub(crate) fn start(&mut self) {
        if !self.has_page {
            self.new_page();
        }
    }

    /// Whether `height` more points fit on the current page.
    pub(crate) fn fits(&self, height: f32) -> bool {
        self.y + height <= self.limit()
    }

    /// Opens a new page (with the running title) unless `height` more
    /// points fit; returns whether it did.
    pub(crate) fn ensure(&mut self, height: f32) -> bool {
        self.start();
        if self.fits(height) {
            return false;
        }
        self.new_page();
        if !self.running.is_empty() {
            let running = self.running.clone();
            let style = Style::grey(9.0);
            let x = self.margins.left;
            let w = self.width();
            let y = self.y + style.ascent();
            self.text_in(x, w, y, style, Align::Left, &running);
            self.y += style.line_height() + 4.0;
        }
        true
    }

    /// Width of a text in a style.
    pub(crate) fn measure(&self, text: &str, style: Style) -> f32 {
        self.face(style).width(text, style.size)
    }

    /// Draws a text with its baseline at `baseline` (from the top).
    pub(crate) fn text(&mut self, x: f32, baseline: f32, style: Style, text: &str) {
        if text.is_empty() {
            return;
        }
        let face_index = usize::from(style.bold);
        let face = self.face(style);
        let prepared = face.prepare(text, &mut self.used[face_index]);
        self.mix(prepared.as_bytes());
        self.mix_f(&[x, baseline, style.size]);
        self.mix(&[u8::from(style.bold), u8::from(style.grey)]);
        let page = &mut self.page;
        if page.font != Some((style.bold, style.size)) {
            let font = if style.bold { FONT_BOLD } else { FONT_REGULAR };
            page.text.push(Op::SetFont {
                font: PdfFontHandle::External(FontId(font.to_string())),
                size: Pt(style.size),
            });
            page.font = Some((style.bold, style.size));
        }
        if page.grey != style.grey {
            let level = if style.grey { 0.3 } else { 0.0 };
            page.text.push(Op::SetFillColor { col: grey(level) });
            page.grey = style.grey;
        }
        // Relative moves (`Td`) on a 0.01 pt grid: two numbers per text
        // instead of a six-number matrix, and no drift (the origin follows
        // the rounded moves exactly).
        let (dx, dy) = (
            round2(x - page.origin.0),
            round2(PAGE_H - baseline - page.origin.1),
        );
        page.origin = (page.origin.0 + dx, page.origin.1 + dy);
        page.text.push(Op::SetTextCursor {
            pos: Point {
                x: Pt(dx),
                y: Pt(dy),
            },
        });
        page.text.push(Op::ShowText {
            items: vec![TextItem::Text(prepared)],
        });
    }

    /// Draws a one-line text in a box of `width`, aligned, cut with `…` if
    /// it is too long.
    pub(crate) fn text_in(
        &mut self,
        x: f32,
        width: f32,
        baseline: f32,
        style: Style,
        align: Align,
        text: &str,
    ) {
        let fitted = self.truncate(text, width, style);
        let w = self.measure(&fitted, style);
        let x = match align {
            Align::Left => x,
            Align::Right => x + (width - w).max(0.0),
            Align::Center => x + ((width - w) / 2.0).max(0.0),
        };
        self.text(x, baseline, style, &fitted);
    }

    /// The text cut to `width` with a trailing `…` when needed.
    pub(crate) fn truncate(&self, text: &str, width: f32, style: Style) -> String {
        if self.measure(text, style) <= width {
            return text.to_string();
        }
        let ellipsis = self.measure("…", style);
        let mut out = String::new();
        let mut used = 0.0;
        for ch in text.chars() {
            let w = self.measure(ch.encode_utf8(&mut [0; 4]), style);
            if used + w + ellipsis > width {
                break;
            }
            used += w;
            out.push(ch);
        }
        let mut out = out.trim_end().to_string();
        out.push('…');
        out
    }

    /// Splits a text into lines no wider than `width`: at spaces, else
    /// after a hyphen or dash of a word too long for a line, else inside
    /// the word. At most `max_lines`; the last one ends with `…` if text
    /// remains. Explicit `\n` start new lines.
    pub(crate) fn wrap(
        &self,
        text: &str,
        width: f32,
        style: Style,
        max_lines: usize,
    ) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let space = self.measure(" ", style);
        let mut cut = false;
        'paragraphs: for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let pieces = if self.measure(word, style) > width {
                    split_after_dashes(word)
                } else {
                    vec![word]
                };
                for (k, piece) in pieces.into_iter().enumerate() {
                    let piece_w = self.measure(piece, style);
                    let gap = if line.is_empty() || k > 0 { 0.0 } else { space };
                    if line_w + gap + piece_w <= width {
                        if gap > 0.0 {
                            line.push(' ');
                        }
                        line.push_str(piece);
                        line_w += gap + piece_w;
                        continue;
                    }
                    if !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        line_w = 0.0;
                        if lines.len() >= max_lines {
                            cut = true;
                            break 'paragraphs;
                        }
                    }
                    // The piece alone: break it by characters if too wide.
                    for ch in piece.chars() {
                        let w = self.measure(ch.encode_utf8(&mut [0; 4]), style);
                        if line_w + w > width && !line.is_empty() {
                            lines.push(std::mem::take(&mut line));
                            line_w = 0.0;
                            if lines.len() >= max_lines {
                                cut = true;
                                break 'paragraphs;
                            }
                        }
                        line.push(ch);
                        line_w += w;
                    }
                }
            }
            lines.push(line);
            if lines.len() >= max_lines {
                break;
            }
        }
        if !cut {
            // Lines were full: is any text left?
            let shown: usize = lines
                .iter()
                .map(|l| l.chars().filter(|c| *c != ' ').count())
                .sum();
            let total: usize = text.chars().filter(|c| *c != ' ' && *c != '\n').count();
            cut = shown < total;
        }
        if cut && let Some(last) = lines.last_mut() {
            let marked = format!("{last}…");
            *last = self.truncate(&marked, width, style);
            if !last.ends_with('…') {
                last.push('…');
            }
        }
        while lines.len() > 1 && lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines
    }

    /// Draws wrapped lines starting at `top`; returns the height used.
    pub(crate) fn lines_at(
        &mut self,
        x: f32,
        width: f32,
        top: f32,
        style: Style,
        align: Align,
        lines: &[String],
    ) -> f32 {
        let mut baseline = top + style.ascent();
        for line in lines {
            self.text_in(x, width, baseline, style, align, line);
            baseline += style.line_height();
        }
        lines.len() as f32 * style.line_height()
    }

    /// A paragraph across the full width at the cursor, moving it down
    /// (and onto a new page if needed).
    pub(crate) fn paragraph(&mut self, text: &str, style: Style, space_after: f32) {
        let width = self.width();
        let lines = self.wrap(text, width, style, 20);
        let height = lines.len() as f32 * style.line_height();
        self.ensure(height);
        let x = self.margins.left;
        let y = self.y;
        self.lines_at(x, width, y, style, Align::Left, &lines);
        self.y += height + space_after;
    }

    /// A horizontal rule from `x1` to `x2` at `y`.
    pub(crate) fn rule(&mut self, x1: f32, x2: f32, y: f32, thickness: f32, level: f32) {
        self.mix(b"rule");
        self.mix_f(&[x1, x2, y, thickness, level]);
        self.segment((x1, y), (x2, y), thickness, level);
    }

    /// A vertical rule at `x` from `y1` down to `y2`.
    pub(crate) fn vrule(&mut self, x: f32, y1: f32, y2: f32, thickness: f32, level: f32) {
        self.mix(b"vrule");
        self.mix_f(&[x, y1, y2, thickness, level]);
        self.segment((x, y1), (x, y2), thickness, level);
    }

    /// A straight line between two points given from the top of the page.
    fn segment(&mut self, from: (f32, f32), to: (f32, f32), thickness: f32, level: f32) {
        self.page
            .gfx
            .push(Op::SetOutlineThickness { pt: Pt(thickness) });
        self.page.gfx.push(Op::SetOutlineColor { col: grey(level) });
        let point = |(x, y): (f32, f32)| LinePoint {
            p: Point {
                x: Pt(x),
                y: Pt(PAGE_H - y),
            },
            bezier: false,
        };
        self.page.gfx.push(Op::DrawLine {
            line: Line {
                points: vec![point(from), point(to)],
                is_closed: false,
            },
        });
    }

    /// A filled grey rectangle (`level` 0 = black, 1 = white).
    pub(crate) fn fill(&mut self, x: f32, top: f32, width: f32, height: f32, level: f32) {
        self.mix(b"fill");
        self.mix_f(&[x, top, width, height, level]);
        self.page.gfx.push(Op::SetFillColor { col: grey(level) });
        self.page.gfx.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(PAGE_H - top - height),
                width: Pt(width),
                height: Pt(height),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
        self.page.gfx.push(Op::SetFillColor { col: grey(0.0) });
    }

    /// An empty square to tick, `size` points wide, top-left at `(x, top)`.
    pub(crate) fn checkbox(&mut self, x: f32, top: f32, size: f32) {
        self.frame(x, top, size, size, 1.2);
    }

    /// A stroked rectangle.
    pub(crate) fn frame(&mut self, x: f32, top: f32, width: f32, height: f32, thickness: f32) {
        self.mix(b"frame");
        self.mix_f(&[x, top, width, height, thickness]);
        self.page
            .gfx
            .push(Op::SetOutlineThickness { pt: Pt(thickness) });
        self.page.gfx.push(Op::SetOutlineColor { col: grey(0.0) });
        self.page.gfx.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(PAGE_H - top - height),
                width: Pt(width),
                height: Pt(height),
                mode: Some(PaintMode::Stroke),
                winding_order: None,
            },
        });
    }

    /// Closes the last page, adds footers (`title · Page i / n`), and hands
    /// the pages over with the glyphs used (`[regular, bold]`) and a hash of
    /// everything drawn.
    pub(crate) fn finish(mut self) -> (Vec<Page>, [BTreeSet<u16>; 2], u64) {
        self.start();
        let mut last = std::mem::take(&mut self.page);
        last.footer = self.footer.clone();
        self.pages.push(last);
        let drafts = std::mem::take(&mut self.pages);
        let count = drafts.len();
        let style = Style::grey(self.footer_size);
        let baseline = PAGE_H - self.margins.bottom * 0.45 + style.size * 0.3;
        let left = self.margins.left.max(20.0);
        let right_edge = PAGE_W - self.margins.right.max(20.0);
        let mut finished = Vec::with_capacity(count);
        for (i, draft) in drafts.into_iter().enumerate() {
            let footer = draft.footer.clone();
            self.page = draft;
            let number = format!("{} {} / {count}", self.page_word, i + 1);
            let number_w = self.measure(&number, style);
            self.text(right_edge - number_w, baseline, style, &number);
            let room = right_edge - number_w - 12.0 - left;
            self.text_in(left, room, baseline, style, Align::Left, &footer);
            finished.push(Page {
                ops: std::mem::take(&mut self.page).into_ops(),
            });
        }
        (finished, self.used, self.hash)
    }
}

/// A word split after each hyphen, dash or slash (`Jean-` `Baptiste`).
fn split_after_dashes(word: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, ch) in word.char_indices() {
        if matches!(ch, '-' | '–' | '—' | '/') {
            let end = i + ch.len_utf8();
            pieces.push(&word[start..end]);
            start = end;
        }
    }
    if start < word.len() {
        pieces.push(&word[start..]);
    }
    pieces
}

/// One column of a [`Table`].
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// Header text.
    pub title: String,
    /// Width in points.
    pub width: f32,
    /// Alignment of the header and cells.
    pub align: Align,
}

impl Column {
    /// A column.
    pub(crate) fn new(title: &str, width: f32, align: Align) -> Column {
        Column {
            title: title.to_string(),
            width,
            align,
        }
    }
}

/// One cell of a table row.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    /// Text in the row's style (wrapped).
    Text(String),
    /// Text in another style (wrapped).
    Styled(String, Style),
    /// Main text, then a smaller grey second line (a weight, a total).
    TwoLines(String, String),
    /// A box to tick.
    Check,
}

/// A table: columns from the left margin, a grey header row.
pub(crate) struct Table {
    /// The columns.
    pub columns: Vec<Column>,
    /// Style of the cells.
    pub style: Style,
    /// Cell padding.
    pub pad: f32,
    /// At most this many lines per cell.
    pub max_lines: usize,
}

impl Table {
    /// A table with 10-point cells.
    pub(crate) fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            style: Style::regular(10.0),
            pad: 3.5,
            max_lines: 4,
        }
    }

    fn header_style(&self) -> Style {
        Style::bold((self.style.size - 1.0).max(7.0))
    }

    fn header_height(&self) -> f32 {
        self.header_style().line_height() + 2.0 * self.pad
    }

    /// Draws the header row at the cursor.
    pub(crate) fn header(&self, w: &mut Writer) {
        w.start();
        let style = self.header_style();
        let h = self.header_height();
        let total: f32 = self.columns.iter().map(|c| c.width).sum();
        let top = w.y;
        w.fill(w.margins.left, top, total, h, 0.88);
        let mut x = w.margins.left;
        for c in &self.columns {
            w.text_in(
                x + self.pad,
                c.width - 2.0 * self.pad,
                top + self.pad + style.ascent(),
                style,
                c.align,
                &c.title,
            );
            x += c.width;
        }
        w.rule(w.margins.left, w.margins.left + total, top + h, 0.8, 0.0);
        w.y += h;
    }

    /// Starts the table: keeps the header with at least `first_row` points
    /// of content, then draws it.
    pub(crate) fn begin(&self, w: &mut Writer, first_row: f32) {
        w.ensure(self.header_height() + first_row);
        self.header(w);
    }

    fn cell_lines(&self, w: &Writer, cell: &Cell, width: f32) -> Vec<(String, Style)> {
        match cell {
            Cell::Text(t) => w
                .wrap(t, width, self.style, self.max_lines)
                .into_iter()
                .map(|l| (l, self.style))
                .collect(),
            Cell::Styled(t, s) => w
                .wrap(t, width, *s, self.max_lines)
                .into_iter()
                .map(|l| (l, *s))
                .collect(),
            Cell::TwoLines(a, b) => {
                let mut out: Vec<(String, Style)> = w
                    .wrap(a, width, self.style, self.max_lines)
                    .into_iter()
                    .map(|l| (l, self.style))
                    .collect();
                if !b.is_empty() {
                    let small = Style::grey((self.style.size - 1.5).max(7.0));
                    out.extend(w.wrap(b, width, small, 2).into_iter().map(|l| (l, small)));
                }
                out
            }
            Cell::Check => Vec::new(),
        }
    }

    /// The lines of each cell of a row, and the row's height.
    fn layout(&self, w: &Writer, cells: &[Cell]) -> (Vec<Vec<(String, Style)>>, f32) {
        let mut h: f32 = 0.0;
        let mut all = Vec::with_capacity(cells.len());
        for (c, col) in cells.iter().zip(&self.columns) {
            let lines = self.cell_lines(w, c, col.width - 2.0 * self.pad);
            let ch = match c {
                Cell::Check => self.check_size(),
                _ => lines.iter().map(|(_, s)| s.line_height()).sum(),
            };
            h = h.max(ch);
            all.push(lines);
        }
        (all, h + 2.0 * self.pad)
    }

    /// The height a row would take.
    pub(crate) fn row_height(&self, w: &Writer, cells: &[Cell]) -> f32 {
        self.layout(w, cells).1
    }

    fn check_size(&self) -> f32 {
        (self.style.size * 1.2).max(10.0)
    }

    /// Draws a row at the cursor; on a page break, the header is drawn again
    /// first.
    pub(crate) fn row(&self, w: &mut Writer, cells: &[Cell]) {
        let (layout, h) = self.layout(w, cells);
        if w.ensure(h) {
            self.header(w);
        }
        let top = w.y;
        self.draw(w, cells, layout, top);
        let total: f32 = self.columns.iter().map(|c| c.width).sum();
        w.rule(w.margins.left, w.margins.left + total, top + h, 0.4, 0.6);
        w.y += h;
    }

    /// Draws a row's cells with their top at `top`, without the rule under
    /// them or a page break (for a caller that groups rows itself).
    pub(crate) fn cells_at(&self, w: &mut Writer, cells: &[Cell], top: f32) {
        let (layout, _) = self.layout(w, cells);
        self.draw(w, cells, layout, top);
    }

    fn draw(&self, w: &mut Writer, cells: &[Cell], layout: Vec<Vec<(String, Style)>>, top: f32) {
        let mut x = w.margins.left;
        for ((c, col), lines) in cells.iter().zip(&self.columns).zip(layout) {
            let inner = col.width - 2.0 * self.pad;
            match c {
                Cell::Check => {
                    let size = self.check_size();
                    w.checkbox(x + (col.width - size) / 2.0, top + self.pad, size);
                }
                _ => {
                    let mut y = top + self.pad;
                    for (line, style) in lines {
                        w.text_in(
                            x + self.pad,
                            inner,
                            y + style.ascent(),
                            style,
                            col.align,
                            &line,
                        );
                        y += style.line_height();
                    }
                }
            }
            x += col.width;
        }
    }
}

//! PDF output: A4 pages laid out directly with `printpdf` 0.12 operations
//! (no HTML engine), in DejaVu Sans embedded as a per-document subset.
//!
//! Layout: tables with a grey header row repeated after every page break,
//! long text wrapped (or cut with `…` past a few lines), a new page for each
//! producer (picking lists), each slot (distribution sheets) and each
//! producer's labels, and `Page i / n` in every footer.
//!
//! **Deterministic.** printpdf draws its trailer `/ID` and its font ids from
//! a process-wide counter, so two renders in one process would differ. Here
//! the fonts are registered under fixed names (`F1`, `F2`), the document
//! dates are the cycle's closing time (never the clock), and the lopdf
//! document printpdf builds gets a trailer `/ID` computed from a hash of
//! everything drawn before it is compressed and saved. Same value, same
//! bytes.

mod font;
mod layout;
mod money;

pub(crate) use money::{receipt, settlements};

use printpdf::{FontId, PdfConformance, PdfDocument, PdfFont, PdfPage, PdfSaveOptions, PdfWarnMsg};

use self::layout::{
    Align, Cell, Column, FONT_BOLD, FONT_REGULAR, Margins, PAGE_H, PAGE_W, Style, Table, Writer,
};
use crate::PrintError;
use crate::view::{
    BasketView, LABEL_ITEM_LINES, LabelView, LabelsDoc, PickingDoc, RoundDoc, SheetDoc, SheetView,
    colon,
};

/// Fixed facts of a document that are not drawn: its metadata date.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    /// Creation and modification date, as Unix seconds (the cycle's closing
    /// time; never the current time).
    pub(crate) timestamp: i64,
}

/// Margins of ordinary pages: 12 mm at the sides, room for the footer.
const MARGINS: Margins = Margins {
    top: 36.0,
    bottom: 40.0,
    left: 30.0,
    right: 30.0,
};

const H1: Style = Style::bold(18.0);
const H2: Style = Style::bold(13.0);
const META: Style = Style::grey(10.0);

fn pdf_error(e: String) -> PrintError {
    PrintError::Pdf(e)
}

fn writer(margins: Margins, page_word: &str) -> Result<Writer, PrintError> {
    let faces = font::faces().map_err(pdf_error)?;
    Ok(Writer::new(faces, margins, page_word))
}

/// Lays out a section title and its meta lines.
fn title_block(w: &mut Writer, title: &str, lines: &[(&str, Style)]) {
    w.paragraph(title, H1, 4.0);
    for (text, style) in lines {
        if !text.is_empty() {
            w.paragraph(text, *style, 1.5);
        }
    }
    w.y += 8.0;
}

/// A second-level heading, kept with `keep` points of what follows.
fn heading(w: &mut Writer, text: &str, keep: f32) {
    let width = w.width();
    let lines = w.wrap(text, width, H2, 3);
    let h = lines.len() as f32 * H2.line_height();
    w.ensure(6.0 + h + keep);
    w.y += 6.0;
    let (x, y) = (w.margins.left, w.y);
    w.lines_at(x, width, y, H2, Align::Left, &lines);
    w.y += h + 3.0;
}

/// Builds the PDF from the writer's pages.
fn assemble(w: Writer, title: &str, meta: Meta) -> Result<Vec<u8>, PrintError> {
    let faces = font::faces().map_err(pdf_error)?;
    let (pages, used, hash) = w.finish();
    let mut doc = PdfDocument::new(title);
    let date = printpdf::OffsetDateTime::from_unix_timestamp(meta.timestamp)
        .or_else(|_| printpdf::OffsetDateTime::from_unix_timestamp(0))
        .map_err(|e| PrintError::Pdf(e.to_string()))?;
    let second = hash.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
    let id = format!("{hash:016x}{second:016x}");
    let mut id_bytes = hash.to_be_bytes().to_vec();
    id_bytes.extend_from_slice(&second.to_be_bytes());
    {
        let info = &mut doc.metadata.info;
        info.creation_date = date;
        info.modification_date = date;
        info.metadata_date = date;
        info.author = "Halle".to_string();
        info.creator = "Halle".to_string();
        info.producer = "Halle print (printpdf)".to_string();
        info.identifier = id;
        info.conformance = PdfConformance::default();
    }
    let [regular, bold] = used;
    if !regular.is_empty() {
        let font = faces.regular.subset(&regular).map_err(pdf_error)?;
        doc.resources
            .fonts
            .map
            .insert(FontId(FONT_REGULAR.to_string()), PdfFont::new(font));
    }
    if !bold.is_empty() {
        let font = faces.bold.subset(&bold).map_err(pdf_error)?;
        doc.resources
            .fonts
            .map
            .insert(FontId(FONT_BOLD.to_string()), PdfFont::new(font));
    }
    doc.pages = pages
        .into_iter()
        .map(|p| {
            PdfPage::new(
                printpdf::Mm::from(printpdf::Pt(PAGE_W)),
                printpdf::Mm::from(printpdf::Pt(PAGE_H)),
                p.ops,
            )
        })
        .collect();
    let options = PdfSaveOptions {
        optimize: true,
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings: Vec<PdfWarnMsg> = Vec::new();
    let mut lo = doc.to_lopdf_document(&options, &mut warnings);
    // printpdf's /ID comes from a process-wide counter: replace it.
    lo.trailer.set(
        "ID",
        lopdf::Object::Array(vec![
            lopdf::Object::String(id_bytes.clone(), lopdf::StringFormat::Hexadecimal),
            lopdf::Object::String(id_bytes, lopdf::StringFormat::Hexadecimal),
        ]),
    );
    compress(&mut lo)?;
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| PrintError::Pdf(e.to_string()))?;
    Ok(out)
}

/// Deflates every stream that is not yet filtered, like lopdf's
/// `compress`, but with one reused compressor (a new one allocates and
/// clears its tables every time) at the fastest level: lopdf uses the
/// slowest, which made compression cost as much as all the rest of a long
/// picking list, for a file about a fifth smaller.
fn compress(doc: &mut lopdf::Document) -> Result<(), PrintError> {
    use flate2::{Compress, Compression, FlushCompress, Status};
    let mut deflate = Compress::new(Compression::new(COMPRESSION), true);
    for object in doc.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        deflate.reset();
        let input = &stream.content;
        let mut out = Vec::with_capacity(input.len() / 2 + 64);
        loop {
            let read = usize::try_from(deflate.total_in()).unwrap_or(usize::MAX);
            let rest = input.get(read..).unwrap_or_default();
            let status = deflate
                .compress_vec(rest, &mut out, FlushCompress::Finish)
                .map_err(|e| PrintError::Pdf(e.to_string()))?;
            match status {
                Status::StreamEnd => break,
                Status::Ok | Status::BufError => out.reserve(out.capacity().max(1024)),
            }
        }
        if out.len() + 19 < input.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(out);
        }
    }
    Ok(())
}

/// zlib level for streams (0–9): 1, the fastest.
const COMPRESSION: u32 = 1;

/// Picking lists: per producer, the product totals then one table per slot.
pub(crate) fn picking(doc: &PickingDoc, meta: Meta) -> Result<Vec<u8>, PrintError> {
    let t = doc.t;
    let mut w = writer(MARGINS, t.page)?;
    w.footer = doc.title.clone();
    if doc.empty {
        w.start();
        w.paragraph(t.picking_title, H1, 8.0);
        w.paragraph(t.nothing, Style::regular(12.0), 0.0);
    }
    let full = w.width();
    for (i, list) in doc.lists.iter().enumerate() {
        if i > 0 {
            w.new_page();
        }
        w.start();
        w.footer = list.heading.clone();
        w.running = format!("{} ({})", list.heading, t.continued);
        title_block(
            &mut w,
            &list.heading,
            &[
                (&list.subtitle, META),
                (&list.closed, META),
                (&format!("{} · {}", list.value, list.crates), META),
            ],
        );
        let mut columns = vec![
            Column::new(t.done, 34.0, Align::Center),
            Column::new(t.product, 0.0, Align::Left),
            Column::new(t.quantity, 110.0, Align::Right),
        ];
        if list.has_weights {
            columns.push(Column::new(t.estimated_weight, 95.0, Align::Right));
        }
        let fixed: f32 = columns.iter().map(|c| c.width).sum();
        if let Some(c) = columns.get_mut(1) {
            c.width = full - fixed;
        }
        let mut table = Table::new(columns);
        table.style = Style::regular(11.0);
        let row = |item: &crate::view::ItemView, weights: bool| {
            let mut cells = vec![
                Cell::Check,
                Cell::Text(item.product_name.clone()),
                Cell::Styled(item.quantity.clone(), Style::bold(11.0)),
            ];
            if weights {
                cells.push(Cell::Text(item.estimated_kg.clone()));
            }
            cells
        };
        heading(&mut w, t.products, 50.0);
        table.header(&mut w);
        for p in &list.products {
            table.row(&mut w, &row(p, list.has_weights));
        }
        for point in &list.points {
            let mut title = format!("{}{} {}", t.pickup_point, colon_of(t), point.heading);
            if point.cancelled {
                title.push_str(&format!(" — {}", t.cancelled));
            }
            w.running = format!(
                "{} — {} ({})",
                list.producer_name, point.point_name, t.continued
            );
            heading(&mut w, &title, 100.0);
            if !point.address.is_empty() {
                w.paragraph(&point.address, META, 3.0);
            }
            table.header(&mut w);
            for item in &point.items {
                table.row(&mut w, &row(item, list.has_weights));
            }
        }
    }
    assemble(w, &doc.title, meta)
}

fn colon_of(t: &crate::texts::Texts) -> &'static str {
    t.colon
}

/// Label sheets: 2 × 7 labels per A4 page, cut guides in light grey.
pub(crate) fn labels(doc: &LabelsDoc, meta: Meta) -> Result<Vec<u8>, PrintError> {
    const COLS: usize = 2;
    const ROWS: usize = 7;
    let margins = Margins {
        top: 22.68,
        bottom: 22.68,
        left: 0.0,
        right: 0.0,
    };
    let t = doc.t;
    let mut w = writer(margins, t.page)?;
    w.footer_size = 6.5;
    w.footer = doc.title.clone();
    if doc.empty {
        w.start();
        w.y = 60.0;
        let x = 40.0;
        w.text(x, w.y, H1, t.labels_title);
        w.text(x, w.y + 24.0, Style::regular(12.0), t.nothing);
    }
    let label_w = PAGE_W / COLS as f32;
    let label_h = (PAGE_H - margins.top - margins.bottom) / ROWS as f32;
    for page in &doc.pages {
        w.new_page();
        w.footer = format!("{} — {}", t.labels_title, page.producer_name);
        // Cut guides.
        let bottom = margins.top + label_h * ROWS as f32;
        for r in 0..=ROWS {
            let y = margins.top + label_h * r as f32;
            w.rule(0.0, PAGE_W, y, 0.3, 0.8);
        }
        w.vrule(label_w, margins.top, bottom, 0.3, 0.8);
        for (i, label) in page.labels.iter().enumerate() {
            let (col, row) = (i % COLS, i / COLS);
            let x = label_w * col as f32 + 12.0;
            let top = margins.top + label_h * row as f32 + 7.0;
            draw_label(&mut w, label, x, top, label_w - 24.0);
        }
    }
    assemble(w, &doc.title, meta)
}

fn draw_label(w: &mut Writer, label: &LabelView, x: f32, top: f32, width: f32) {
    let name = Style::bold(15.0);
    let point = Style::bold(10.0);
    let when = Style::regular(9.5);
    let small = Style::grey(7.5);
    let item = Style::regular(8.0);
    let step = 9.6;
    let mut y = top + name.ascent();
    w.text_in(x, width, y, name, Align::Left, &label.consumer_name);
    y += 12.5;
    w.text_in(x, width, y, point, Align::Left, &label.point_name);
    y += 11.5;
    w.text_in(x, width, y, when, Align::Left, &label.when);
    y += 9.5;
    w.text_in(x, width, y, small, Align::Left, &label.meta);
    y += 10.0;
    for line in label.items.iter().take(LABEL_ITEM_LINES) {
        w.text_in(x, width, y, item, Align::Left, line);
        y += step;
    }
    if !label.more.is_empty() {
        w.text_in(x, width, y, Style::bold(8.0), Align::Left, &label.more);
    }
}

/// Distribution sheets: per slot, one row group per basket, slot totals,
/// then deliveries by producer.
pub(crate) fn sheets(doc: &SheetDoc, meta: Meta) -> Result<Vec<u8>, PrintError> {
    let t = doc.t;
    let mut w = writer(MARGINS, t.page)?;
    w.footer = doc.title.clone();
    if doc.empty {
        w.start();
        w.paragraph(t.sheet_title, H1, 8.0);
        w.paragraph(t.nothing, Style::regular(12.0), 0.0);
    }
    for (i, sheet) in doc.sheets.iter().enumerate() {
        if i > 0 {
            w.new_page();
        }
        w.start();
        sheet_one(&mut w, doc, sheet);
    }
    assemble(w, &doc.title, meta)
}

/// Column widths of the distribution sheet (535 points between margins).
const SHEET_COLUMNS: [f32; 8] = [112.0, 96.0, 66.0, 54.0, 48.0, 66.0, 40.0, 53.0];

fn sheet_one(w: &mut Writer, doc: &SheetDoc, sheet: &SheetView) {
    let t = doc.t;
    w.footer = format!("{} — {}", sheet.heading, sheet.when);
    w.running = format!("{} — {} ({})", sheet.heading, sheet.when, t.continued);
    let mut title = sheet.heading.clone();
    if sheet.cancelled {
        title.push_str(&format!(" — {}", t.cancelled));
    }
    let place = format!(
        "{}{} {} — {}",
        t.pickup_point, t.colon, sheet.point_name, sheet.address
    );
    title_block(
        w,
        &title,
        &[
            (&sheet.when, Style::bold(12.0)),
            (&place, META),
            (&sheet.subtitle, META),
        ],
    );
    let scale = w.width() / SHEET_COLUMNS.iter().sum::<f32>();
    let widths = SHEET_COLUMNS.map(|c| c * scale);
    let titles = [
        t.consumer,
        t.product,
        t.producer,
        t.quantity,
        t.amount,
        t.payment,
        t.collected,
        t.signature,
    ];
    let aligns = [
        Align::Left,
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Left,
        Align::Center,
        Align::Left,
    ];
    let mut table = Table::new(
        titles
            .iter()
            .zip(widths)
            .zip(aligns)
            .map(|((title, width), align)| Column::new(title, width, align))
            .collect(),
    );
    table.style = Style::regular(9.0);
    table.pad = 3.0;
    table.max_lines = 3;
    if sheet.has_baskets {
        table.begin(w, 50.0);
        for basket in &sheet.baskets {
            basket_group(w, &table, basket, t);
        }
    } else {
        w.paragraph(t.no_basket, Style::regular(12.0), 6.0);
    }

    // Slot totals.
    let c = colon(lang_of(t));
    heading(w, t.slot_totals, 90.0);
    let lines: Vec<(String, Style)> = [
        Some((
            format!(
                "{}{c} {} — {}",
                t.baskets, sheet.totals.baskets, sheet.totals.states
            ),
            Style::regular(11.0),
        )),
        sheet.totals.show_estimated.then(|| {
            (
                format!("{}{c} {}", t.estimated_total, sheet.totals.estimated_total),
                Style::regular(11.0),
            )
        }),
        Some((
            format!("{}{c} {}", t.total, sheet.totals.total),
            Style::bold(12.0),
        )),
        Some((
            format!("{}{c} {}", t.paid, sheet.totals.paid),
            Style::regular(11.0),
        )),
        Some((
            format!("{}{c} {}", t.due, sheet.totals.due),
            Style::bold(12.0),
        )),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (text, style) in &lines {
        w.paragraph(text, *style, 2.0);
    }
    if !sheet.totals.vat.is_empty() {
        w.y += 4.0;
        let vat_table = Table::new(vec![
            Column::new(t.vat_rate, 120.0, Align::Left),
            Column::new(t.net, 110.0, Align::Right),
            Column::new(t.vat, 110.0, Align::Right),
            Column::new(t.gross, 110.0, Align::Right),
        ]);
        vat_table.begin(w, 20.0);
        for v in &sheet.totals.vat {
            vat_table.row(
                w,
                &[
                    Cell::Text(v.rate.clone()),
                    Cell::Text(v.net.clone()),
                    Cell::Text(v.vat.clone()),
                    Cell::Text(v.gross.clone()),
                ],
            );
        }
    }

    // Deliveries by producer, to check crates in.
    heading(w, t.deliveries_by_producer, 60.0);
    let full = w.width();
    let crate_table = Table::new(vec![
        Column::new(t.product, full - 230.0, Align::Left),
        Column::new(t.quantity, 120.0, Align::Right),
        Column::new(t.estimated_weight, 110.0, Align::Right),
    ]);
    for cr in &sheet.crates {
        w.running = format!(
            "{} — {} ({})",
            t.deliveries_by_producer, cr.producer_name, t.continued
        );
        let style = Style::bold(12.0);
        w.ensure(style.line_height() + 50.0);
        w.y += 4.0;
        let (x, y) = (w.margins.left, w.y);
        w.checkbox(x, y, 12.0);
        let label = format!("{} ({})", cr.producer_name, t.received);
        w.text_in(
            x + 18.0,
            full - 18.0,
            y + style.ascent(),
            style,
            Align::Left,
            &label,
        );
        w.y += style.line_height() + 3.0;
        crate_table.header(w);
        for item in &cr.items {
            crate_table.row(
                w,
                &[
                    Cell::Text(item.product_name.clone()),
                    Cell::Text(item.quantity.clone()),
                    Cell::Text(item.estimated_kg.clone()),
                ],
            );
        }
        w.y += 4.0;
    }
}

fn lang_of(t: &crate::texts::Texts) -> crate::Lang {
    if t.lang == "en" {
        crate::Lang::En
    } else {
        crate::Lang::Fr
    }
}

/// One basket: the consumer on the left across all its lines, the lines in
/// the middle, payment, checkbox and signature space on the right. Kept on
/// one page unless it is taller than a page, in which case its lines run
/// on and the consumer is named again.
fn basket_group(w: &mut Writer, table: &Table, basket: &BasketView, t: &crate::texts::Texts) {
    let cols: Vec<f32> = table.columns.iter().map(|c| c.width).collect();
    let pad = table.pad;
    let name = Style::bold(14.0);
    let small = Style::grey(7.5);
    let c = colon_of(t);

    let left_lines = |w: &Writer, suffix: &str| -> Vec<(String, Style)> {
        let inner = cols[0] - 2.0 * pad;
        let mut out: Vec<(String, Style)> = w
            .wrap(&format!("{}{suffix}", basket.consumer_name), inner, name, 4)
            .into_iter()
            .map(|l| (l, name))
            .collect();
        if !basket.phone.is_empty() {
            out.push((basket.phone.clone(), small));
        }
        out.push((basket.order_ref.clone(), small));
        out
    };
    let money_lines = |w: &Writer| -> Vec<(String, Style)> {
        let inner = cols[5] - 2.0 * pad;
        let mut out = vec![
            (format!("{}{c}", t.total), small),
            (basket.total.clone(), Style::bold(10.0)),
            (format!("{}{c}", t.paid), small),
            (basket.paid.clone(), Style::regular(9.0)),
        ];
        for l in w.wrap(&basket.payments, inner, small, 2) {
            if !l.is_empty() {
                out.push((l, small));
            }
        }
        out.push((format!("{}{c}", t.due), small));
        let due_style = if basket.has_due {
            Style::bold(11.0)
        } else {
            Style::regular(9.0)
        };
        out.push((basket.due.clone(), due_style));
        out
    };
    let height_of = |lines: &[(String, Style)]| -> f32 {
        lines.iter().map(|(_, s)| s.line_height()).sum::<f32>() + 2.0 * pad
    };
    let line_cells = |l: &crate::view::SheetLineView| {
        vec![
            Cell::Text(String::new()),
            Cell::Text(l.product.clone()),
            Cell::Text(l.producer.clone()),
            Cell::TwoLines(l.quantity.clone(), l.weight.clone()),
            Cell::Text(l.amount.clone()),
        ]
    };
    let row_heights: Vec<f32> = basket
        .lines
        .iter()
        .map(|l| table.row_height(w, &line_cells(l)))
        .collect();
    let left = left_lines(w, "");
    let right = money_lines(w);
    let min_height = 44.0;
    let total_height = height_of(&left)
        .max(height_of(&right))
        .max(row_heights.iter().sum())
        .max(min_height);

    if w.ensure(total_height) {
        table.header(w);
    }
    let mut start = 0usize;
    let mut first = true;
    while start < basket.lines.len() || first {
        // Rows that fit on this page.
        let left_now = if first {
            left.clone()
        } else {
            left_lines(w, &format!(" ({})", t.continued))
        };
        let room = w.limit() - w.y;
        let mut end = start;
        let mut used = 0.0;
        while end < basket.lines.len() && used + row_heights[end] <= room {
            used += row_heights[end];
            end += 1;
        }
        if end == start && start < basket.lines.len() {
            // Not even one row: next page.
            w.new_page();
            table.header(w);
            continue;
        }
        let block = if end == basket.lines.len() {
            // Last part: room for the left and right columns too.
            let mut h = used
                .max(height_of(&left_now))
                .max(if first { height_of(&right) } else { 0.0 })
                .max(if first { min_height } else { 0.0 });
            if h > room {
                h = room;
            }
            h
        } else {
            used
        };
        let top = w.y;
        // Left column: the consumer.
        let x0 = w.margins.left;
        let mut y = top + pad;
        for (line, style) in &left_now {
            w.text_in(
                x0 + pad,
                cols[0] - 2.0 * pad,
                y + style.ascent(),
                *style,
                Align::Left,
                line,
            );
            y += style.line_height();
        }
        // Middle: the lines.
        let mut row_top = top;
        for (i, line) in basket.lines[start..end].iter().enumerate() {
            let cells = line_cells(line);
            table.cells_at(w, &cells, row_top);
            row_top += row_heights[start + i];
            if start + i + 1 < basket.lines.len() {
                let x1 = x0 + cols[0];
                let x2 = x0 + cols[..5].iter().sum::<f32>();
                w.rule(x1, x2, row_top, 0.3, 0.75);
            }
        }
        if first {
            // Right: payment, checkbox, status, signature space.
            let x5 = x0 + cols[..5].iter().sum::<f32>();
            let mut y = top + pad;
            for (line, style) in &right {
                w.text_in(
                    x5 + pad,
                    cols[5] - 2.0 * pad,
                    y + style.ascent(),
                    *style,
                    Align::Left,
                    line,
                );
                y += style.line_height();
            }
            let x6 = x5 + cols[5];
            let size = 15.0;
            w.checkbox(x6 + (cols[6] - size) / 2.0, top + pad + 1.0, size);
            if basket.check != "☐" {
                let mark = if basket.check == "☑" { "✓" } else { "✗" };
                let style = Style::bold(13.0);
                w.text_in(x6, cols[6], top + pad + 13.5, style, Align::Center, mark);
            }
            w.text_in(
                x6 + 1.0,
                cols[6] - 2.0,
                top + pad + size + 10.0,
                Style::grey(6.0),
                Align::Center,
                &basket.status,
            );
            let x7 = x6 + cols[6];
            w.frame(
                x7 + pad,
                top + pad,
                cols[7] - 2.0 * pad,
                block - 2.0 * pad,
                0.5,
            );
        }
        let right_edge = x0 + cols.iter().sum::<f32>();
        w.rule(x0, right_edge, top + block, 1.0, 0.0);
        w.y = top + block;
        first = false;
        start = end;
        if start < basket.lines.len() {
            w.new_page();
            table.header(w);
        }
    }
}

/// The round: for each vehicle its heading, then one row per stop; then the pickups left out.
pub(crate) fn round(doc: &RoundDoc, meta: Meta) -> Result<Vec<u8>, PrintError> {
    let t = doc.t;
    let mut w = writer(MARGINS, t.page)?;
    w.start();
    w.footer = doc.heading.clone();
    w.running = format!("{} ({})", doc.heading, t.continued);
    title_block(
        &mut w,
        &doc.heading,
        &[(&doc.date, Style::bold(12.0)), (&doc.summary, META)],
    );
    let widths = [20.0, 80.0, 52.0, 98.0, 132.0, 54.0, 74.0, 25.0];
    let scale = w.width() / widths.iter().sum::<f32>();
    let titles = [
        "#", t.time, t.kind, t.place, t.cargo, t.distance, t.load, "",
    ];
    let aligns = [
        Align::Right,
        Align::Left,
        Align::Left,
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Center,
    ];
    let mut table = Table::new(
        titles
            .iter()
            .zip(widths)
            .zip(aligns)
            .map(|((title, width), align)| Column::new(title, width * scale, align))
            .collect(),
    );
    table.style = Style::regular(9.5);
    table.max_lines = 8;
    for vehicle in &doc.vehicles {
        if !vehicle.heading.is_empty() {
            w.running = format!("{} — {} ({})", doc.heading, vehicle.name, t.continued);
            heading(&mut w, &vehicle.heading, 60.0);
            let width = w.width();
            let lines = w.wrap(&vehicle.summary, width, META, 3);
            let h = lines.len() as f32 * META.line_height();
            let (x, y) = (w.margins.left, w.y);
            w.lines_at(x, width, y, META, Align::Left, &lines);
            w.y += h + 3.0;
        }
        round_stops(&mut w, &table, &vehicle.stops);
    }
    if doc.has_unassigned {
        w.running = format!("{} — {} ({})", doc.heading, t.unassigned, t.continued);
        heading(&mut w, t.unassigned, 40.0);
        let full = w.width();
        let table = Table::new(vec![
            Column::new(t.producer, full * 0.3, Align::Left),
            Column::new(t.pickup_point, full * 0.3, Align::Left),
            Column::new(t.reason, full * 0.4, Align::Left),
        ]);
        table.header(&mut w);
        for u in &doc.unassigned {
            table.row(
                &mut w,
                &[
                    Cell::Text(u.producer.clone()),
                    Cell::Text(u.slot.clone()),
                    Cell::Text(u.reason.clone()),
                ],
            );
        }
    }
    assemble(w, &doc.title, meta)
}

/// A vehicle's stops, under the table's header.
fn round_stops(w: &mut Writer, table: &Table, stops: &[crate::view::StopView]) {
    table.begin(w, 30.0);
    for s in stops {
        table.row(
            w,
            &[
                Cell::Styled(s.sequence.clone(), Style::bold(10.0)),
                Cell::Styled(s.time.clone(), Style::bold(10.0)),
                Cell::Text(s.kind.clone()),
                Cell::Styled(s.place.clone(), Style::bold(9.5)),
                Cell::Text(s.actions.join("\n")),
                Cell::TwoLines(s.km_from_previous.clone(), s.km_total.clone()),
                Cell::Text(s.load.clone()),
                Cell::Check,
            ],
        );
    }
}

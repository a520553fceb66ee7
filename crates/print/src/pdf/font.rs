//! DejaVu Sans (regular and bold, from the `dejavu` crate): metrics for
//! laying text out, and a subset of the glyphs a document uses for
//! embedding.
//!
//! printpdf only subsets fonts with its `text_layout` feature, which brings
//! a whole layout engine; without it, it embeds the font file it is given as
//! it is. So each document embeds a font made here with `allsorts` (the
//! parser printpdf itself uses) from exactly the glyphs it draws: a one-page
//! list weighs tens of kilobytes instead of 700 kB per face, and every
//! character DejaVu has (French accents, œ, €, Greek, Cyrillic, ☐ ☑ ☒) still
//! prints. A character DejaVu lacks prints as `?`.
//!
//! The subset tag (`ABCDEF+` in the font name) is derived from the glyph set,
//! not drawn at random, so the output stays reproducible.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile, subset};
use printpdf::ParsedFont;

/// Code points below this get a direct lookup table (Latin, Greek,
/// Cyrillic, punctuation, currency, arrows, ballot boxes).
const TABLE_SIZE: usize = 0x2800;

/// The fallback for characters the font lacks.
const REPLACEMENT: char = '?';

/// One face of the font: its file and what layout needs from it.
pub(crate) struct Face {
    /// Font name without subset tag (`DejaVuSans`).
    name: &'static str,
    /// The TTF file.
    bytes: &'static [u8],
    /// Font units per em.
    units_per_em: f32,
    /// `(glyph id, advance)` for code points below [`TABLE_SIZE`]; glyph 0 = missing.
    table: Vec<(u16, u16)>,
    /// The full parsed font, for code points beyond the table.
    parsed: ParsedFont,
    /// Glyph and advance of [`REPLACEMENT`].
    replacement: (u16, u16),
}

impl Face {
    fn load(name: &'static str, bytes: &'static [u8]) -> Result<Face, String> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings)
            .ok_or_else(|| format!("cannot parse the {name} font"))?;
        let mut table = vec![(0u16, 0u16); TABLE_SIZE];
        for (&cp, &gid) in parsed.codepoint_to_glyph.range(0..TABLE_SIZE as u32) {
            let advance = parsed.get_glyph_width(gid).unwrap_or(0);
            if let Some(slot) = table.get_mut(cp as usize) {
                *slot = (gid, advance);
            }
        }
        let replacement = table
            .get(REPLACEMENT as usize)
            .copied()
            .filter(|(gid, _)| *gid != 0)
            .ok_or_else(|| format!("the {name} font has no question mark"))?;
        Ok(Face {
            name,
            bytes,
            units_per_em: f32::from(parsed.units_per_em.max(1)),
            table,
            parsed,
            replacement,
        })
    }

    /// The glyph and advance of a character, if the font has it.
    fn glyph(&self, ch: char) -> Option<(u16, u16)> {
        let cp = ch as usize;
        if cp < TABLE_SIZE {
            return self.table.get(cp).copied().filter(|(gid, _)| *gid != 0);
        }
        let gid = self.parsed.lookup_glyph_index(ch as u32)?;
        Some((gid, self.parsed.get_glyph_width(gid).unwrap_or(0)))
    }

    /// Whether the face can draw a character.
    #[cfg(test)]
    pub(crate) fn has(&self, ch: char) -> bool {
        self.glyph(ch).is_some()
    }

    /// The width of a text at a size, in points (missing characters count
    /// as the replacement; control characters as nothing).
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .filter(|c| !c.is_control())
            .map(|c| u32::from(self.glyph(c).unwrap_or(self.replacement).1))
            .sum();
        units as f32 * size / self.units_per_em
    }

    /// The text as it will be drawn: control characters (line breaks, tabs)
    /// become spaces, characters the font lacks become `?`; the glyphs used
    /// are added to `used`.
    pub(crate) fn prepare(&self, text: &str, used: &mut BTreeSet<u16>) -> String {
        let mut out = String::with_capacity(text.len());
        for ch in text.chars() {
            let ch = if ch.is_control() { ' ' } else { ch };
            match self.glyph(ch) {
                Some((gid, _)) => {
                    used.insert(gid);
                    out.push(ch);
                }
                None => {
                    used.insert(self.replacement.0);
                    out.push(REPLACEMENT);
                }
            }
        }
        out
    }

    /// A font holding only `used` glyphs (plus `.notdef`), with a cmap for
    /// the characters that map to them, named `TAG+DejaVuSans`.
    pub(crate) fn subset(&self, used: &BTreeSet<u16>) -> Result<ParsedFont, String> {
        let mut glyphs: Vec<u16> = Vec::with_capacity(used.len() + 1);
        glyphs.push(0);
        glyphs.extend(used.iter().copied().filter(|&g| g != 0));
        let data = ReadScope::new(self.bytes)
            .read::<FontData<'_>>()
            .map_err(|e| format!("{}: {e}", self.name))?;
        let provider = data
            .table_provider(0)
            .map_err(|e| format!("{}: {e}", self.name))?;
        let bytes = subset(&provider, &glyphs, &SubsetProfile::Pdf, CmapTarget::Unicode)
            .map_err(|e| format!("subsetting {}: {e}", self.name))?;
        let mut warnings = Vec::new();
        let mut font = ParsedFont::from_bytes(&bytes, 0, &mut warnings)
            .ok_or_else(|| format!("cannot parse the subset of {}", self.name))?;
        font.font_name = Some(format!("{}+{}", subset_tag(&glyphs), self.name));
        Ok(font)
    }
}

/// Six capital letters derived from the glyph list (FNV-1a), as PDF asks of
/// a subset font's name.
fn subset_tag(glyphs: &[u16]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for g in glyphs {
        for b in g.to_be_bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| {
            let letter = ((hash >> (i * 5)) % 26) as u8;
            char::from(b'A' + letter)
        })
        .collect()
}

/// The regular and bold faces.
pub(crate) struct Faces {
    /// DejaVu Sans.
    pub regular: Face,
    /// DejaVu Sans Bold.
    pub bold: Face,
}

static FACES: OnceLock<Result<Faces, String>> = OnceLock::new();

/// The faces, parsed once per process.
pub(crate) fn faces() -> Result<&'static Faces, String> {
    FACES
        .get_or_init(|| {
            Ok(Faces {
                regular: Face::load("DejaVuSans", dejavu::sans::regular())?,
                bold: Face::load("DejaVuSans-Bold", dejavu::sans::bold())?,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dejavu_draws_french_text_money_signs_and_ballot_boxes() {
        let Ok(f) = faces() else {
            panic!("fonts load");
        };
        for ch in "àâçéèêëîïôûùüÿœæÀÇÉÈŒ€☐☑☒≈–—…·→−\u{a0}\u{202f}".chars()
        {
            assert!(f.regular.has(ch), "regular lacks {ch:?}");
            assert!(f.bold.has(ch), "bold lacks {ch:?}");
        }
    }

    #[test]
    fn a_missing_character_prints_as_a_question_mark() {
        let Ok(f) = faces() else {
            panic!("fonts load");
        };
        let mut used = BTreeSet::new();
        assert_eq!(f.regular.prepare("a\u{1F955}b\n", &mut used), "a?b ");
    }

    #[test]
    fn a_subset_keeps_the_characters_it_was_made_for() {
        let Ok(f) = faces() else {
            panic!("fonts load");
        };
        let mut used = BTreeSet::new();
        f.regular.prepare("Reste dû 12,60 € ☐", &mut used);
        let Ok(sub) = f.regular.subset(&used) else {
            panic!("subset");
        };
        for ch in "Reste dû 12,60 € ☐".chars() {
            assert!(sub.lookup_glyph_index(ch as u32).is_some(), "{ch:?}");
        }
        assert!(
            sub.original_bytes.len() < 60_000,
            "{}",
            sub.original_bytes.len()
        );
    }
}

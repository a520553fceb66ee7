//! Product photos sent from a phone: checked, turned upright, scaled down and re-encoded once,
//! then kept in the database (`product_photos`) so that every Halle server can serve them.
//!
//! A phone photo is 3 to 6 MB at 4000 px; the shop shows it at a few hundred pixels. Scaling it
//! down to [`MAX_SIDE`] as a JPEG of about 100 KB at upload keeps every shop page light, and
//! re-encoding means what is served is an image we produced, never the bytes a client sent
//! (no script smuggled in an SVG or a polyglot file). The `image` crate decodes JPEG, PNG and
//! WebP (its other formats are not compiled in), within [`Limits`] so that a small file that
//! claims a huge size cannot exhaust memory.

use chrono::Utc;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, codecs::jpeg::JpegEncoder};
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait, sea_query::OnConflict};
use sha2::{Digest, Sha256};
use std::io::Cursor;

use crate::{
    Actor, ProductView, Store, StoreError,
    catalogue::product_view,
    entities::{product, product_photo},
};

/// The longest side of a stored photo, in pixels.
pub const MAX_SIDE: u32 = 1200;
/// The largest photo file accepted, in bytes (a phone's full-size JPEG fits).
pub const MAX_PHOTO_BYTES: usize = 12 * 1024 * 1024;
/// JPEG quality of the stored photo.
const QUALITY: u8 = 82;

/// A stored photo, ready to serve.
#[derive(Clone, Debug)]
pub struct Photo {
    /// `image/jpeg`.
    pub content_type: String,
    /// Changes whenever the photo does; part of its address, so it can be cached for good.
    pub version: String,
    /// The encoded image.
    pub bytes: Vec<u8>,
}

/// The address a product's uploaded photo is served at.
pub fn photo_path(product_id: i64, version: &str) -> String {
    format!("/photos/{product_id}.jpg?v={version}")
}

fn not_an_image() -> StoreError {
    StoreError::invalid(
        "invalid_photo",
        "the photo must be a JPEG, PNG or WebP image",
    )
}

/// Decodes `bytes` (JPEG, PNG or WebP), turns it upright from its EXIF orientation, scales it
/// to fit [`MAX_SIDE`] and encodes it as JPEG. Blocking: CPU work of some 100 ms for a phone
/// photo; callers run it off the async threads.
pub fn prepare(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), StoreError> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(StoreError::invalid(
            "photo_too_large",
            format!(
                "the photo is larger than {} MB",
                MAX_PHOTO_BYTES / 1024 / 1024
            ),
        ));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| not_an_image())?;
    if reader.format().is_none() {
        return Err(not_an_image());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| not_an_image())?;
    let orientation = decoder.orientation().map_err(|_| not_an_image())?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| not_an_image())?;
    img.apply_orientation(orientation);
    if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
        img = img.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Triangle);
    }
    // JPEG has no transparency: a transparent PNG's background becomes white, not black.
    let rgb = if img.color().has_alpha() {
        let rgba = img.to_rgba8();
        let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
        for (out, px) in rgb.pixels_mut().zip(rgba.pixels()) {
            let a = u16::from(px[3]);
            let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
            *out = image::Rgb([mix(px[0]), mix(px[1]), mix(px[2])]);
        }
        rgb
    } else {
        img.to_rgb8()
    };
    let mut out = Vec::with_capacity(128 * 1024);
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&rgb)
        .map_err(|e| {
            StoreError::invalid(
                "invalid_photo",
                format!("the photo could not be encoded: {e}"),
            )
        })?;
    Ok((out, rgb.width(), rgb.height()))
}

/// A photo ready to store: see [`prepare_photo`].
pub struct PreparedPhoto {
    jpeg: Vec<u8>,
    width: u32,
    height: u32,
}

/// [`prepare`], off the async threads. Call it before saving anything else of the form, so a
/// file that is not an image refuses the whole form and nothing is half-saved.
pub async fn prepare_photo(bytes: Vec<u8>) -> Result<PreparedPhoto, StoreError> {
    let (jpeg, width, height) = tokio::task::spawn_blocking(move || prepare(&bytes))
        .await
        .map_err(|_| StoreError::unavailable("the photo could not be processed", 1))??;
    Ok(PreparedPhoto {
        jpeg,
        width,
        height,
    })
}

impl Store {
    /// Stores a photo ([`prepare_photo`]) as the product's and points the product at it. The
    /// producer's account, or an admin.
    pub async fn upload_product_photo(
        &self,
        actor: &Actor,
        id: i64,
        photo: PreparedPhoto,
    ) -> Result<ProductView, StoreError> {
        let existing = self.own_product(actor, id).await?;
        let PreparedPhoto {
            jpeg,
            width,
            height,
        } = photo;
        let version = hex::encode(&Sha256::digest(&jpeg)[..8]);
        let now = Utc::now();
        let tx = self.db().begin().await?;
        let row = product_photo::ActiveModel {
            product_id: Set(id),
            content_type: Set("image/jpeg".into()),
            width: Set(i32::try_from(width).unwrap_or(i32::MAX)),
            height: Set(i32::try_from(height).unwrap_or(i32::MAX)),
            version: Set(version.clone()),
            bytes: Set(jpeg),
            updated_at: Set(now),
        };
        product_photo::Entity::insert(row)
            .on_conflict(
                OnConflict::column(product_photo::Column::ProductId)
                    .update_columns([
                        product_photo::Column::ContentType,
                        product_photo::Column::Width,
                        product_photo::Column::Height,
                        product_photo::Column::Version,
                        product_photo::Column::Bytes,
                        product_photo::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(&tx)
            .await?;
        let mut m: product::ActiveModel = existing.into();
        m.photo_url = Set(Some(photo_path(id, &version)));
        m.updated_at = Set(now);
        let updated = m.update(&tx).await?;
        tx.commit().await?;
        self.sales.changed();
        product_view(updated)
    }

    /// A product's uploaded photo, to serve; `None` when it has none (or only an address).
    pub async fn product_photo(&self, id: i64) -> Result<Option<Photo>, StoreError> {
        Ok(product_photo::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(|p| Photo {
                content_type: p.content_type,
                version: p.version,
                bytes: p.bytes,
            }))
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_large_photo_is_scaled_to_fit_and_keeps_its_shape() {
        let img = DynamicImage::new_rgb8(3000, 2000);
        let (jpeg, w, h) = prepare(&encode(&img, image::ImageFormat::Jpeg)).unwrap();
        assert_eq!((w, h), (1200, 800));
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (1200, 800));
    }

    #[test]
    fn a_small_png_is_kept_at_its_size_on_white() {
        let img = DynamicImage::new_rgba8(40, 30); // fully transparent
        let (jpeg, w, h) = prepare(&encode(&img, image::ImageFormat::Png)).unwrap();
        assert_eq!((w, h), (40, 30));
        let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        assert!(back.get_pixel(10, 10).0.iter().all(|c| *c > 240));
    }

    #[test]
    fn text_and_truncated_images_are_refused() {
        for bytes in [
            b"name;price\npommes;2,50\n".to_vec(),
            encode(&DynamicImage::new_rgb8(50, 50), image::ImageFormat::Png)[..60].to_vec(),
            Vec::new(),
        ] {
            let err = prepare(&bytes).unwrap_err();
            assert!(
                matches!(
                    err,
                    StoreError::Invalid {
                        code: "invalid_photo",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }
}

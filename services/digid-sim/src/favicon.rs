//! The simulator's icon, for the standalone binary: browsers ask every origin for
//! `/favicon.ico`, and without an answer each page visit logs a 404. (Mounted inside another
//! app, that app's root answers it.) A 16×16 ICO, drawn here from a text grid so that the picture
//! is readable in the source: a white "S" (simulator) on the red of the page's test warning.

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};

/// The icon, one row per string from the top: `#` white, `.` red.
const PICTURE: [&str; 16] = [
    "................",
    "................",
    ".....######.....",
    "....########....",
    "...###....###...",
    "...###..........",
    "...####.........",
    "....#######.....",
    ".....#######....",
    ".........####...",
    "..........###...",
    "...###....###...",
    "....########....",
    ".....######.....",
    "................",
    "................",
];

/// The icon's size in pixels (width and height).
const SIZE: usize = 16;
/// The red, as the blue, green, red and alpha bytes a 32-bit ICO bitmap stores.
const RED: [u8; 4] = [0x00, 0x00, 0xbb, 0xff];
const WHITE: [u8; 4] = [0xff, 0xff, 0xff, 0xff];

/// `GET /favicon.ico`: 200 with the icon (`image/vnd.microsoft.icon`, IANA's name for ICO),
/// cacheable for a day.
pub async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "image/vnd.microsoft.icon"))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(ico())
}

/// The ICO file: its header, one directory entry, and the image as a BMP without file header
/// (a `BITMAPINFOHEADER` of twice the height, for the colour rows and the transparency mask,
/// then 32-bit pixels bottom row first, then the mask, all opaque).
pub(crate) fn ico() -> Vec<u8> {
    const INFO_HEADER: u32 = 40;
    const DIRECTORY_END: u32 = 6 + 16;
    // Mask rows are padded to 4 bytes: 16 pixels are 2 bytes, padded to 4.
    let mask_row = 4;
    let pixels = SIZE * SIZE * 4;
    let image_size = INFO_HEADER as usize + pixels + SIZE * mask_row;
    let mut ico = Vec::with_capacity(DIRECTORY_END as usize + image_size);
    // ICONDIR: reserved, type 1 (icon), one image.
    ico.extend_from_slice(&[0, 0, 1, 0, 1, 0]);
    // ICONDIRENTRY: width, height, no palette, reserved, 1 plane, 32 bits, size, offset.
    ico.extend_from_slice(&[SIZE as u8, SIZE as u8, 0, 0, 1, 0, 32, 0]);
    ico.extend_from_slice(&(image_size as u32).to_le_bytes());
    ico.extend_from_slice(&DIRECTORY_END.to_le_bytes());
    // BITMAPINFOHEADER.
    ico.extend_from_slice(&INFO_HEADER.to_le_bytes());
    ico.extend_from_slice(&(SIZE as i32).to_le_bytes());
    ico.extend_from_slice(&(2 * SIZE as i32).to_le_bytes());
    ico.extend_from_slice(&1_u16.to_le_bytes());
    ico.extend_from_slice(&32_u16.to_le_bytes());
    ico.extend_from_slice(&0_u32.to_le_bytes()); // no compression
    ico.extend_from_slice(&((pixels + SIZE * mask_row) as u32).to_le_bytes());
    ico.extend_from_slice(&[0; 16]); // resolution and palette: unused
    for row in PICTURE.iter().rev() {
        for pixel in row.bytes() {
            ico.extend_from_slice(if pixel == b'#' { &WHITE } else { &RED });
        }
    }
    ico.extend(std::iter::repeat_n(0, SIZE * mask_row));
    ico
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picture_is_a_square() {
        assert!(PICTURE.iter().all(|row| row.len() == SIZE && row.bytes().all(|b| b == b'#' || b == b'.')));
    }

    #[test]
    fn the_icon_is_one_16_pixel_image_whose_sizes_add_up() {
        let ico = ico();
        assert_eq!(&ico[..6], &[0, 0, 1, 0, 1, 0], "an icon file with one image");
        assert_eq!((ico[6], ico[7]), (16, 16));
        let size = u32::from_le_bytes(ico[14..18].try_into().unwrap()) as usize;
        let offset = u32::from_le_bytes(ico[18..22].try_into().unwrap()) as usize;
        assert_eq!(offset, 22);
        assert_eq!(offset + size, ico.len(), "the directory entry covers the image exactly");
        assert_eq!(u32::from_le_bytes(ico[22..26].try_into().unwrap()), 40, "a BITMAPINFOHEADER");
        assert_eq!(i32::from_le_bytes(ico[30..34].try_into().unwrap()), 32, "twice the height: colours and mask");
        // The top-left pixel is the last row's first in the file: red.
        let top_left = offset + 40 + 15 * 16 * 4;
        assert_eq!(&ico[top_left..top_left + 4], &RED);
    }
}

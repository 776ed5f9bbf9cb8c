//! Static files of the dashboard (styles, scripts, vendored libraries, boundary GeoJSON), embedded
//! in the binary so the dashboard works offline and from a single file. Public: they hold no data
//! about establishments or people.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.sh"]
#[exclude = "*.md"]
struct Assets;

/// Assets are served with a revalidation tag (their content hash) so a new release is picked up at
/// once while an unchanged file costs a 304.
pub async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    let Some(file) = Assets::get(&path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag)).insert_header((
        header::CACHE_CONTROL,
        "public, max-age=3600, must-revalidate",
    ));
    if fresh {
        return res.finish();
    }
    let mime = if path.ends_with(".geojson") {
        "application/geo+json".to_string()
    } else {
        file.metadata.mimetype().to_string()
    };
    res.content_type(mime).body(file.data.into_owned())
}

/// True when the embedded assets hold `path` (used by tests and the pages that link them).
pub fn exists(path: &str) -> bool {
    Assets::get(path).is_some()
}

/// The bytes of an embedded asset.
pub fn get(path: &str) -> Option<Vec<u8>> {
    Assets::get(path).map(|f| f.data.into_owned())
}

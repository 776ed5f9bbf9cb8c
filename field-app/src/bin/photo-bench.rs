//! Benchmark of the photo pipeline against libvips' `vipsthumbnail` on the same 12-megapixel
//! JPEGs in the same run (issue 4, item 6). Run through `scripts/bench-photos.sh`.
//!
//! ```text
//! photo-bench [--dir DIR] [--images N] [--runs R] [--vips vipsthumbnail]
//! photo-bench process IN OUT      (one photo, as a process: what the comparison times)
//! ```
//!
//! Both tools are timed the same way: as a process that reads the original from a file and
//! writes the result to a file, so start-up and I/O are on both sides. The in-process time of
//! `photo::process` alone and the time of its decode alternatives are reported too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use doi178_field::photo::{self, sample, PhotoOptions};

fn main() {
    if let Err(e) = run() {
        eprintln!("photo-bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("process") {
        let (input, output) = match (args.get(1), args.get(2)) {
            (Some(i), Some(o)) => (i, o),
            _ => return Err("usage: photo-bench process IN OUT".into()),
        };
        let bytes = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
        let p = photo::process(&bytes, &PhotoOptions::default()).map_err(|e| e.to_string())?;
        std::fs::write(output, &p.jpeg).map_err(|e| format!("{output}: {e}"))?;
        return Ok(());
    }
    let mut dir = std::env::temp_dir().join("doi178-photo-bench");
    let mut images = 3usize;
    let mut runs = 7usize;
    let mut vips = "vipsthumbnail".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--dir" => dir = PathBuf::from(val()?),
            "--images" => images = val()?.parse().map_err(|_| "--images: a number")?,
            "--runs" => runs = val()?.parse().map_err(|_| "--runs: a number")?,
            "--vips" => vips = val()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let vips_version = Command::new(&vips)
        .arg("--version")
        .output()
        .map_err(|e| format!("{vips}: {e} (install libvips-tools)"))?;
    println!(
        "vipsthumbnail: {}",
        String::from_utf8_lossy(&vips_version.stdout).trim()
    );
    println!("images: {images} × 4000×3000 JPEG (quality 92, 4:2:0, EXIF orientation 6), runs: {runs} each");

    let mut ours_all = Vec::new();
    let mut vips_all = Vec::new();
    let mut inproc_all = Vec::new();
    let mut ours_sizes = Vec::new();
    let mut vips_sizes = Vec::new();
    let mut psnrs = Vec::new();
    println!(
        "\n| image | original | ours (process) | vipsthumbnail | ratio | ours in-process | ours size | vips size | PSNR ours | PSNR vips |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for i in 0..images {
        let input = dir.join(format!("photo-{i}.jpg"));
        if !input.exists() {
            std::fs::write(&input, sample::twelve_mp(i as u64 + 1)).map_err(|e| e.to_string())?;
        }
        let original = std::fs::read(&input).map_err(|e| e.to_string())?;
        let ours_out = dir.join(format!("ours-{i}.jpg"));
        let vips_out = dir.join(format!("vips-{i}.jpg"));
        let vips_target = format!("{}[Q=80,strip]", vips_out.display());
        // One warm-up each (page cache, dynamic loading), then alternate the two tools.
        time_cmd(Command::new(&me).arg("process").arg(&input).arg(&ours_out))?;
        time_cmd(&mut vips_cmd(&vips, &input, &vips_target))?;
        let (mut ours, mut theirs, mut inproc) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            ours.push(time_cmd(
                Command::new(&me).arg("process").arg(&input).arg(&ours_out),
            )?);
            theirs.push(time_cmd(&mut vips_cmd(&vips, &input, &vips_target))?);
            let t = Instant::now();
            let p =
                photo::process(&original, &PhotoOptions::default()).map_err(|e| e.to_string())?;
            inproc.push(t.elapsed());
            std::hint::black_box(p);
        }
        let ours_bytes = std::fs::read(&ours_out).map_err(|e| e.to_string())?;
        let vips_bytes = std::fs::read(&vips_out).map_err(|e| e.to_string())?;
        let od = jpeg_size(&ours_bytes)?;
        let vd = jpeg_size(&vips_bytes)?;
        if od != vd {
            println!("note: sizes differ: ours {od:?}, vips {vd:?}");
        }
        let (mo, mv, mi) = (median(&ours), median(&theirs), median(&inproc));
        let reference = reference(&original, od)?;
        let (po, pv) = (
            psnr(&reference, &decode(&ours_bytes)?),
            psnr(&reference, &decode(&vips_bytes)?),
        );
        psnrs.push((po, pv));
        println!(
            "| {i} ({}×{}) | {:.2} MB | {} | {} | {:.2} | {} | {} KB | {} KB | {po:.2} dB | {pv:.2} dB |",
            od.0,
            od.1,
            original.len() as f64 / 1e6,
            ms(mo),
            ms(mv),
            mo.as_secs_f64() / mv.as_secs_f64(),
            ms(mi),
            ours_bytes.len() / 1024,
            vips_bytes.len() / 1024
        );
        ours_all.extend(ours);
        vips_all.extend(theirs);
        inproc_all.extend(inproc);
        ours_sizes.push(ours_bytes.len());
        vips_sizes.push(vips_bytes.len());
    }
    let (mo, mv, mi) = (median(&ours_all), median(&vips_all), median(&inproc_all));
    let (so, sv) = (
        ours_sizes.iter().sum::<usize>() / ours_sizes.len().max(1),
        vips_sizes.iter().sum::<usize>() / vips_sizes.len().max(1),
    );
    let n = psnrs.len().max(1) as f64;
    let (po, pv) = (
        psnrs.iter().map(|p| p.0).sum::<f64>() / n,
        psnrs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    println!(
        "| **all** | | **{}** | **{}** | **{:.2}** | {} | {} KB | {} KB | {po:.2} dB | {pv:.2} dB |",
        ms(mo),
        ms(mv),
        mo.as_secs_f64() / mv.as_secs_f64(),
        ms(mi),
        so / 1024,
        sv / 1024
    );
    println!(
        "\ntime ratio (median, ours ÷ vipsthumbnail): {:.2} (goal ≤ 1.5); size ratio: {:.3} (goal ≤ 1)",
        mo.as_secs_f64() / mv.as_secs_f64(),
        so as f64 / sv as f64
    );
    stages(&dir.join("photo-0.jpg"), runs)?;
    Ok(())
}

fn vips_cmd(vips: &str, input: &Path, target: &str) -> Command {
    let mut c = Command::new(vips);
    c.arg(input)
        .arg("--size")
        .arg("1600x1600")
        .arg("-o")
        .arg(target);
    c
}

fn time_cmd(cmd: &mut Command) -> Result<Duration, String> {
    let t = Instant::now();
    let out = cmd.output().map_err(|e| e.to_string())?;
    let d = t.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(d)
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Decodes a JPEG to packed RGB with jpeg-decoder (full size).
fn decode(bytes: &[u8]) -> Result<Vec<u8>, String> {
    jpeg_decoder::Decoder::new(bytes)
        .decode()
        .map_err(|e| e.to_string())
}

/// What an ideal output looks like: the original decoded at full size, downscaled with
/// Lanczos3 straight from 4000×3000 and turned upright, never JPEG-compressed again. Both
/// outputs are compared with it (PSNR over R, G and B).
fn reference(original: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    use fast_image_resize as fr;
    let info = photo::markers::read_info(original).map_err(|e| format!("{e:?}"))?;
    let rgb = decode(original)?;
    let (sw, sh) = photo::orient::oriented_size(info.orientation, w, h);
    let src = fr::images::Image::from_vec_u8(info.width, info.height, rgb, fr::PixelType::U8x3)
        .map_err(|e| e.to_string())?;
    let mut dst = fr::images::Image::new(sw, sh, fr::PixelType::U8x3);
    fr::Resizer::new()
        .resize(&src, &mut dst, &fr::ResizeOptions::new())
        .map_err(|e| e.to_string())?;
    Ok(photo::orient::apply(info.orientation, dst.into_vec(), sw, sh).0)
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return f64::NAN;
    }
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum();
    let mse = se / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

fn jpeg_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    let info = photo::markers::read_info(bytes).map_err(|e| format!("{e:?}"))?;
    Ok((info.width, info.height))
}

/// Times the decode alternatives on one photo, to show why the pipeline decodes as it does.
fn stages(input: &Path, runs: usize) -> Result<(), String> {
    let bytes = std::fs::read(input).map_err(|e| e.to_string())?;
    let mut rows: Vec<(&str, Duration)> = Vec::new();
    let time = |f: &dyn Fn() -> Result<(), String>| -> Result<Duration, String> {
        let mut v = Vec::new();
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            f()?;
            v.push(t.elapsed());
        }
        Ok(median(&v))
    };
    rows.push((
        "SHA-256 of the original",
        time(&|| {
            std::hint::black_box(photo::Sha256Digest::of(&bytes));
            Ok(())
        })?,
    ));
    for (name, scale) in [
        ("jpeg-decoder, full size (4000×3000)", None),
        (
            "jpeg-decoder, DCT-scaled 1/2 (2000×1500)",
            Some((1600u16, 1200u16)),
        ),
    ] {
        rows.push((
            name,
            time(&|| {
                let mut d = jpeg_decoder::Decoder::new(&bytes[..]);
                d.read_info().map_err(|e| e.to_string())?;
                if let Some((w, h)) = scale {
                    d.scale(w, h).map_err(|e| e.to_string())?;
                }
                std::hint::black_box(d.decode().map_err(|e| e.to_string())?);
                Ok(())
            })?,
        ));
    }
    rows.push((
        "image (zune-jpeg), full size (4000×3000)",
        time(&|| {
            let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
                .map_err(|e| e.to_string())?;
            std::hint::black_box(img);
            Ok(())
        })?,
    ));
    let mut quality_rows = Vec::new();
    for (name, headroom) in [
        (
            "photo::process, dct_headroom 2 (default: 12 MP decoded at full size)",
            2,
        ),
        ("photo::process, dct_headroom 1 (12 MP decoded at 1/2)", 1),
    ] {
        let opts = PhotoOptions {
            dct_headroom: headroom,
            ..PhotoOptions::default()
        };
        let d = time(&|| {
            std::hint::black_box(photo::process(&bytes, &opts).map_err(|e| e.to_string())?);
            Ok(())
        })?;
        let p = photo::process(&bytes, &opts).map_err(|e| e.to_string())?;
        let reference = reference(&bytes, (p.width, p.height))?;
        let q = psnr(&reference, &decode(&p.jpeg)?);
        rows.push((name, d));
        quality_rows.push((name, p.jpeg.len(), q));
    }
    println!("\nStages on photo-0 (median of {runs}, in-process):\n");
    println!("| stage | time |\n|---|---:|");
    for (name, d) in rows {
        println!("| {name} | {} |", ms(d));
    }
    println!("\n| variant | size | PSNR |\n|---|---:|---:|");
    for (name, size, q) in quality_rows {
        println!("| {name} | {} KB | {q:.2} dB |", size / 1024);
    }
    Ok(())
}

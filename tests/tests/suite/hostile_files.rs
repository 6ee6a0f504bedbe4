//! Crafted exports against the file check (issue 41): each file of the corpus is checked by the
//! built binary (`nemo-mcp check`, the very check an export runs) in a child process, and the
//! kernel's own account of that child must stay under 64 MB of peak memory above a check of a
//! file that cannot be read at all (`VmHWM`, which the child reads from its own
//! `/proc/self/status` as it ends: `wait4`'s `ru_maxrss` would include the test process's
//! memory, which a spawn carries over the exec), and under 5 s of CPU (`wait4`).
//!
//! The corpus starts from two real files (nemo-sim's H.264 + FLAC, and ffmpeg's H.264 High +
//! AAC from `crates/nemo-mcp/tests/data/mp4`) and changes what a hostile backend would: sample
//! times and timescales, box floods, sizes past the end, huge counts, one packet read over and
//! over, and the fuzz target's findings.

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// One box: its type, where its body starts and where it ends.
#[derive(Clone, Copy, Debug)]
struct Bx {
    kind: [u8; 4],
    body: usize,
    end: usize,
}

fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(d[at..at + 4].try_into().unwrap())
}

fn put32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// The boxes between `from` and `to` (plain 32-bit sizes, as both source files have).
fn boxes(d: &[u8], from: usize, to: usize) -> Vec<Bx> {
    let mut out = Vec::new();
    let mut at = from;
    while at + 8 <= to {
        let size = be32(d, at) as usize;
        let kind = d[at + 4..at + 8].try_into().unwrap();
        out.push(Bx {
            kind,
            body: at + 8,
            end: at + size,
        });
        at += size;
    }
    out
}

fn child(d: &[u8], parent: Bx, kind: &[u8; 4]) -> Bx {
    *boxes(d, parent.body, parent.end)
        .iter()
        .find(|b| &b.kind == kind)
        .unwrap_or_else(|| panic!("no {}", String::from_utf8_lossy(kind)))
}

/// The `trak` whose handler is `handler` (`vide`, `soun`).
fn trak(d: &[u8], handler: &[u8; 4]) -> Bx {
    let top = boxes(d, 0, d.len());
    let moov = *top.iter().find(|b| &b.kind == b"moov").unwrap();
    *boxes(d, moov.body, moov.end)
        .iter()
        .filter(|b| &b.kind == b"trak")
        .find(|t| {
            let hdlr = child(d, child(d, **t, b"mdia"), b"hdlr");
            &d[hdlr.body + 8..hdlr.body + 12] == handler
        })
        .expect("the track")
}

/// A sample table of the track `handler`.
fn table(d: &[u8], handler: &[u8; 4], kind: &[u8; 4]) -> Bx {
    let mdia = child(d, trak(d, handler), b"mdia");
    let stbl = child(d, child(d, mdia, b"minf"), b"stbl");
    child(d, stbl, kind)
}

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

/// nemo-sim's own render: 3 s of H.264 pictures and a FLAC tone.
/// `base` with one megabyte of `fill` appended and the `handler` track's tables saying it is
/// 500,000 samples of a megabyte each, all in one chunk at that megabyte.
fn one_megabyte_as_many(base: &[u8], handler: &[u8; 4], fill: u8) -> Vec<u8> {
    let mut f = base.to_vec();
    let megabyte = f.len() + 8;
    f.extend(bx(b"free", &vec![fill; 1 << 20]));
    let stsz = table(&f, handler, b"stsz");
    put32(&mut f, stsz.body + 4, 1 << 20);
    put32(&mut f, stsz.body + 8, 500_000);
    let stsc = table(&f, handler, b"stsc");
    put32(&mut f, stsc.body + 4, 1);
    put32(&mut f, stsc.body + 8, 1);
    put32(&mut f, stsc.body + 12, 500_000);
    let stco = table(&f, handler, b"stco");
    put32(&mut f, stco.body + 4, 1);
    put32(&mut f, stco.body + 8, megabyte as u32);
    f
}

fn sim_movie() -> Vec<u8> {
    use nemo_sim::mp4::{encode_movie, Pcm, Planes};
    let shots = [(3_000, Planes::solid(256, 144, [81, 90, 240]))];
    encode_movie(&shots, Some(&Pcm::tone(440.0, 0.2, 3_000)))
}

/// ffmpeg's: 6 s of H.264 High (B-frames) and an AAC tone.
fn ffmpeg_movie() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/nemo-mcp/tests/data/mp4/high-tone.mp4"),
    )
    .unwrap()
}

/// The corpus: (name, bytes).
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for (source, base) in [("sim-flac", sim_movie()), ("ffmpeg-aac", ffmpeg_movie())] {
        let tag = |what: &str| -> &'static str {
            Box::leak(format!("{source}: {what}").into_boxed_str())
        };
        // A sound sample that shows four billion ticks later, every one of them.
        let mut f = base.clone();
        let stts = table(&f, b"soun", b"stts");
        let n = be32(&f, stts.body + 4) as usize;
        for i in 0..n {
            put32(&mut f, stts.body + 8 + i * 8 + 4, 0xFFFF_FFFF);
        }
        out.push((tag("sound stts deltas of 0xFFFFFFFF"), f));
        // A sound clock of one tick a second.
        let mut f = base.clone();
        let mdhd = child(&f, child(&f, trak(&f, b"soun"), b"mdia"), b"mdhd");
        assert_eq!(f[mdhd.body], 0, "version 0 media header");
        put32(&mut f, mdhd.body + 12, 1);
        out.push((tag("sound mdhd timescale 1"), f));
        // Both, and the movie header claiming a hundred years.
        let mut f = out.last().unwrap().1.clone();
        let stts = table(&f, b"soun", b"stts");
        put32(&mut f, stts.body + 8 + 4, 0xFFFF_FFFF);
        let top = boxes(&f, 0, f.len());
        let moov = *top.iter().find(|b| &b.kind == b"moov").unwrap();
        let mvhd = child(&f, moov, b"mvhd");
        put32(&mut f, mvhd.body + 12, 1);
        put32(&mut f, mvhd.body + 16, 0xFFFF_FFFF);
        out.push((tag("timescale 1, deltas 0xFFFFFFFF, mvhd of 136 years"), f));
        // Every sample size past the end of the file.
        for handler in [b"soun", b"vide"] {
            let mut f = base.clone();
            let stsz = table(&f, handler, b"stsz");
            let n = be32(&f, stsz.body + 8) as usize;
            if be32(&f, stsz.body + 4) == 0 {
                for i in 0..n {
                    put32(&mut f, stsz.body + 12 + i * 4, 0x7FFF_FFFF);
                }
            } else {
                put32(&mut f, stsz.body + 4, 0x7FFF_FFFF);
            }
            out.push((
                tag(if handler == b"soun" {
                    "sound sizes past the end"
                } else {
                    "picture sizes past the end"
                }),
                f,
            ));
        }
        // Huge counts: sample sizes, chunk offsets, sync samples, composition runs.
        for (handler, kind, at) in [
            (b"soun", b"stsz", 8),
            (b"vide", b"stsz", 8),
            (b"vide", b"stco", 4),
            (b"vide", b"stsc", 4),
            (b"vide", b"stts", 4),
        ] {
            let mut f = base.clone();
            let t = table(&f, handler, kind);
            put32(&mut f, t.body + at, 0xFFFF_FFFF);
            out.push((
                tag(&format!(
                    "{} {} count 0xFFFFFFFF",
                    String::from_utf8_lossy(handler),
                    String::from_utf8_lossy(kind)
                )),
                f,
            ));
        }
        // One megabyte read as every one of 500,000 sound packets, all at time 0.
        let mut f = one_megabyte_as_many(&base, b"soun", 0x55);
        let stts = table(&f, b"soun", b"stts");
        put32(&mut f, stts.body + 4, 1);
        put32(&mut f, stts.body + 8, 500_000);
        put32(&mut f, stts.body + 12, 0);
        out.push((tag("one megabyte as 500,000 sound packets"), f));
        // The same for pictures: every one of 500,000 pictures is that megabyte, a keyframe.
        let f = one_megabyte_as_many(&base, b"vide", 0x65);
        out.push((tag("one megabyte as 500,000 pictures"), f));
    }
    // The mp4 fuzz target's finding (a82eb4d): composition runs that claim two billion
    // pictures each (ffmpeg's file has B-frames, so a ctts).
    let mut f = ffmpeg_movie();
    let ctts = table(&f, b"vide", b"ctts");
    for i in 0..be32(&f, ctts.body + 4) as usize {
        put32(&mut f, ctts.body + 8 + i * 8, 0x7FFF_FFFF);
    }
    out.push(("fuzz: ctts runs of two billion pictures", f));
    let ftyp = bx(b"ftyp", b"isom\0\0\x02\0isomavc1");
    let mut mvhd = vec![0u8; 12];
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&30_000u32.to_be_bytes());
    mvhd.extend_from_slice(&[0u8; 80]);
    // A moov of empty boxes: 15 MB (read, then refused by the box count) and 64 MB (refused
    // by its size).
    for (name, mb) in [
        ("moov of 15 MB of empty boxes", 15usize),
        ("moov of 64 MB of empty boxes", 64),
    ] {
        let mut body = bx(b"mvhd", &mvhd);
        body.extend(bx(b"free", &[]).repeat((mb << 20) / 8));
        out.push((name, [ftyp.clone(), bx(b"moov", &body)].concat()));
    }
    // Nested floods: a trak whose stbl holds 4,000 empty boxes, 4,000 times over would be
    // 128 MB; one such trak per thousand boxes of moov keeps it to 15 MB of many lists.
    let stbl = bx(
        b"stbl",
        &std::iter::repeat_n(bx(b"free", &[]), 4000)
            .collect::<Vec<_>>()
            .concat(),
    );
    let trak_box = bx(
        b"trak",
        &bx(
            b"mdia",
            &[bx(b"hdlr", &[0u8; 24]), bx(b"minf", &stbl)].concat(),
        ),
    );
    let mut body = bx(b"mvhd", &mvhd);
    body.extend(trak_box.repeat((15 << 20) / (4000 * 8 + 64)));
    out.push((
        "traks of 4,000 empty boxes each",
        [ftyp.clone(), bx(b"moov", &body)].concat(),
    ));
    // A lone black keyframe the sheet looks at closer: 1080p, and 600 pictures of black after
    // it before the next keyframe (the closer look's budget, not the file, bounds it).
    {
        use nemo_sim::mp4::{encode_pictures, Planes};
        let (blue, black) = ([41, 240, 110], [16, 128, 128]);
        out.push((
            "a 1080p black keyframe followed by 600 black pictures",
            encode_pictures(&[
                (10_000, Planes::solid(1920, 1080, blue)),
                (60_000, Planes::solid(1920, 1080, black)),
                (30_000, Planes::solid(1920, 1080, blue)),
            ]),
        ));
    }
    // x264's 4K: OpenH264 would take about 96 MB for one of its keyframes; its parameter set
    // is read first and the pictures not decoded.
    out.push((
        "x264 3840×2160 (OpenH264 would take 96 MB)",
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../crates/nemo-mcp/tests/data/mp4/uhd-4k.mp4"),
        )
        .unwrap(),
    ));
    // A box claiming more than the file holds, at the top and inside moov.
    let mut f = sim_movie();
    put32(&mut f, 0, 0x7FFF_FFFF);
    out.push(("ftyp claims 2 GB", f));
    out
}

/// Peak resident memory (MB) and CPU seconds of `nemo-mcp check <path>`, and what it said.
// Reaped by wait4 below, which reads the child's CPU time as it reaps it.
#[allow(clippy::zombie_processes)]
fn check(path: &Path) -> (f64, f64, String) {
    let child = std::process::Command::new(e2e::binary())
        .arg("check")
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let (mut out, mut err) = (String::new(), String::new());
    use std::io::Read;
    let (mut stdout, mut stderr) = (child.stdout.unwrap(), child.stderr.unwrap());
    let errors = std::thread::spawn(move || {
        stderr.read_to_string(&mut err).unwrap();
        err
    });
    stdout.read_to_string(&mut out).unwrap();
    let err = errors.join().unwrap();
    let peak_kb: f64 = err
        .lines()
        .find_map(|l| l.strip_prefix("nemo-mcp check: peak memory "))
        .and_then(|l| l.strip_suffix(" kB"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory said: {err}"));
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value, which wait4 fills for the child it reaps.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not reaped yet (its Child handle was consumed without a wait).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    assert!(
        libc::WIFEXITED(status),
        "the check exits by itself (status {status}) on {}",
        path.display()
    );
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        peak_kb / 1024.0,
        cpu(usage.ru_utime) + cpu(usage.ru_stime),
        out,
    )
}

#[test]
fn every_crafted_file_is_checked_in_bounded_memory_and_time() {
    let dir = tempfile::tempdir().unwrap();
    // NEMO_KEEP_CORPUS=<folder> keeps the files there, to look at one by hand.
    let kept = std::env::var_os("NEMO_KEEP_CORPUS").map(PathBuf::from);
    let at = kept.as_deref().unwrap_or(dir.path());
    let write = |name: &str, bytes: &[u8]| -> PathBuf {
        let p = at.join(format!("{}.mp4", name.replace([' ', ':', ','], "_")));
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // Idle: a check that reads nothing of the file.
    let (idle, _, said) = check(&write("not-an-mp4", b"this is not a video"));
    assert!(said.contains("could not be read"), "{said}");
    // The whole sources check, and say what they are.
    let (_, _, said) = check(&write("sim", &sim_movie()));
    assert!(
        said.contains("\"duration_s\":3") && said.contains("frames_s"),
        "{said}"
    );
    let mut worst = ("", 0.0f64, 0.0f64);
    for (name, bytes) in corpus() {
        let (peak, cpu, said) = check(&write(name, &bytes));
        assert!(
            said.starts_with('{'),
            "{name}: a report, not a crash: {said:?}"
        );
        println!(
            "| {name} | {:.1} MB above idle | {cpu:.2} s CPU |",
            peak - idle
        );
        assert!(
            peak - idle < 64.0,
            "{name}: {peak:.1} MB, idle {idle:.1} MB"
        );
        assert!(cpu < 5.0, "{name}: {cpu:.2} s of CPU");
        if peak - idle > worst.1 {
            worst = (name, peak - idle, cpu);
        }
    }
    println!(
        "worst: {} {:.1} MB above idle ({:.2} s CPU); idle {idle:.1} MB",
        worst.0, worst.1, worst.2
    );
}

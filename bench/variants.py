"""Variants against one video, one run (docs/benchmarks.md): the wall time of make_video with
3 variants against make_video alone, and the bytes uploaded against the media's bytes.
Same simulator and time scale as the quick-edit benchmark (0.05: a 40 s render takes 2 s).
Usage: python3 bench/variants.py target/release/nemo-mcp target/release/nemo-sim"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import Stdio, mcp_env, product_images, sim_server  # noqa: E402
from host_cost import sim_json  # noqa: E402

MARKER = "<!-- written by bench/variants.py -->"
TIME_SCALE = 0.05
BASE = "combine these images into a 30-second promo video with music and text overlays"
VARIANTS = ["vertical 9:16 for TikTok", "square 1:1", "in Chinese"]


def made(mcp, sim_base, media, images, variants):
    """One make_video followed to its end with get_job: (wall seconds, final body)."""
    home = tempfile.mkdtemp(prefix="nemo-bench-variants-")
    out = os.path.join(home, "out")
    s = Stdio([mcp], mcp_env(home, sim_base, media, out, TIME_SCALE))
    s.init()
    args = {"instruction": BASE, "paths": images}
    if variants:
        args["variants"] = variants
    t = time.monotonic()
    r = s.call("make_video", args)
    body = r["structuredContent"]
    while body.get("status") == "running":
        body = s.call("get_job", {"job_id": body["job_id"], "wait_s": 30})["structuredContent"]
    wall = time.monotonic() - t
    s.close()
    if body.get("status") != "succeeded":
        raise SystemExit(f"make_video did not succeed: {body}")
    return wall, body


def main():
    mcp, sim = sys.argv[1:3]
    work = tempfile.mkdtemp(prefix="nemo-bench-")
    media = os.path.join(work, "media")
    images = product_images(media)
    media_bytes = sum(os.path.getsize(p) for p in images)
    with sim_server(sim, TIME_SCALE) as base:
        one, _ = made(mcp, base, media, images, None)
        seen = len(sim_json(base, "/_sim/log"))
        three, body = made(mcp, base, media, images, VARIANTS)
        log = sim_json(base, "/_sim/log")[seen:]
    uploads = [r for r in log if r["path"].startswith("/api/upload-video/")]
    file_bytes = sum(r.get("body_size") or 0 for r in uploads if r.get("parts"))
    by_url = sum(1 for r in uploads if not r.get("parts"))
    versions = body["result"]["variants"]
    ratio = three / one
    lines = [
        MARKER,
        "## Variants: three versions from one request (`python3 bench/variants.py`)",
        "",
        f"One run, release build, nemo-sim at time scale {TIME_SCALE} (a 40 s render takes 2 s), built-in renderer; "
        f"6 images of 1280×720 ({media_bytes / 1e6:.2f} MB); `make_video` followed with `get_job` to its end.",
        "",
        "| request | wall time | versions made | file uploads | uploads by URL | bytes uploaded (multipart bodies) |",
        "|---|---|---|---|---|---|",
        f"| one video | {one:.2f} s | 1 | 1 | 0 | (not counted) |",
        f"| 3 variants ({', '.join(VARIANTS)}) | {three:.2f} s | {sum(v['status'] == 'made' for v in versions)} "
        f"| {sum(1 for r in uploads if r.get('parts'))} | {by_url} | {file_bytes / 1e6:.2f} MB |",
        "",
        f"- wall time of 3 variants against one video: **{ratio:.2f}×** (goal ≤ 1.5×: {'met' if ratio <= 1.5 else 'not met'}); "
        f"the versions run 3 at a time after the one upload.",
        f"- bytes uploaded: **{file_bytes / 1e6:.2f} MB** for {media_bytes / 1e6:.2f} MB of media "
        f"({file_bytes / media_bytes:.2f}×, the multipart framing included; goal: the media's bytes once: "
        f"{'met' if file_bytes < 2 * media_bytes else 'not met'}); the other two projects got the media by NemoVideo's URLs.",
    ]
    section = "\n".join(lines) + "\n"
    path = os.path.join(work, "section.md")
    with open(path, "w") as f:
        f.write(section)
    subprocess.run([sys.executable, os.path.join(HERE, "section.py"), os.path.join(HERE, "..", "docs", "benchmarks.md"),
                    path, MARKER], check=True)
    print(section)


if __name__ == "__main__":
    main()

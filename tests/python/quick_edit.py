"""The quick edit driven by the official Python MCP SDK against the built nemo-mcp binary,
with nemo-sim as the backend. Run: python quick_edit.py <nemo-mcp binary> <nemo-sim binary>

Checks: the tools listed are the MCPB manifest's; upload_media + generate + export_video (+ get_job polls) leave one MP4;
make_video does the same in one call; a repeated upload sends nothing
in the output folder; progress notifications arrive; a tool error comes back as isError."""

import asyncio
import json
import os
import subprocess
import sys
import tempfile

from common import free_port, png, wait_port
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

# The tools every host is told about before installing (the MCPB manifest): the server must
# list exactly these.
MANIFEST_TOOLS = [t["name"] for t in json.load(open(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "mcp-manifest.json")))["tools"]]

PROMO = "combine these images into a 30-second promo video with music and text overlays"






def field(obj, snake, camel):
    return getattr(obj, snake, None) if hasattr(obj, snake) else getattr(obj, camel, None)


def mp4s(folder):
    """The videos in the output folder (captions are written beside them)."""
    return sorted(f for f in os.listdir(folder) if not f.endswith((".srt", ".vtt", ".frames.jpg")))


def check_captions(files):
    """The captions beside the MP4 (the promo has text overlays, so there are two), read by the
    PyPI parsers `srt` and `webvtt-py` (`.ci/run` installs them): each file parses, with the
    same cues in both."""
    import srt
    import webvtt

    assert len(files) == 2, files
    srt_file = next(f for f in files if f.endswith(".srt"))
    vtt_file = next(f for f in files if f.endswith(".vtt"))
    with open(srt_file, encoding="utf-8") as f:
        subs = list(srt.parse(f.read()))
    cues = webvtt.read(vtt_file)
    assert subs and len(subs) == len(cues), (subs, cues)
    for a, b in zip(subs, cues):
        assert abs(a.start.total_seconds() - b.start_in_seconds) < 0.002, (a, b)
        assert a.end > a.start, a


def check_contact_sheet(result, structured):
    """The export's contact sheet: one JPEG image block of at most 150 KB, decoded from the
    saved file in the server (no ffmpeg needed), and the pictures' times in the structured
    content for hosts that keep only that."""
    import base64

    images = [c for c in result.content if getattr(c, "type", None) == "image"]
    assert len(images) == 1, result.content
    jpeg = base64.b64decode(images[0].data)
    mime = field(images[0], "mime_type", "mimeType")
    assert mime == "image/jpeg" and jpeg[:2] == b"\xff\xd8", mime
    assert len(jpeg) <= 150 * 1024, len(jpeg)
    times = structured.get("frames_s", [])
    assert 1 <= len(times) <= 6 and times == sorted(times), structured


async def main(server_bin, sim_bin, era="2025-11-25", ffmpeg="ffmpeg"):
    no_ffmpeg = ffmpeg == "no-ffmpeg"
    port = free_port()
    sim = subprocess.Popen([sim_bin, "--port", str(port), "--time-scale", "0.02", "--builtin-renderer"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        with tempfile.TemporaryDirectory() as home:
            media, out = os.path.join(home, "media"), os.path.join(home, "out")
            os.makedirs(media)
            os.makedirs(out)
            paths = []
            for i, rgb in enumerate([(200, 60, 60), (60, 160, 90), (50, 100, 210), (230, 190, 40), (140, 60, 170)]):
                p = os.path.join(media, f"product-{i + 1}.png")
                png(p, 64, 48, rgb)
                paths.append(p)
            logo = os.path.join(media, "logo.png")
            png(logo, 32, 32, (20, 20, 20))
            paths.append(logo)
            # "no-ffmpeg": the server's PATH holds no ffmpeg (most users' machines): the contact
            # sheet must come from the in-process decoder all the same.
            server_path = os.environ.get("PATH", "")
            if no_ffmpeg:
                server_path = tempfile.mkdtemp()
            env = {
                "PATH": server_path,
                "HOME": home,
                "NEMO_API_URL": f"http://127.0.0.1:{port}",
                "NEMO_WEB_URL": f"http://127.0.0.1:{port}",
                "NEMO_OUTPUT_DIR": out,
                "NEMO_ALLOWED_DIRS": media,
                "NEMO_RENDER_POLL_MS": "50",
                "NEMO_PROGRESS_INTERVAL_MS": "100",
            }
            params = StdioServerParameters(command=server_bin, args=[], env=env)
            progress = []

            async def on_progress(value, total, message):
                progress.append((value, total, message))

            async with stdio_client(params) as (read, write):
                async with ClientSession(read, write) as session:
                    # Both protocol eras: `initialize` (2025-11-25), or `server/discover`
                    # (2026-07-28, as Claude Code opens a stdio server now).
                    if era == "2026-07-28":
                        found = await session.discover()
                        assert "2026-07-28" in found.supported_versions, found
                    else:
                        init = await session.initialize()
                        assert init.protocol_version == era, init.protocol_version
                    tools = await session.list_tools()
                    names = sorted(t.name for t in tools.tools)
                    assert sorted(names) == sorted(MANIFEST_TOOLS), names

                    last_result = [None]

                    async def call(name, args):
                        r = await session.call_tool(name, args, progress_callback=on_progress)
                        last_result[0] = r
                        body = field(r, "structured_content", "structuredContent")
                        if field(r, "is_error", "isError"):
                            raise AssertionError(f"{name}: {body}")
                        while body["status"] == "running":
                            r = await session.call_tool("get_job", {"job_id": body["job_id"], "wait_s": 20},
                                                        progress_callback=on_progress)
                            last_result[0] = r
                            body = field(r, "structured_content", "structuredContent")
                        return body

                    up = await call("upload_media", {"paths": paths})
                    assert len(up["result"]["uploaded"]) == 6, up
                    gen = await call("generate", {"instruction": PROMO})
                    assert gen["result"]["duration_s"] == 30.0, gen
                    exp = await call("export_video", {})
                    path = exp["result"]["path"]
                    assert os.path.isfile(path) and os.path.dirname(path) == os.path.realpath(out), path
                    with open(path, "rb") as f:
                        assert f.read(8)[4:8] == b"ftyp"
                    assert mp4s(out) == [os.path.basename(path)], os.listdir(out)
                    check_captions(exp["result"].get("captions", []))
                    check_contact_sheet(last_result[0], exp["result"])
                    assert progress, "no progress notifications"
                    # The same quick edit as one call, in a new project: the files are sent again
                    # there (another project), the video is saved as a second MP4.
                    await session.call_tool("connect", {"new_project": True})
                    one = await call("make_video", {"paths": paths, "instruction": PROMO})
                    assert one["status"] == "succeeded", one
                    assert one["result"]["uploaded"] == 6, one
                    assert os.path.isfile(one["result"]["path"]), one
                    assert len(mp4s(out)) == 2, os.listdir(out)
                    # Uploading the same files to that project again sends nothing.
                    again = await call("upload_media", {"paths": paths})
                    assert len(again["result"]["already_present"]) == 6, again
                    bad = await session.call_tool("get_job", {"job_id": "gen_nope"})
                    assert field(bad, "is_error", "isError"), bad
                    print(json.dumps({"python_sdk_quick_edit": "ok", "era": era, "tools": len(names),
                                      "progress_notifications": len(progress), "mp4_bytes": os.path.getsize(path),
                                      "captions": len(exp["result"].get("captions", [])),
                                      "ffmpeg_on_path": not no_ffmpeg,
                                      "contact_sheet_frames": exp["result"].get("frames_s")}))
    finally:
        sim.terminate()
        sim.wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))

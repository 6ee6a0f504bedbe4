"""A wheel whose only content is the nemo-mcp binary as a script, so `uvx nemo-mcp` and
`pip install nemo-mcp` put the binary itself on PATH: what maturin's `bindings = "bin"` makes,
written directly so that every platform's wheel comes from its prebuilt binary (and this
machine can make them all without building for each).
"""

import base64
import hashlib
import re
import zipfile
from pathlib import Path

NAME = "nemo_mcp"
SUMMARY = "An MCP server that makes and edits videos with NemoVideo"


def glibc_floor(binary: Path) -> tuple[int, int] | None:
    """The newest glibc symbol version an ELF binary needs, or None if it is not one."""
    data = binary.read_bytes()
    if not data.startswith(b"\x7fELF"):
        return None
    minors = [int(m) for m in re.findall(rb"GLIBC_2\.(\d+)", data)]
    return (2, max([17, *minors]))


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def make_wheel(binary: Path, version: str, platform_tag: str, exe: str, out_dir: Path,
               readme: str, license_: str, homepage: str) -> Path:
    """Write `nemo_mcp-VERSION-py3-none-PLATFORM.whl` into out_dir and return its path."""
    dist_info = f"{NAME}-{version}.dist-info"
    files: list[tuple[str, bytes, int]] = []
    metadata = (
        "Metadata-Version: 2.1\n"
        f"Name: nemo-mcp\nVersion: {version}\nSummary: {SUMMARY}\n"
        f"Home-page: {homepage}\nLicense: {license_}\n"
        "Requires-Python: >=3.8\n"
        "Description-Content-Type: text/markdown\n\n" + readme
    )
    wheel = (
        "Wheel-Version: 1.0\nGenerator: nemo-mcp packaging/pypi/wheel.py\n"
        f"Root-Is-Purelib: false\nTag: py3-none-{platform_tag}\n"
    )
    files.append((f"{NAME}-{version}.data/scripts/{exe}", binary.read_bytes(), 0o755))
    files.append((f"{dist_info}/METADATA", metadata.encode(), 0o644))
    files.append((f"{dist_info}/WHEEL", wheel.encode(), 0o644))
    record = [_record_line(p, d) for p, d, _ in files] + [f"{dist_info}/RECORD,,"]
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode(), 0o644))
    out = out_dir / f"{NAME}-{version}-py3-none-{platform_tag}.whl"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path, data, mode in files:
            info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out

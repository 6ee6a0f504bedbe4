"""Replace one script's section of docs/benchmarks.md: from its marker to the next
`<!-- written by` marker (or the end), appending it when absent. bench.py rewrites what comes
before the first such marker; each script owns its own section after it.
Usage: python3 bench/section.py DOC SECTION_FILE MARKER"""
import sys

doc, section_file, marker = sys.argv[1:4]
section = open(section_file).read().rstrip("\n") + "\n"
text = open(doc).read()
if marker in text:
    start = text.index(marker)
    nxt = text.find("<!-- written by", start + len(marker))
    rest = text[nxt:] if nxt != -1 else ""
    text = text[:start] + section + ("\n" + rest if rest else "")
else:
    text = text.rstrip("\n") + "\n\n" + section
open(doc, "w").write(text)

#!/usr/bin/env bash
# The seed documents' flow, done with curl exactly as they describe it, against `nemo-sim`:
# token → session → upload a PNG → /run_sse → state (30 s, video/audio/text tracks) → render →
# poll → download an MP4 (checked with ffprobe when installed). Usage: seed_flow.sh <nemo-sim>
set -euo pipefail
SIM_BIN=${1:?path to nemo-sim}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)
"$SIM_BIN" --port "$PORT" --time-scale 0.02 --data-dir "$WORK/sim" 2>/dev/null &
SIM=$!
trap 'kill $SIM 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.05; done
API=http://127.0.0.1:$PORT
ATTR=(-H "X-Skill-Source: video-maker-free-website" -H "X-Skill-Version: 1.0.0" -H "X-Skill-Platform: unknown")
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

TOKEN=$(curl -sf -X POST "$API/api/auth/anonymous-token" -H "X-Client-Id: $(python3 -c 'import uuid; print(uuid.uuid4())')" "${ATTR[@]}" | json 'd["data"]["token"]')
AUTH=(-H "Authorization: Bearer $TOKEN" "${ATTR[@]}")
SID=$(curl -sf -X POST "$API/api/tasks/me/with-session/nemo_agent" "${AUTH[@]}" -H 'Content-Type: application/json' \
  -d '{"task_name":"project","language":"en"}' | json 'd["data"]["session_id"]')
python3 -c "
import struct, zlib
raw = b''.join(b'\0' + bytes((200, 80, 60)) * 64 for _ in range(48))
c = lambda k, d: struct.pack('>I', len(d)) + k + d + struct.pack('>I', zlib.crc32(k + d) & 0xffffffff)
open('$WORK/photo.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + c(b'IHDR', struct.pack('>IIBBBBB', 64, 48, 8, 2, 0, 0, 0)) + c(b'IDAT', zlib.compress(raw)) + c(b'IEND', b''))"
curl -sf -X POST "$API/api/upload-video/nemo_agent/me/$SID" "${AUTH[@]}" -F "files=@$WORK/photo.png" | json 'd["data"]["files"][0]["file_type"]'
curl -sfN -X POST "$API/run_sse" "${AUTH[@]}" -H 'Accept: text/event-stream' -H 'Content-Type: application/json' \
  -d "{\"app_name\":\"nemo_agent\",\"user_id\":\"me\",\"session_id\":\"$SID\",\"new_message\":{\"parts\":[{\"text\":\"combine these images into a 30-second promo video with music and text overlays\"}]}}" >"$WORK/stream.txt"
echo "stream: $(grep -c '^data: ' "$WORK/stream.txt") data frames"
curl -sf "$API/api/state/nemo_agent/me/$SID/latest" "${AUTH[@]}" >"$WORK/state.json"
python3 -c "
import json; s = json.load(open('$WORK/state.json'))['data']['state']['draft']
kinds = [t['tt'] for t in s['t']]
assert s['d'] == 30000 and kinds == [0, 1, 7], (s['d'], kinds)
print('state: 30 s draft with video, audio and text tracks')"
RID="render_$(date +%s%N)"
python3 -c "import json; d=json.load(open('$WORK/state.json'))['data']['state']['draft']; print(json.dumps({'id':'$RID','sessionId':'$SID','draft':d,'output':{'format':'mp4','quality':'high'}}))" >"$WORK/render.json"
curl -sf -X POST "$API/api/render/proxy/lambda" "${AUTH[@]}" -H 'Content-Type: application/json' -d @"$WORK/render.json" >/dev/null
for _ in $(seq 300); do
  ST=$(curl -sf "$API/api/render/proxy/lambda/$RID" "${AUTH[@]}")
  [ "$(echo "$ST" | json 'd["status"]')" = completed ] && break
  sleep 0.1
done
URL=$(echo "$ST" | json 'd["output"]["url"]')
curl -sf -o "$WORK/out.mp4" "$URL"
echo "downloaded $(wc -c <"$WORK/out.mp4") bytes"
if command -v ffprobe >/dev/null; then
  ffprobe -v error -show_entries format=duration:stream=codec_name -of compact=p=0 "$WORK/out.mp4"
fi
echo "seed curl flow: ok"

"""A scripted stand-in for a host's model, on loopback: it speaks the three model APIs real hosts
call (Anthropic Messages, OpenAI Responses, Gemini generateContent), streaming or not, and plays
one user's quick edit: call the tool whose name ends in `make_video`, then follow what the result
tells the model to do next (`get_job` with the job's id) until the job is done.

The script never uses a fixed tool name: it finds the tools among those the host offers, and it
calls `get_job` only because the result it was given says so. Everything the host sent it (the
tools, and each tool result as the model would read it) is appended to a JSON-lines log that the
test reads afterwards.

Run: python model.py <port> <log.jsonl> <instruction> <path>...  (prints nothing on stdout)."""

import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if sys.argv[1:2] != ["--self-test"]:
    PORT, LOG, INSTRUCTION, PATHS = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
else:
    PORT, LOG, INSTRUCTION, PATHS = 0, "/dev/null", "", []
LOCK = threading.Lock()
COUNTER = [0]


def log(entry):
    with LOCK:
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def next_id(prefix):
    with LOCK:
        COUNTER[0] += 1
        return f"{prefix}{COUNTER[0]}"


# ---- the script: one decision from the tools offered and the calls and results so far ----

# `"job_id":"vid_1"` in structured content, `job_id "vid_1"` in a sentence.
JOB_ID = re.compile(r'job_id\\?"?\s*[:=]?\s*\\?"?([A-Za-z0-9_\-]+)')


def decide(api, tools, calls, results, prompt_text):
    """tools: the names offered; calls: [(call_id, name, args)]; results: {call_id: text the
    model got}. Returns ("tool", name, args) or ("text", words)."""
    log({"api": api, "tools": tools, "calls": [c[1] for c in calls]})
    make = next((t for t in tools if t.endswith("make_video")), None)
    if make is None:
        # Hosts that load tool definitions lazily offer a search tool and name the rest in the
        # prompt: ask for make_video's definition by its full name.
        search = next((t for t in tools if "toolsearch" in t.lower().replace("_", "")), None)
        full = re.search(r"(?<![\w-])([\w-]*make_video)\b", prompt_text)
        poll = re.search(r"(?<![\w-])([\w-]*get_job)\b", prompt_text)
        if search and full and not any(c[1] == search for c in calls):
            names = ",".join(m.group(1) for m in (full, poll) if m)
            return ("tool", search, {"query": f"select:{names}", "max_results": 5})
        return ("text", "No make_video tool was offered.")
    mine = [c for c in calls if c[1].endswith(("make_video", "get_job"))]
    if not mine:
        return ("tool", make, {"paths": PATHS, "instruction": INSTRUCTION, "wait_s": 1})
    last_id, last_name, _ = mine[-1]
    seen = results.get(last_id)
    if seen is None:
        return ("text", "The last call has no result.")
    log({"api": api, "result_of": last_name, "model_saw": seen})
    running = re.search(r'"status"\s*:\s*"running"|\bStill running\b', seen)
    if ".mp4" in seen and not running:
        return ("text", "Your video is ready.")
    # Follow the result's own words: the next step must name the tool and the job.
    step = re.search(r"\b(get_job)\b", seen)
    job = JOB_ID.search(seen)
    if not step or not job:
        return ("text", "STUCK: the result did not say what to do next.")
    tool = next((t for t in tools if t.endswith(step.group(1))), None)
    if tool is None:
        return ("text", "STUCK: the named tool is not offered.")
    if len(mine) > 40:
        return ("text", "STUCK: still running after 40 calls.")
    return ("tool", tool, {"job_id": job.group(1), "wait_s": 20})


def strings(value):
    """Every string inside a request body, one per line (prompts, messages, tool results)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(strings(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(strings(v) for v in value.values())
    return ""


def flatten(content):
    """A tool result's content as one text, whatever form the API gives it in."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(flatten(c) for c in content)
    if isinstance(content, dict):
        if content.get("type") == "image":
            source = content.get("source") or {}
            return f"[image {source.get('media_type', '')}: {len(source.get('data', ''))} chars of base64]"
        for key in ("text", "output", "content", "response", "result"):
            if key in content:
                return flatten(content[key])
        return json.dumps(content)
    return json.dumps(content)


# ---- Anthropic Messages ----

def anthropic(body):
    tools = [t.get("name", "") for t in body.get("tools", []) if isinstance(t, dict)]
    calls, results = [], {}
    text = strings(body.get("system", "")) + "\n" + strings(body.get("messages", []))
    for m in body.get("messages", []):
        content = m.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if part.get("type") == "tool_use":
                calls.append((part["id"], part["name"], part.get("input")))
            elif part.get("type") == "tool_result":
                results[part["tool_use_id"]] = flatten(part.get("content", ""))
    if not tools:
        return ("text", "ok")
    return decide("anthropic", tools, calls, results, text)


def anthropic_reply(handler, body, decision):
    mid = next_id("msg_")
    if decision[0] == "tool":
        block = {"type": "tool_use", "id": next_id("toolu_"), "name": decision[1], "input": decision[2]}
        stop = "tool_use"
    else:
        block = {"type": "text", "text": decision[1]}
        stop = "end_turn"
    usage = {"input_tokens": 10, "output_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    message = {"id": mid, "type": "message", "role": "assistant", "model": body.get("model", "scripted"),
               "content": [block], "stop_reason": stop, "stop_sequence": None, "usage": usage}
    if not body.get("stream"):
        return handler.json(message)
    start = dict(message, content=[], stop_reason=None)
    events = [("message_start", {"type": "message_start", "message": start})]
    if block["type"] == "tool_use":
        events.append(("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": dict(block, input={})}))
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {
            "type": "input_json_delta", "partial_json": json.dumps(block["input"])}}))
    else:
        events.append(("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": {"type": "text", "text": ""}}))
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": block["text"]}}))
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                     "usage": {"output_tokens": 10}}))
    events.append(("message_stop", {"type": "message_stop"}))
    handler.sse(events)


# ---- OpenAI Responses ----

def responses(body):
    tools = []
    for t in body.get("tools", []):
        if not isinstance(t, dict):
            continue
        if t.get("type") == "namespace":
            # Codex groups an MCP server's tools in a namespace; a call names both parts.
            tools += [flat_name(t["name"], inner.get("name", "")) for inner in t.get("tools", [])]
        else:
            tools.append(t.get("name") or t.get("function", {}).get("name", ""))
    calls, results = [], {}
    text = strings(body.get("instructions", "")) + "\n" + strings(body.get("input", ""))
    for item in body.get("input", []) if isinstance(body.get("input"), list) else []:
        kind = item.get("type")
        if kind == "function_call":
            try:
                args = json.loads(item.get("arguments") or "{}")
            except ValueError:
                args = {}
            name = flat_name(item["namespace"], item["name"]) if item.get("namespace") else item["name"]
            calls.append((item["call_id"], name, args))
        elif kind == "function_call_output":
            results[item["call_id"]] = flatten(item.get("output", ""))
    if not tools:
        return ("text", "ok")
    return decide("responses", tools, calls, results, text)


def flat_name(namespace, name):
    return f"{namespace.rstrip('_')}__{name.lstrip('_')}"


def responses_reply(handler, body, decision):
    rid = next_id("resp_")
    if decision[0] == "tool":
        item = {"type": "function_call", "id": next_id("fc_"), "call_id": next_id("call_"), "name": decision[1],
                "arguments": json.dumps(decision[2]), "status": "completed"}
        namespaces = [t["name"] for t in body.get("tools", []) if isinstance(t, dict) and t.get("type") == "namespace"]
        for ns in namespaces:
            if decision[1].startswith(ns.rstrip("_") + "__"):
                item["namespace"], item["name"] = ns, decision[1][len(ns.rstrip("_")) + 2:]
    else:
        item = {"type": "message", "id": next_id("msg_"), "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": decision[1], "annotations": []}]}
    usage = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 10,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 20}
    response = {"id": rid, "object": "response", "status": "completed", "model": body.get("model", "scripted"),
                "output": [item], "usage": usage}
    if not body.get("stream"):
        return handler.json(response)
    events = [
        ("response.created", {"type": "response.created", "response": dict(response, status="in_progress", output=[])}),
        ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": item}),
    ]
    if item["type"] == "message":
        events.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": item["id"],
                                                      "output_index": 0, "content_index": 0, "delta": decision[1]}))
    events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}))
    events.append(("response.completed", {"type": "response.completed", "response": response}))
    handler.sse(events)


# ---- Gemini generateContent ----

def gemini(body):
    tools = []
    for group in body.get("tools", []) or []:
        for d in group.get("functionDeclarations", []) or []:
            tools.append(d.get("name", ""))
    calls, results = [], {}
    text = strings(body.get("systemInstruction", "")) + "\n" + strings(body.get("contents", []))
    pending = []
    for turn in body.get("contents", []):
        for part in turn.get("parts", []):
            if "functionCall" in part:
                fc = part["functionCall"]
                cid = fc.get("id") or f"g{len(calls)}"
                calls.append((cid, fc.get("name", ""), fc.get("args")))
                pending.append(cid)
            elif "functionResponse" in part:
                fr = part["functionResponse"]
                cid = fr.get("id") or (pending.pop(0) if pending else "")
                if cid in pending:
                    pending.remove(cid)
                results[cid] = flatten(fr.get("response", ""))
    if not tools:
        schema = (body.get("generationConfig") or {}).get("responseJsonSchema")
        if schema:
            # A host's own side question (Gemini CLI's model router) wants JSON of a schema.
            return ("text", json.dumps(sample(schema)))
        return ("text", "ok")
    return decide("gemini", tools, calls, results, text)


def sample(schema):
    """A small value of a JSON schema (Gemini's upper-case type names too)."""
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        return {k: sample(v) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 50
    if kind == "boolean":
        return False
    return (schema.get("enum") or ["scripted"])[0]


def gemini_reply(handler, stream, decision):
    if decision[0] == "tool":
        part = {"functionCall": {"name": decision[1], "args": decision[2], "id": next_id("gfc_")}}
    else:
        part = {"text": decision[1]}
    chunk = {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
             "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 10, "totalTokenCount": 20},
             "modelVersion": "scripted"}
    if stream:
        handler.sse([(None, chunk)])
    else:
        handler.json(chunk)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def json(self, obj, status=200):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def sse(self, events):
        out = "".join((f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n" for name, data in events)
        data = out.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        log({"unhandled": "GET " + self.path})
        if "/models" in self.path:
            return self.json({"data": [], "models": []})
        self.json({}, 200)

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        path = self.path.split("?")[0]
        log({"request": self.path, "bytes": len(raw)})
        with open(LOG + ".bodies", "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        if path.endswith("/count_tokens"):
            return self.json({"input_tokens": 100})
        if path.endswith("/messages"):
            return anthropic_reply(self, body, anthropic(body))
        if path.endswith("/responses"):
            return responses_reply(self, body, responses(body))
        if ":streamGenerateContent" in path or ":generateContent" in path:
            return gemini_reply(self, ":stream" in path, gemini(body))
        if path.endswith(":countTokens"):
            return self.json({"totalTokens": 100})
        log({"unhandled": "POST " + self.path})
        self.json({"error": {"message": "not scripted"}}, 404)


def self_test():
    """The script stops when a result does not say what to do next, so the test can fail."""
    global LOG
    LOG = "/dev/null"
    tools = ["x__make_video", "x__get_job"]
    calls = [("c1", "x__make_video", {})]
    assert decide("t", tools, [], {}, "")[1] == "x__make_video"
    follow = decide("t", tools, calls, {"c1": '{"status":"running","next_step":"call get_job with job_id \\"vid_1\\""}'}, "")
    assert follow[:2] == ("tool", "x__get_job") and follow[2]["job_id"] == "vid_1", follow
    silent = decide("t", tools, calls, {"c1": '{"status":"running","job_id":"vid_1"}'}, "")
    assert silent[0] == "text" and silent[1].startswith("STUCK"), silent
    done = decide("t", tools, calls, {"c1": '{"status":"succeeded","path":"/o/a.mp4"}'}, "")
    assert done == ("text", "Your video is ready."), done
    print("model.py self-test: ok")


if __name__ == "__main__" and sys.argv[1:2] == ["--self-test"]:
    self_test()
elif __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()

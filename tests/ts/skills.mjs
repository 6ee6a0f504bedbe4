// The skill served over MCP (the Skills extension, SEP-2640), read by the official TypeScript
// client's own Skills client: `skills/list`, then the file itself, its size, digest and
// frontmatter verified against the entry, as a host that loads skills from servers does.
//
// Usage: node skills.mjs <nemo-mcp binary>
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { SkillsClient } from "@modelcontextprotocol/client/ext/skills";

const [serverBin] = process.argv.slice(2);
const home = mkdtempSync(join(tmpdir(), "nemo-skills-"));
const env = { ...process.env, HOME: home, NEMO_API_URL: "http://127.0.0.1:9" };
delete env.NEMO_TOKEN;
const client = new Client({ name: "ts-skills", version: "0" });
await client.connect(new StdioClientTransport({ command: serverBin, args: [], env, stderr: "ignore" }));
const skills = new SkillsClient(client);
if (!skills.supported) throw new Error("the server does not declare the Skills extension");
const { skills: entries } = await skills.list();
if (entries.length !== 1 || entries[0].frontmatter.name !== "nemovideo") {
  throw new Error(`skills/list: ${JSON.stringify(entries)}`);
}
const file = await skills.read(entries[0]);
if (!file.verified) throw new Error("SKILL.md was not verified against its digest");
for (const tool of ["make_video", "get_job", "generate", "export_video"]) {
  if (!file.body.includes(tool)) throw new Error(`the skill does not teach ${tool}`);
}
const again = await skills.get(entries[0].uri);
if (again.skill.uri !== entries[0].uri) throw new Error(`skills/get: ${JSON.stringify(again)}`);
await client.close();
console.log(`Skills extension: 1 skill (${entries[0].uri}), SKILL.md ${file.bytes.length} bytes, digest verified by the official TypeScript client`);

// Rich results through MCP, on both transports: a display() with _repr_png_ arrives as MCP
// image content, the last expression's value as text, and a Python exception as data.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { hostdUrl } from "../support/api.js";
import { httpConn, ok, stdioConn, type McpConn } from "./support.js";

// A 1x1 PNG, as a sandbox's _repr_png_ would return it.
const PNG_1X1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const code = `
import base64
class Dot:
    def _repr_png_(self):
        return base64.b64decode("${PNG_1X1}")
display(Dot())
6 * 7
`;

for (const [transport, connect] of [
  ["stdio", () => stdioConn(hostdUrl())],
  ["http", () => httpConn(hostdUrl())],
] as const) {
  const open: McpConn[] = [];
  after(async () => {
    for (const c of open) await c.end().catch(() => undefined);
  });

  test(`${transport}: run_python answers a displayed PNG as image content and the last value as text`, async () => {
    const c = await connect();
    open.push(c);
    const res = (await c.client.callTool({ name: "run_python", arguments: { code } })) as {
      isError?: boolean;
      content: { type: string; text?: string; data?: string; mimeType?: string }[];
    };
    assert.notEqual(res.isError, true, JSON.stringify(res));
    const image = res.content.find((item) => item.type === "image");
    assert.ok(image, `no image content: ${JSON.stringify(res.content.map((i) => i.type))}`);
    assert.equal(image.mimeType, "image/png");
    const bytes = Buffer.from(image.data!, "base64");
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "not a PNG signature");
    assert.ok(res.content.some((item) => item.type === "text" && item.text === "42"), `no text item "42": ${JSON.stringify(res.content)}`);

    const failed = await ok(c.client, "run_python", { code: "1/0" });
    const error = failed["error"] as { name?: string; value?: string; traceback?: string } | undefined;
    assert.equal(error?.name, "ZeroDivisionError");
    assert.match(String(error?.traceback), /ZeroDivisionError/);
  });
}

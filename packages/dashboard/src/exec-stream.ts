// Reads the NDJSON exec stream as it arrives: one event a line.
import type { ExecEvent } from "@podflare/protocol";

export async function* readEvents(res: Response): AsyncGenerator<ExecEvent> {
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += value;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) yield JSON.parse(line) as ExecEvent;
    }
  }
  if (buf.trim()) yield JSON.parse(buf) as ExecEvent;
}

// Sandbox output on the operator's terminal. Code in a sandbox is hostile: printed as it came,
// `\x1b]52;c;…\x07` writes the operator's clipboard (OSC 52), OSC 8 makes links that lie,
// and DCS/APC/PM/SOS strings and CSI reports reach further on some terminals. When `podflare
// exec` writes to a terminal, only colours and styles (CSI … m) and ordinary whitespace pass;
// any other escape sequence or control character is shown escaped (`\x1b]52;…`), visible and
// inert. Piped output is left as it came (--raw keeps it so on a terminal too).

const ESC = 0x1b;
const SGR = /^\x1b\[[0-9;:]*m/;
// An escape sequence's longest possible prefix we wait for across chunks before showing it.
const HOLD_MAX = 256;

/** A stateful filter: feed it chunks in order, write what it returns. */
export class TerminalSafe {
  private held = "";

  write(chunk: string): string {
    const text = this.held + chunk;
    this.held = "";
    let out = "";
    let i = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === ESC) {
        const rest = text.slice(i);
        const sgr = SGR.exec(rest);
        if (sgr) {
          out += sgr[0];
          i += sgr[0].length;
          continue;
        }
        if (incomplete(rest)) {
          this.held = rest;
          break;
        }
        out += "\\x1b";
        i++;
        continue;
      }
      if (c === 0x0a || c === 0x0d || c === 0x09 || c === 0x08) out += text[i];
      else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) out += `\\x${c.toString(16).padStart(2, "0")}`;
      else out += text[i];
      i++;
    }
    return out;
  }

  /** What is held at the end of the output (an unfinished sequence), escaped. */
  end(): string {
    const rest = this.held;
    this.held = "";
    return rest.replace(/[\x00-\x1f\x7f-\x9f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
  }
}

/** An escape sequence that may still become a colour code, cut at the chunk's end: wait for more. */
function incomplete(rest: string): boolean {
  if (rest.length >= HOLD_MAX) return false;
  if (rest.length === 1) return true;
  if (rest[1] === "[") return /^\x1b\[[0-9;:]*$/.test(rest);
  return false;
}

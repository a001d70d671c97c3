// Turns a byte stream into line events: each event is one line with its newline, so joining the
// events of a stream gives the output byte for byte. A partial line is held briefly for the rest
// of it, then sent as is, so progress output without newlines still streams.
import { StringDecoder } from "node:string_decoder";

const MAX_PARTIAL_CHARS = 64 * 1024;

export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly holdMs = 25,
  ) {}

  push(bytes: Buffer): void {
    let text = this.partial + this.decoder.write(bytes);
    let nl = text.indexOf("\n");
    while (nl !== -1) {
      this.emit(text.slice(0, nl + 1));
      text = text.slice(nl + 1);
      nl = text.indexOf("\n");
    }
    this.partial = text;
    // A line without a newline goes out at this size, so a held partial stays bounded.
    if (this.partial.length >= MAX_PARTIAL_CHARS) this.flushPartial();
    if (this.partial && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flushPartial();
      }, this.holdMs);
    }
  }

  /** Emits a held partial line now (a rich result follows the output before it). */
  flush(): void {
    this.flushPartial();
  }

  /** Emits whatever is held; call before the exit event. */
  end(): void {
    this.partial += this.decoder.end();
    this.flushPartial();
  }

  private flushPartial(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.partial) {
      const line = this.partial;
      this.partial = "";
      this.emit(line);
    }
  }
}

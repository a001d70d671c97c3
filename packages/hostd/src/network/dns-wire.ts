// The little of the DNS wire format (RFC 1035) the forwarder needs: read a query's question,
// build an answer from a static map or an error, and read the A records of an upstream answer.

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_REFUSED = 5;

export interface Question {
  id: number;
  name: string;
  type: number;
  /** Offset just past the question section (where answers start). */
  end: number;
}

/** The first question of a query, or null when the message is not a plain query. */
export function parseQuery(msg: Buffer): Question | null {
  if (msg.length < 12) return null;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || ((flags >> 11) & 0xf) !== 0) return null; // a response, or not QUERY
  if (msg.readUInt16BE(4) !== 1) return null;
  const q = readName(msg, 12);
  if (!q || q.end + 4 > msg.length) return null;
  return { id: msg.readUInt16BE(0), name: q.name, type: msg.readUInt16BE(q.end), end: q.end + 4 };
}

function readName(msg: Buffer, start: number, depth = 0): { name: string; end: number } | null {
  const labels: string[] = [];
  let off = start;
  for (;;) {
    if (off >= msg.length) return null;
    const len = msg[off]!;
    if (len === 0) return { name: labels.join(".").toLowerCase(), end: off + 1 };
    if ((len & 0xc0) === 0xc0) {
      if (depth > 8 || off + 1 >= msg.length) return null;
      const target = ((len & 0x3f) << 8) | msg[off + 1]!;
      const rest = readName(msg, target, depth + 1);
      if (!rest) return null;
      if (rest.name) labels.push(rest.name);
      return { name: labels.join(".").toLowerCase(), end: off + 2 };
    }
    if (len > 63 || off + 1 + len > msg.length) return null;
    labels.push(msg.subarray(off + 1, off + 1 + len).toString("latin1"));
    off += 1 + len;
  }
}

/** An answer to `query` with the given A records (none: an empty NOERROR answer). */
export function answerA(query: Buffer, q: Question, addrs: string[], ttlS: number): Buffer {
  const head = Buffer.from(query.subarray(0, q.end));
  head.writeUInt16BE(0x8180 | (query.readUInt16BE(2) & 0x0100), 2); // QR, RD copied, RA
  head.writeUInt16BE(addrs.length, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  const records = addrs.map((a) => {
    const r = Buffer.alloc(16);
    r.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    r.writeUInt16BE(TYPE_A, 2);
    r.writeUInt16BE(1, 4);
    r.writeUInt32BE(ttlS, 6);
    r.writeUInt16BE(4, 10);
    a.split(".").forEach((p, i) => r.writeUInt8(Number(p), 12 + i));
    return r;
  });
  return Buffer.concat([head, ...records]);
}

export function answerError(query: Buffer, q: Question | null, rcode: number): Buffer {
  const head = Buffer.from(query.subarray(0, q ? q.end : 12));
  head.writeUInt16BE(0x8180 | (query.readUInt16BE(2) & 0x0100) | rcode, 2);
  head.writeUInt16BE(q ? 1 : 0, 4);
  head.writeUInt16BE(0, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  return head;
}

/** A records (address, ttl) in an upstream response's answer section. */
export function answerRecords(msg: Buffer): { addr: string; ttlS: number }[] {
  const q = parseResponseQuestion(msg);
  if (!q) return [];
  const out: { addr: string; ttlS: number }[] = [];
  let off = q.end;
  const count = msg.readUInt16BE(6);
  for (let i = 0; i < count; i++) {
    const n = readName(msg, off);
    if (!n || n.end + 10 > msg.length) break;
    const type = msg.readUInt16BE(n.end);
    const ttl = msg.readUInt32BE(n.end + 4);
    const len = msg.readUInt16BE(n.end + 8);
    const data = n.end + 10;
    if (data + len > msg.length) break;
    if (type === TYPE_A && len === 4) out.push({ addr: [...msg.subarray(data, data + 4)].join("."), ttlS: ttl });
    off = data + len;
  }
  return out;
}

function parseResponseQuestion(msg: Buffer): { end: number } | null {
  if (msg.length < 12 || !(msg.readUInt16BE(2) & 0x8000)) return null;
  let off = 12;
  for (let i = 0; i < msg.readUInt16BE(4); i++) {
    const n = readName(msg, off);
    if (!n) return null;
    off = n.end + 4;
  }
  return off <= msg.length ? { end: off } : null;
}

/** A query for `name` (type A), as a resolver would send it (tests). */
export function buildQuery(id: number, name: string, type = TYPE_A): Buffer {
  const labels = name.split(".").filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "latin1")]));
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  return Buffer.concat([head, ...labels, tail]);
}

// The sandbox's resolv.conf: the DNS forwarder on the gateway, written into a fresh root.
import fs from "node:fs";
import path from "node:path";

/** Writes the sandbox's resolv.conf (the gateway's forwarder) into a root we just made. */
export function writeResolvConf(rootfs: string, uid: number, gateway: string): void {
  const etc = path.join(rootfs, "etc");
  // The root is a fresh copy of a template or a Space, not yet run: still, never follow links.
  if (!fs.lstatSync(etc).isDirectory()) return;
  const file = path.join(etc, "resolv.conf");
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (st && !st.isFile()) return;
  const text = `# written by podflare: the DNS forwarder on the gateway\nnameserver ${gateway}\noptions timeout:2 attempts:2\n`;
  // Already right (hostd writes it into each template at start): a write would cost the
  // fresh btrfs snapshot a copied tree path now and ~10 ms of btrfs-cleaner CPU at its
  // deletion (measured), for nothing.
  if (st && st.uid === uid && st.gid === uid && st.size === Buffer.byteLength(text) && fs.readFileSync(file, "utf8") === text) return;
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o644);
  try {
    fs.writeSync(fd, text);
    fs.fchownSync(fd, uid, uid);
  } finally {
    fs.closeSync(fd);
  }
}

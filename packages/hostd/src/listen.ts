// Binding hostd's ports. A taken port is found before the storage pool, the network and the
// cgroups are set up (checkPortFree at start): found only at the end, it used to leave all three
// behind for `podflare down`, after a minute of template building.
import type http from "node:http";
import net from "node:net";

export interface Address {
  host: string;
  port: number;
}

function inUse(addr: Address, setting: string): Error {
  return new Error(`${addr.host}:${addr.port} is already in use: is another hostd running? Set ${setting} to move`);
}

/** Binds and releases the address: throws the message `listen` would, minutes earlier. */
export function checkPortFree(addr: Address, setting: string): Promise<void> {
  // Port 0 asks for any free port: nothing to check.
  if (addr.port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" ? inUse(addr, setting) : err);
    });
    probe.listen({ host: addr.host, port: addr.port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export function listen(server: http.Server | net.Server, addr: Address, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" ? inUse(addr, setting) : err);
    });
    server.listen(addr.port, addr.host, () => resolve());
  });
}

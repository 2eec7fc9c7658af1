// A TCP pass-through in front of a server, on a port of its own: closing it takes the server "down" for
// whoever connects through it, as an outage or a network partition would (connections refused, open
// ones cut), and opening it listens on the same port. The chaos suite gates its sinks with it; a test
// cuts a worker off from Temporal.
import net from 'node:net';
import { freePort } from '../local-stack/ports.js';

export interface TcpGate {
  port: number;
  readonly isOpen: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpGate(targetPort: number): Promise<TcpGate> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const gate: TcpGate = {
    port,
    get isOpen() {
      return server !== undefined;
    },
    async open() {
      if (server) return;
      const listening = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        track(client);
        track(upstream);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, '127.0.0.1', resolve);
      });
      server = listening;
    },
    async close() {
      if (!server) return;
      const closing = server;
      server = undefined;
      const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  await gate.open();
  return gate;
}

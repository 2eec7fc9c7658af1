// A TCP pass-through in front of a sink, on a port of its own: closing it takes the sink "down" as a
// provider outage would (connections refused, open ones cut), and opening it listens on the same port.
import net from 'node:net';
import { freePort } from '../tools/local-stack/ports.js';

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

import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy of a test's own between services and a server (Redis, the S3 server), to make the faults that leave a
 * process alive but cut off or slow: `cut()` holds every byte in both directions (a partition: connections stay open,
 * nothing arrives, as when a cable is pulled), `delay(ms)` delivers every chunk `ms` late, `heal()` goes back to
 * passing traffic at once (held bytes are then delivered, in order). Only loopback.
 */
export interface TcpProxy {
  port: number;
  url(scheme: string): string;
  cut(): void;
  delay(ms: number): void;
  heal(): void;
  /** Connections opened through the proxy so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: { kind: 'pass' } | { kind: 'cut' } | { kind: 'delay'; ms: number } = { kind: 'pass' };
  const sockets = new Set<Socket>();
  // Chunks held while cut, per direction, delivered in order on heal.
  const held: Array<() => void> = [];
  let opened = 0;

  const forward = (from: Socket, to: Socket): void => {
    // One queue per direction keeps chunks in order whatever the mode does to each.
    let chain = Promise.resolve();
    from.on('data', (chunk) => {
      const m = mode;
      // A latency, not a queue of waits: each chunk is due `ms` after it arrived (in order), so a request cut into
      // many chunks (more of them on a loaded machine) still arrives `ms` late rather than `ms` per chunk late.
      const due = Date.now() + (m.kind === 'delay' ? m.ms : 0);
      chain = chain.then(
        () =>
          new Promise<void>((resolve) => {
            const send = () => {
              if (!to.destroyed) to.write(chunk);
              resolve();
            };
            if (m.kind === 'pass' && mode.kind === 'pass') send();
            else if (mode.kind === 'cut') held.push(send);
            else if (m.kind === 'delay') setTimeout(send, Math.max(0, due - Date.now()));
            else send();
          }),
      );
    });
    from.on('end', () => void chain.then(() => to.end()));
    from.on('error', () => to.destroy());
    from.on('close', () => void chain.then(() => to.destroy()));
  };

  const server: Server = createServer((client) => {
    opened += 1;
    const upstream = connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    cut: () => {
      mode = { kind: 'cut' };
    },
    delay: (ms) => {
      mode = { kind: 'delay', ms };
    },
    heal: () => {
      mode = { kind: 'pass' };
      for (const send of held.splice(0)) send();
    },
    connections: () => opened,
    close: async () => {
      mode = { kind: 'pass' };
      held.splice(0);
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError } from './errors.js';

/** A route's answer. */
export interface OpsResponse {
  status: number;
  body: unknown;
}

/** Options for {@link startOpsServer}. */
export interface OpsServerOptions {
  /** Port; 0 picks a free one. */
  port: number;
  /** Default `0.0.0.0` (probes and Prometheus come from outside the pod). */
  host?: string;
  /** Prometheus registry served at `/metrics`. */
  registry: Registry;
  /** Liveness: the process is not wedged. Default: always ok while the event loop answers. */
  live?: () => boolean;
  /**
   * Readiness: the process can take work (connected to Redis and the bucket, not shutting down). Return `true`, or
   * the reasons it is not ready (`["bucket unreachable since …: …"]`); `/readyz` shows them.
   */
  ready: () => boolean | string[] | Promise<boolean | string[]>;
  /** Extra JSON routes, e.g. `/backlog`. */
  routes?: Record<string, () => Promise<OpsResponse> | OpsResponse>;
}

/** A running ops server. */
export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The small HTTP server every sweepq process exposes for operators: `/metrics` (Prometheus),
 * `/healthz` (liveness), `/readyz` (readiness) and service-specific JSON routes. Hand-written on
 * node:http because it serves four fixed GET routes; a web framework would add nothing but weight.
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const handle = async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, JSON.stringify({ error: 'method not allowed' }));
      if (path === '/metrics') return send(200, await opts.registry.metrics(), opts.registry.contentType);
      if (path === '/healthz') {
        const ok = opts.live ? opts.live() : true;
        return send(ok ? 200 : 503, JSON.stringify({ ok }));
      }
      if (path === '/readyz') {
        const r = await opts.ready();
        const reasons = Array.isArray(r) ? r : r ? [] : ['not ready'];
        const ok = reasons.length === 0;
        return send(ok ? 200 : 503, JSON.stringify(ok ? { ok } : { ok, reasons }));
      }
      const route = opts.routes?.[path];
      if (route) {
        const r = await route();
        return send(r.status, JSON.stringify(r.body));
      }
      return send(404, JSON.stringify({ error: `no route ${path}; try /metrics, /healthz, /readyz` }));
    };
    handle().catch((err: unknown) => send(500, JSON.stringify({ error: (err as Error).message })));
  });
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // The default port is the same for the coordinator and every worker: a second one on the same machine lands here.
      if (err.code !== 'EADDRINUSE') return reject(err);
      reject(
        new ConfigError([
          `METRICS_PORT: port ${opts.port} on ${host} is already in use (another sweepq coordinator or worker on this machine?); ` +
            'set METRICS_PORT to a free port, 0 for any free one, or -1 to turn the ops server off',
        ]),
      );
    });
    server.listen(opts.port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

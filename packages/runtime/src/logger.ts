import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';

/** The logger every package accepts: a pino logger (or a child of one). */
export type Logger = PinoLogger;

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Service name put on every line. */
  name: string;
  /** pino level; default `info`. */
  level?: string;
  /** Pretty, human-oriented output (only meant for a terminal); default false (JSON lines). */
  pretty?: boolean;
  /** Extra pino options. */
  options?: LoggerOptions;
}

/** Keys whose values never reach a log line. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'secretAccessKey',
  '*.secretAccessKey',
  'accessKeyId',
  '*.accessKeyId',
  'credentials',
  '*.credentials',
  'redisUrl',
  '*.redisUrl',
  'authorization',
  '*.authorization',
];

/** Build a pino logger: JSON lines by default, pretty output when asked for a terminal. */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const base: LoggerOptions = {
    name: opts.name,
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...opts.options,
  };
  if (opts.pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } },
    });
  }
  return pino(base);
}

/** A logger that drops everything; the default for packages called without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

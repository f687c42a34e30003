import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Environment variables every sweepq process understands (Redis, bucket, logging). Services extend
 * this with their own keys in their `env.ts`. S3 credentials come from the AWS SDK's standard chain
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE / web identity) and are never logged.
 */
export const commonEnvShape = {
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')
    .default('redis://127.0.0.1:6379'),
  /** Optional: Redis password kept out of REDIS_URL (REDIS_PASSWORD_FILE for a mounted secret). */
  REDIS_PASSWORD: z.string().optional(),
  SWEEPQ_QUEUE_PREFIX: z.string().min(1).max(64).default('{sweepq}'),
  S3_ENDPOINT: z.string().url('expected a URL such as http://127.0.0.1:9000').optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 of a-z, 0-9, ".", "-")')
    .default('sweepq'),
  S3_PREFIX: z.string().max(200).default(''),
  S3_REGION: z.string().optional(),
  AWS_REGION: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool.optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AWS_SESSION_TOKEN: z.string().optional(),
  /**
   * How long a transient bucket failure (5xx, timeout, connection refused) is retried before the operation fails,
   * in seconds. Services wait out an outage this long without spending a trial's attempts.
   */
  S3_RETRY_FOR_SEC: z.coerce.number().int().min(0).max(86_400).default(600),
  /** Port of the ops server (/metrics, /healthz, /readyz); 0 = any free port; -1 = off. */
  METRICS_PORT: z.coerce.number().int().min(-1).max(65535).default(9464),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.optional(),
} as const;

export const commonEnvSchema = z.object(commonEnvShape);


export type CommonEnv = z.infer<typeof commonEnvSchema>;

/** Bucket settings derived from the common environment, in the shape `createArtifactStore` takes. */
export interface StoreSettings {
  endpoint?: string;
  bucket: string;
  prefix: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  retry: { forMs: number };
}

/**
 * Bucket settings from a parsed environment. Explicit AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY win;
 * without them the AWS SDK's default chain (profiles, web identity, instance roles) applies.
 */
export function storeSettings(env: CommonEnv): StoreSettings {
  const out: StoreSettings = {
    bucket: env.S3_BUCKET,
    prefix: env.S3_PREFIX,
    region: env.S3_REGION ?? env.AWS_REGION,
    retry: { forMs: env.S3_RETRY_FOR_SEC * 1000 },
  };
  if (env.S3_ENDPOINT) out.endpoint = env.S3_ENDPOINT;
  if (env.S3_FORCE_PATH_STYLE !== undefined) out.forcePathStyle = env.S3_FORCE_PATH_STYLE;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    out.credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  return out;
}

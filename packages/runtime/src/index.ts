export { createLogger, silentLogger, REDACT_PATHS, type Logger, type CreateLoggerOptions } from './logger.js';
export { SweepqError, ConfigError, coerceError } from './errors.js';
export { ShutdownManager, type ShutdownStep, type ShutdownManagerOptions } from './shutdown-manager.js';
export { parseEnv } from './env.js';
export { commonEnvShape, commonEnvSchema, storeSettings, type CommonEnv, type StoreSettings } from './common-env.js';

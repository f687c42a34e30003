export { createLogger, silentLogger, REDACT_PATHS, type Logger, type CreateLoggerOptions } from './logger.js';
export { SweepqError, ConfigError, coerceError } from './errors.js';
export { ShutdownManager, type ShutdownStep, type ShutdownManagerOptions } from './shutdown-manager.js';
export { parseEnv, resolveSecretFiles, SECRET_FILE_VARIABLES } from './env.js';
export { commonEnvShape, commonEnvSchema, storeSettings, type CommonEnv, type StoreSettings } from './common-env.js';
export { startOpsServer, type OpsServer, type OpsServerOptions, type OpsResponse } from './ops-server.js';
export { readinessReasons, type ReadinessInputs } from './readiness.js';

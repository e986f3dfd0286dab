/**
 * Settings for the official SDK (`@camunda8/orchestration-cluster-api`) wherever this
 * project runs it (tests, benchmarks): pass them as `config` together with `env: {}`.
 */

/**
 * Talk to `url` without authentication, and read nothing from the environment (so no
 * OAuth endpoint), log nothing, write no support log file. Spread further settings after it.
 */
export const quietSdkConfig = (url: string) => ({
  CAMUNDA_REST_ADDRESS: url,
  CAMUNDA_AUTH_STRATEGY: "NONE",
  CAMUNDA_SDK_LOG_LEVEL: "silent",
  CAMUNDA_SDK_TELEMETRY_LOG: false,
  CAMUNDA_SUPPORT_LOG_ENABLED: false
} as const)

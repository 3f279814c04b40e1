/** One logger, one metrics and one tracer for every handler; the service name comes from the environment. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'dossier';

export const logger = new Logger({ serviceName });

// With metrics disabled (local runs, where several handlers share one process and one Metrics instance),
// Powertools still warns about empty flushes; those warnings mean nothing there.
const metricsDisabled = process.env.POWERTOOLS_METRICS_DISABLED === 'true';
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Dossier',
  ...(metricsDisabled ? { logger: logger.createChild({ logLevel: 'ERROR' }) } : {}),
});

export const tracer = new Tracer({ serviceName });

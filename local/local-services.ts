/**
 * Everything `npm run serve` starts, as a library the tests share: the local runtime, a token issuer, each agent's
 * function URL (from the template's AWS::Lambda::Url resources, running the function's own handler file), the
 * REST routes, and the EventBridge rule that tells the coordinator's events handler when an execution ends.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ALL_SCOPES } from '../lambdas/core/scopes';
import { PROJECT_ROOT } from '../lib/agent-function';
import { startFunctionUrlServer, type FunctionUrlServer } from './function-url-server';
import { startLocalIssuer, type LocalIssuer } from './identity-issuer';
import { startRestApiServer } from './rest-api-server';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from './runtime';
import { lambdaContext } from './task-handlers';
import { localFunctions, resourcesOfType, synthesizeTemplate, type CfnTemplate } from './template';

/** The audience of locally issued tokens; deployed, it is the Cognito app client's id. */
export const LOCAL_AUDIENCE = 'dossier-local';

export interface LocalAgentEndpoint {
  /** The function's logical id in the template. */
  function: string;
  url: string;
  cardUrl: string;
  streaming: boolean;
}

export interface LocalServices {
  runtime: LocalRuntime;
  issuer: LocalIssuer;
  agents: LocalAgentEndpoint[];
  /** The REST API's base URL, and its routes as the template declares them ("POST /research/batch"…). */
  restUrl: string;
  restRoutes: string[];
  stop(): Promise<void>;
}

/** Function URLs declared in the template, with the handler file of the function each one fronts. */
export function functionUrls(template: CfnTemplate) {
  const functions = localFunctions(template);
  return resourcesOfType(template, 'AWS::Lambda::Url').map(([, url]) => {
    const target = url.Properties.TargetFunctionArn;
    const logicalId: string = target['Fn::GetAtt']?.[0] ?? target.Ref;
    const fn = functions.find((f) => f.logicalId === logicalId);
    if (!fn) throw new Error(`template: function URL for unknown function ${logicalId}`);
    const timeoutSeconds: number = template.Resources[logicalId]!.Properties?.Timeout ?? 3;
    return { fn, streaming: url.Properties.InvokeMode === 'RESPONSE_STREAM', timeoutMs: timeoutSeconds * 1000 };
  });
}

/** EventBridge rules on Step Functions execution status changes, and the functions they invoke. */
function executionStatusRules(template: CfnTemplate) {
  const functions = localFunctions(template);
  return resourcesOfType(template, 'AWS::Events::Rule')
    .filter(([, rule]) => rule.Properties.EventPattern?.['detail-type']?.includes('Step Functions Execution Status Change'))
    .flatMap(([, rule]) =>
      (rule.Properties.Targets ?? []).map((target: any) => {
        const logicalId = target.Arn['Fn::GetAtt']?.[0];
        const fn = functions.find((f) => f.logicalId === logicalId);
        if (!fn) throw new Error(`template: rule target ${logicalId} is not a Dossier function`);
        return { fn, statuses: rule.Properties.EventPattern.detail?.status as string[] | undefined };
      }),
    );
}

export async function startLocalServices(options: LocalRuntimeOptions & { ports?: { first: number } } = {}): Promise<LocalServices> {
  const issuer = await startLocalIssuer({ audience: LOCAL_AUDIENCE, scopes: ALL_SCOPES });
  const runtime = await startLocalRuntime(options);
  // Deployed, these come from the Identity construct; here the local issuer stands in for Cognito.
  Object.assign(process.env, {
    AUTH_ISSUER: issuer.issuer,
    AUTH_AUDIENCE: issuer.audience,
    AUTH_JWKS_URL: issuer.jwksUrl,
    AUTH_TOKEN_URL: issuer.tokenUrl,
    // Webhook receivers on this machine are the point of a local run.
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    // A local batch of a few companies ends in a second or two: follow it closely.
    A2A_JOB_POLL_MS: '100',
    // A receiver on this machine that fails answers within milliseconds: retry as quickly.
    WEBHOOK_RETRY_BASE_MS: '20',
  });

  const template = synthesizeTemplate(options.context);
  const servers: FunctionUrlServer[] = [];
  const agents: LocalAgentEndpoint[] = [];
  let port = options.ports?.first;
  for (const { fn, streaming, timeoutMs } of functionUrls(template)) {
    const server = await startFunctionUrlServer({ name: fn.logicalId, entry: fn.entry, timeoutMs, port });
    if (port) port += 1;
    servers.push(server);
    agents.push({ function: fn.logicalId, url: server.url, cardUrl: `${server.url}/.well-known/agent-card.json`, streaming });
  }

  // The EventBridge rule: on AWS only STANDARD executions send status-change events.
  const rules = executionStatusRules(template);
  const unsubscribe = runtime.onExecutionEnd(async (execution) => {
    if (execution.stateMachineType !== 'STANDARD') return;
    for (const { fn, statuses } of rules) {
      if (statuses && !statuses.includes(execution.status)) continue;
      const { handler } = await import(pathToFileURL(path.join(PROJECT_ROOT, fn.entry)).href);
      const event = {
        version: '0',
        id: crypto.randomUUID(),
        'detail-type': 'Step Functions Execution Status Change',
        source: 'aws.states',
        account: '000000000000',
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [execution.executionArn],
        detail: {
          executionArn: execution.executionArn,
          stateMachineArn: execution.stateMachineArn,
          name: execution.name,
          status: execution.status,
          startDate: execution.startDate.getTime(),
          stopDate: execution.stopDate?.getTime() ?? null,
        },
      };
      await handler(event, lambdaContext(fn.logicalId, fn.arn, 30_000));
    }
  });

  const rest = await startRestApiServer(template);
  return {
    runtime,
    issuer,
    agents,
    restUrl: rest.url,
    restRoutes: rest.routes.map((r) => `${r.method} ${r.resourcePath}`),
    async stop() {
      unsubscribe();
      await Promise.all(servers.map((s) => s.close()));
      await rest.close();
      await runtime.stop();
      await issuer.close();
    },
  };
}

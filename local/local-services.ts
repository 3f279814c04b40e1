/**
 * Everything `npm run serve` starts, as a library the tests share: the local runtime, a token issuer, each agent's
 * function URL (from the template's AWS::Lambda::Url resources, running the function's own handler file), the
 * REST routes, and the EventBridge rule that tells the coordinator's events handler when an execution ends.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { policyAllows, type InvokePolicy } from '../lambdas/core/api-access';
import { ALL_SCOPES } from '../lambdas/core/scopes';
import { AUTH_REALM } from '../lambdas/shared/identity';
import { PROJECT_ROOT } from '../lib/agent-function';
import { startFunctionUrlServer, type FunctionUrlServer } from './function-url-server';
import { startLocalIssuer, type LocalIssuer } from './identity-issuer';
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
  /** The REST API's base URL (POST /research/batch, GET /jobs/{job_id}). */
  restUrl: string;
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

/** The function behind the REST API's token authorizer, found in the template as API Gateway would call it. */
function authorizerFunction(template: CfnTemplate) {
  const authorizers = resourcesOfType(template, 'AWS::ApiGateway::Authorizer');
  if (authorizers.length !== 1) throw new Error(`template: expected one API authorizer, found ${authorizers.length}`);
  const uri = JSON.stringify(authorizers[0]![1].Properties.AuthorizerUri);
  const fn = localFunctions(template).find((f) => uri.includes(`"${f.logicalId}"`));
  if (!fn) throw new Error('template: the API authorizer names no Dossier function');
  return fn;
}

/**
 * The REST routes as API Gateway serves them: the token authorizer from the template runs first (401 without a
 * valid token, 403 when its policy does not open the route), then the route's handler with the caller in its
 * request context.
 */
async function startRestApi(runtime: LocalRuntime, template: CfnTemplate): Promise<{ url: string; close(): Promise<void> }> {
  const fn = authorizerFunction(template);
  const { handler: authorize } = await import(pathToFileURL(path.join(PROJECT_ROOT, fn.entry)).href);
  const server: Server = createServer(async (request, response) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const url = new URL(request.url ?? '/', 'http://localhost');
      const job = /^\/jobs\/([^/]+)$/.exec(url.pathname);
      const route = request.method === 'POST' && url.pathname === '/research/batch' ? 'submit' : request.method === 'GET' && job ? 'job' : undefined;
      if (!route) return send(404, { error: 'not_found', message: `no route ${request.method} ${url.pathname}` });

      const methodArn = `arn:aws:execute-api:us-east-1:000000000000:local/v1/${request.method}${url.pathname}`;
      const challenge = { 'www-authenticate': `Bearer realm="${AUTH_REALM}"` };
      if (!request.headers.authorization) return send(401, { error: 'unauthorized', message: 'send a valid access token: Authorization: Bearer <token>' }, challenge);
      let decision: { policyDocument: InvokePolicy; context?: Record<string, string> };
      try {
        decision = await authorize({ type: 'TOKEN', authorizationToken: request.headers.authorization, methodArn }, lambdaContext(fn.logicalId, fn.arn, 10_000));
      } catch (error) {
        if ((error as Error).message === 'Unauthorized') return send(401, { error: 'unauthorized', message: 'send a valid access token: Authorization: Bearer <token>' }, challenge);
        throw error;
      }
      if (!policyAllows(decision.policyDocument, methodArn)) {
        return send(403, { error: 'forbidden', message: "the token's scopes do not open this route" }, { 'www-authenticate': `Bearer realm="${AUTH_REALM}", error="insufficient_scope"` });
      }
      const caller = decision.context!.sub!;
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
      const answer =
        route === 'submit'
          ? await runtime.api.submitBatch(Buffer.concat(chunks).toString('utf8'), headers, caller)
          : await runtime.api.getJob(decodeURIComponent(job![1]!), caller);
      send(answer.statusCode, answer.body);
    } catch (error) {
      process.stderr.write(`REST API: ${(error as Error).stack ?? error}\n`);
      if (!response.headersSent) send(500, { message: 'Internal server error' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
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
    A2A_ALLOW_PRIVATE_PUSH_URLS: 'true',
    // A local batch of a few companies ends in a second or two: follow it closely.
    A2A_JOB_POLL_MS: '100',
  });

  const template = synthesizeTemplate();
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

  const rest = await startRestApi(runtime, template);
  return {
    runtime,
    issuer,
    agents,
    restUrl: rest.url,
    async stop() {
      unsubscribe();
      await Promise.all(servers.map((s) => s.close()));
      await rest.close();
      await runtime.stop();
      await issuer.close();
    },
  };
}

/**
 * The REST API on this machine, as API Gateway serves it from the synthesized template: every
 * AWS::ApiGateway::Method becomes a route (its path rebuilt from the resources' path parts), the token
 * authorizer's function runs first (401 without a valid token, 403 when its policy does not open the route), and
 * the route's function gets a proxy event with the caller in its request context. New routes need nothing here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { policyAllows, type InvokePolicy } from '../lambdas/core/api-access';
import { AUTH_REALM } from '../lambdas/shared/identity';
import { PROJECT_ROOT } from '../lib/agent-function';
import { lambdaContext } from './task-handlers';
import { localFunctions, resourcesOfType, type CfnTemplate, type LocalFunction } from './template';

export interface LocalRoute {
  method: string;
  /** As API Gateway writes it: /jobs/{job_id}. */
  resourcePath: string;
  fn: LocalFunction;
}

/** The function an integration URI or authorizer URI invokes. */
function invokedFunction(uri: unknown, functions: LocalFunction[], what: string): LocalFunction {
  const text = JSON.stringify(uri);
  const fn = functions.find((f) => text.includes(`"${f.logicalId}"`));
  if (!fn) throw new Error(`template: ${what} invokes no Dossier function`);
  return fn;
}

export function restRoutes(template: CfnTemplate): LocalRoute[] {
  const functions = localFunctions(template);
  const resources = new Map(resourcesOfType(template, 'AWS::ApiGateway::Resource').map(([id, r]) => [id, r.Properties]));
  const pathOf = (ref: any): string => {
    // The root resource is a GetAtt of the RestApi; every other one a Ref to its resource.
    if (!ref?.Ref) return '';
    const resource = resources.get(ref.Ref);
    if (!resource) throw new Error(`template: unknown API resource ${ref.Ref}`);
    return `${pathOf(resource.ParentId)}/${resource.PathPart}`;
  };
  return resourcesOfType(template, 'AWS::ApiGateway::Method')
    .filter(([, m]) => m.Properties.HttpMethod !== 'OPTIONS')
    .map(([id, m]) => ({
      method: m.Properties.HttpMethod,
      resourcePath: pathOf(m.Properties.ResourceId) || '/',
      fn: invokedFunction(m.Properties.Integration?.Uri, functions, `method ${id}`),
    }));
}

function matchRoute(routes: LocalRoute[], method: string, pathname: string): { route: LocalRoute; pathParameters: Record<string, string> } | undefined {
  for (const route of routes.filter((r) => r.method === method)) {
    const names: string[] = [];
    const pattern = route.resourcePath.replace(/\{([^}]+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'));
    const match = new RegExp(`^${pattern}$`).exec(pathname);
    if (match) return { route, pathParameters: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1]!)])) };
  }
  return undefined;
}

const loadHandler = (fn: LocalFunction) => import(pathToFileURL(path.join(PROJECT_ROOT, fn.entry)).href) as Promise<{ handler: (...args: any[]) => Promise<any> }>;

export async function startRestApiServer(template: CfnTemplate): Promise<{ url: string; routes: LocalRoute[]; close(): Promise<void> }> {
  const routes = restRoutes(template);
  const authorizers = resourcesOfType(template, 'AWS::ApiGateway::Authorizer');
  if (authorizers.length !== 1) throw new Error(`template: expected one API authorizer, found ${authorizers.length}`);
  const authorizerFn = invokedFunction(authorizers[0]![1].Properties.AuthorizerUri, localFunctions(template), 'the API authorizer');
  const { handler: authorize } = await loadHandler(authorizerFn);

  const server: Server = createServer(async (request, response) => {
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    };
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const url = new URL(request.url ?? '/', 'http://localhost');
      const method = request.method ?? 'GET';
      const matched = matchRoute(routes, method, url.pathname);
      if (!matched) return send(404, JSON.stringify({ error: 'not_found', message: `no route ${method} ${url.pathname}` }));

      // What the API's gateway responses say (lib/api.ts).
      const unauthorized = () =>
        send(401, JSON.stringify({ error: 'unauthorized', message: 'send a valid access token: Authorization: Bearer <token>' }), { 'www-authenticate': `Bearer realm="${AUTH_REALM}"` });
      const methodArn = `arn:aws:execute-api:us-east-1:000000000000:local/v1/${method}${url.pathname}`;
      if (!request.headers.authorization) return unauthorized();
      let decision: { policyDocument: InvokePolicy; context?: Record<string, string> };
      try {
        decision = await authorize({ type: 'TOKEN', authorizationToken: request.headers.authorization, methodArn }, lambdaContext(authorizerFn.logicalId, authorizerFn.arn, 10_000));
      } catch (error) {
        if ((error as Error).message === 'Unauthorized') return unauthorized();
        throw error;
      }
      if (!policyAllows(decision.policyDocument, methodArn)) {
        return send(403, JSON.stringify({ error: 'forbidden', message: "the token's scopes do not open this route" }), {
          'www-authenticate': `Bearer realm="${AUTH_REALM}", error="insufficient_scope"`,
        });
      }

      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]));
      const query = url.search ? Object.fromEntries(url.searchParams) : null;
      const event: APIGatewayProxyEvent = {
        httpMethod: method,
        resource: matched.route.resourcePath,
        path: url.pathname,
        headers,
        multiValueHeaders: {},
        queryStringParameters: query,
        multiValueQueryStringParameters: null,
        pathParameters: Object.keys(matched.pathParameters).length ? matched.pathParameters : null,
        stageVariables: null,
        body: chunks.length ? Buffer.concat(chunks).toString('utf8') : null,
        isBase64Encoded: false,
        requestContext: { requestId: crypto.randomUUID(), stage: 'v1', httpMethod: method, path: url.pathname, resourcePath: matched.route.resourcePath, authorizer: decision.context } as any,
      };
      const { handler } = await loadHandler(matched.route.fn);
      // API Gateway gives its Lambda integrations 29 seconds.
      const result = (await handler(event, lambdaContext(matched.route.fn.logicalId, matched.route.fn.arn, 29_000))) as APIGatewayProxyResult;
      send(result.statusCode, result.body, (result.headers ?? {}) as Record<string, string>);
    } catch (error) {
      process.stderr.write(`REST API: ${(error as Error).stack ?? error}\n`);
      if (!response.headersSent) send(500, JSON.stringify({ message: 'Internal server error' }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    routes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

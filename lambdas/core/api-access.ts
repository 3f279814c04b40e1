/**
 * Which REST routes a token's scopes open, in one place: the API's authorizer builds its policy from it, and the
 * policy is cached per token by API Gateway, so it must say what the token may do on every route, not only on the
 * route of the request that asked.
 */
import { SCOPES } from './scopes';

export interface Route {
  method: 'GET' | 'POST';
  /** As API Gateway writes a resource path; `*` stands for one path parameter. */
  path: string;
  /** Any one of these scopes opens the route. */
  scopes: readonly string[];
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/research/batch', scopes: [SCOPES.research] },
  { method: 'POST', path: '/research/single', scopes: [SCOPES.research] },
  { method: 'GET', path: '/jobs/*', scopes: [SCOPES.read, SCOPES.research] },
  { method: 'GET', path: '/jobs', scopes: [SCOPES.read, SCOPES.research] },
  { method: 'GET', path: '/jobs/*/results', scopes: [SCOPES.read, SCOPES.research] },
  { method: 'POST', path: '/jobs/*/cancel', scopes: [SCOPES.research] },
  // Runs research again, so it spends like a submission.
  { method: 'POST', path: '/jobs/*/redrive', scopes: [SCOPES.research] },
  // The secret that signs the caller's webhooks: only for clients that may submit.
  { method: 'GET', path: '/webhooks/secret', scopes: [SCOPES.research] },
];

/** Every scope that opens some route: a token with none of them is refused outright. */
export const ANY_API_SCOPE: readonly string[] = [...new Set(ROUTES.flatMap((r) => r.scopes))];

/**
 * `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{method}/{path}` → the ARN prefix of the stage, and the
 * method and path of the request.
 */
export function parseMethodArn(methodArn: string): { stageArn: string; method: string; path: string } {
  const match = /^(arn:[^:]+:execute-api:[^:]+:[^:]+:[^/]+\/[^/]+)\/([A-Z]+)(\/.*)?$/.exec(methodArn);
  if (!match) throw new Error(`not an API Gateway method ARN: ${methodArn}`);
  return { stageArn: match[1]!, method: match[2]!, path: match[3] ?? '/' };
}

function routeMatches(route: Route, method: string, path: string): boolean {
  if (route.method !== method) return false;
  const pattern = new RegExp(`^${route.path.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);
  return pattern.test(path);
}

export interface InvokePolicy {
  Version: '2012-10-17';
  Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow' | 'Deny'; Resource: string[] }[];
}

/** The IAM policy document of a caller with these scopes: Allow on every route they open, nothing else. */
export function policyFor(stageArn: string, scopes: readonly string[]): InvokePolicy {
  const allowed = ROUTES.filter((route) => route.scopes.some((s) => scopes.includes(s)));
  return {
    Version: '2012-10-17',
    Statement: allowed.length
      ? [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: allowed.map((r) => `${stageArn}/${r.method}${r.path}`) }]
      : [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${stageArn}/*`] }],
  };
}

/** Whether a policy from policyFor lets this request through (what API Gateway decides; the local API asks it too). */
export function policyAllows(policy: InvokePolicy, methodArn: string): boolean {
  const { method, path } = parseMethodArn(methodArn);
  return policy.Statement.some((statement) => {
    if (statement.Effect !== 'Allow') return false;
    return statement.Resource.some((resource) => {
      const { method: m, path: p } = parseMethodArn(resource);
      return routeMatches({ method: m as Route['method'], path: p, scopes: [] }, method, path);
    });
  });
}

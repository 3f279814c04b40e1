/**
 * Who is calling: bearer JWT verification for the A2A endpoints and the REST routes, one module for all of them.
 *
 * Tokens are OAuth 2.0 access tokens from Cognito (client-credentials grant) or any OIDC issuer. The verifier
 * checks the signature against the issuer's published keys, the issuer, the expiry, the audience and the scope
 * the route asks for. It never logs the token nor puts it in an error.
 *
 * Environment (none of it secret):
 * - AUTH_ISSUER (required): the exact `iss` of accepted tokens, e.g. https://cognito-idp.{region}.amazonaws.com/{poolId}.
 * - AUTH_AUDIENCE (required): accepted audiences, comma-separated (for Cognito: the app client id).
 * - AUTH_JWKS_URL (optional): where the issuer publishes its keys. Unset, the verifier reads `jwks_uri` from
 *   `{issuer}/.well-known/openid-configuration` once per container (OIDC Discovery), which works for Cognito,
 *   Entra ID, Okta, Auth0, Keycloak and the local issuer alike; the Cognito construct sets it explicitly.
 */
import type { User } from '@a2a-js/sdk/server';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';

export interface IdentityConfig {
  issuer: string;
  /** Accepted audiences: a token is for us when its `aud` (or, lacking one, Cognito's `client_id`) is one of them. */
  audiences: string[];
  /** Unset: discovered from the issuer's OpenID configuration. */
  jwksUrl?: string;
}

export interface Principal {
  /** `sub`: for a client-credentials token, the client itself. */
  subject: string;
  clientId?: string;
  scopes: string[];
}

/** RFC 6750 §3.1 error codes. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** The realm of every challenge; one service, one realm. */
export const AUTH_REALM = 'dossier';

/** Clocks of Lambda hosts and issuers drift a little; a token is not refused over a few seconds. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * A request that is not allowed, and why: 401 (no, malformed or unacceptable token) or 403 (valid token, missing
 * scope). The description is meant for the caller; it never contains the token.
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';

  constructor(
    readonly status: 401 | 403,
    readonly code: BearerErrorCode,
    readonly description: string,
    readonly details: {
      /** No Authorization header at all: the challenge then carries no error (RFC 6750 §3.1). */
      credentialsMissing?: boolean;
      /** The scope the route needs, named in an insufficient_scope challenge. */
      requiredScope?: string;
    } = {},
  ) {
    super(description);
  }
}

// RFC 6750 §3: error_description and scope allow %x20-21 / %x23-5B / %x5D-7E, so no quote and no backslash.
const challengeText = (text: string) => text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'");

/** The `WWW-Authenticate` header value for a refused request. */
export function wwwAuthenticate(error: AuthError): string {
  const parts = [`Bearer realm="${AUTH_REALM}"`];
  if (error.details.credentialsMissing) return parts[0]!;
  parts.push(`error="${error.code}"`, `error_description="${challengeText(error.description)}"`);
  if (error.code === 'insufficient_scope' && error.details.requiredScope) {
    parts.push(`scope="${challengeText(error.details.requiredScope)}"`);
  }
  return parts.join(', ');
}

function requiredVariable(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`configuration: environment variable ${name} is not set`);
  return value;
}

export function identityConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env): IdentityConfig {
  const issuer = requiredVariable(env, 'AUTH_ISSUER');
  // Without an audience any token of the issuer would do, including one minted for another application.
  const audiences = requiredVariable(env, 'AUTH_AUDIENCE')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (audiences.length === 0) throw new Error('configuration: AUTH_AUDIENCE names no audience');
  const jwksUrl = env.AUTH_JWKS_URL?.trim() || undefined;
  return { issuer, audiences, jwksUrl };
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

// Per container, whatever the number of verifiers: keys are fetched once and refreshed by jose (10 minutes,
// or sooner when a token names a key id the cached set lacks).
const keySets = new Map<string, KeySet>();
const discoveredJwksUrls = new Map<string, Promise<string>>();

async function discoverJwksUrl(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
  if (!response.ok) throw new Error(`identity: ${url} answered HTTP ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // OIDC Discovery §4.3: the document must name the issuer it was fetched for, or its keys are not that issuer's.
  if (document.issuer !== issuer) throw new Error(`identity: ${url} names another issuer`);
  if (typeof document.jwks_uri !== 'string') throw new Error(`identity: ${url} has no jwks_uri`);
  return document.jwks_uri;
}

async function keySetFor(config: IdentityConfig): Promise<KeySet> {
  let jwksUrl = config.jwksUrl;
  if (!jwksUrl) {
    let discovery = discoveredJwksUrls.get(config.issuer);
    if (!discovery) {
      discovery = discoverJwksUrl(config.issuer);
      discoveredJwksUrls.set(config.issuer, discovery);
      // A failed discovery is retried by the next request rather than cached for the container's life.
      discovery.catch(() => discoveredJwksUrls.delete(config.issuer));
    }
    jwksUrl = await discovery;
  }
  let keySet = keySets.get(jwksUrl);
  if (!keySet) {
    keySet = createRemoteJWKSet(new URL(jwksUrl));
    keySets.set(jwksUrl, keySet);
  }
  return keySet;
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function bearerToken(authorization: string | undefined): string {
  const header = authorization?.trim();
  if (!header) {
    throw new AuthError(401, 'invalid_request', 'the request has no Authorization header; send Authorization: Bearer <access token>', {
      credentialsMissing: true,
    });
  }
  const [scheme, ...rest] = header.split(/ +/);
  if (scheme!.toLowerCase() !== 'bearer') {
    throw new AuthError(401, 'invalid_request', 'the Authorization header must use the Bearer scheme');
  }
  if (rest.length === 0) throw new AuthError(401, 'invalid_request', 'the Authorization header has the Bearer scheme but no token');
  if (rest.length > 1 || !B64TOKEN.test(rest[0]!)) {
    throw new AuthError(401, 'invalid_request', 'the Authorization header is malformed: Bearer must be followed by exactly one token');
  }
  return rest[0]!;
}

const invalidToken = (description: string) => new AuthError(401, 'invalid_token', description);
const isoTime = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'an invalid time');

/** Maps jose's verdict on a token to the caller's error; anything else (keys unreachable) is ours, not theirs. */
function refusal(error: unknown, issuer: string): AuthError | undefined {
  const { code, claim, reason, payload } = (error ?? {}) as { code?: string; claim?: string; reason?: string; payload?: JWTPayload };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return invalidToken(`the token expired at ${isoTime(payload?.exp)}`);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return invalidToken(`the token has no ${claim} claim`);
      if (claim === 'nbf' && reason === 'check_failed') return invalidToken(`the token is not valid before ${isoTime(payload?.nbf)}`);
      if (claim === 'iss') return invalidToken(`the token was not issued by ${issuer}`);
      return invalidToken(`the token's ${claim} claim is invalid`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return invalidToken("the token's signature does not verify with the issuer's keys");
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return invalidToken('the token is signed with a key the issuer does not publish');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return invalidToken("the token's signing algorithm is not accepted");
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return invalidToken('the token is not a well-formed JWT');
    default:
      return undefined;
  }
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export interface TokenVerifier {
  /** Resolves to the caller, or throws AuthError (refused) or another error (the issuer's keys could not be read). */
  /** `requiredScope`: the scope the call needs, or a list of which any one will do. */
  verify(authorization: string | undefined, requiredScope: string | readonly string[]): Promise<Principal>;
}

export function createTokenVerifier(config: IdentityConfig): TokenVerifier {
  const audiences = new Set(config.audiences);
  return {
    async verify(authorization, requiredScope) {
      const token = bearerToken(authorization);

      // Unverified, only to refuse early and say why: a foreign token never costs a key fetch.
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        throw invalidToken('the token is not a well-formed JWT');
      }
      if (typeof unverified.iss !== 'string') throw invalidToken('the token has no iss claim');
      if (unverified.iss !== config.issuer) throw invalidToken(`the token was not issued by ${config.issuer}`);

      let claims: JWTPayload;
      try {
        const keySet = await keySetFor(config);
        ({ payload: claims } = await jwtVerify(token, keySet, {
          issuer: config.issuer,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          // A token without an expiry would be valid forever.
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        const refused = refusal(error, config.issuer);
        if (refused) throw refused;
        // jose's errors carry claims at most, never the token; the caller answers 5xx and logs this.
        throw new Error(`identity: the signing keys of ${config.issuer} could not be read`, { cause: error });
      }

      // Cognito access tokens carry no aud; their client_id is the app client, which is the audience we accept.
      const claimedAudiences = [...stringList(claims.aud), ...stringList(claims.client_id)];
      if (!claimedAudiences.some((a) => audiences.has(a))) throw invalidToken("the token's audience is not this service");
      // Cognito ID tokens are signed by the same keys; only its access tokens grant scopes.
      if (claims.token_use !== undefined && claims.token_use !== 'access') throw invalidToken('the token is not an access token');
      if (typeof claims.sub !== 'string' || !claims.sub) throw invalidToken("the token's sub claim is invalid");

      // OAuth's `scope` is space-separated; some issuers (Okta, Entra ID) use `scp`, as a list or a string.
      const scopes = [...new Set([...stringList(claims.scope), ...stringList(claims.scp)])];
      const acceptable = typeof requiredScope === 'string' ? [requiredScope] : [...requiredScope];
      if (!acceptable.some((scope) => scopes.includes(scope))) {
        const wanted = acceptable.join(' ');
        const description = acceptable.length === 1 ? `the token lacks the scope ${wanted}` : `the token has none of the scopes ${acceptable.join(', ')}`;
        // RFC 6750 §3: scope is a space-delimited list.
        throw new AuthError(403, 'insufficient_scope', description, { requiredScope: wanted });
      }

      const clientId = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined;
      return { subject: claims.sub, clientId, scopes };
    },
  };
}

/** The caller as @a2a-js/sdk sees it (ServerCallContext's user): tasks are scoped by `userName`, the subject. */
export class AuthenticatedUser implements User {
  constructor(readonly principal: Principal) {}

  get isAuthenticated(): boolean {
    return true;
  }

  get userName(): string {
    return this.principal.subject;
  }
}

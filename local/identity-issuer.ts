/**
 * An OAuth 2.0 issuer on this machine for `npm run serve` and the tests: the client-credentials grant, its
 * discovery document and its keys, shaped like Cognito's so the same verifier checks its tokens.
 * The signing key and the client secret are made at start and live only in this process's memory.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { readBody, sendJson } from './stand-ins/faults';

export interface LocalIssuerOptions {
  /** The `aud` of the tokens: what the verifier's AUTH_AUDIENCE must name. */
  audience: string;
  /** The scopes a client may ask for; a token request without `scope` gets them all. */
  scopes: readonly string[];
}

export interface MintOptions {
  /** Default: every allowed scope. Not checked against them, so tests can mint anything. */
  scopes?: readonly string[];
  /** Default 3600; negative makes an expired token. */
  expiresInSeconds?: number;
  /** Default: the issuer's audience; null leaves `aud` out, as Cognito's access tokens do. */
  audience?: string | null;
  /** Default: the client id. */
  subject?: string;
  /** Added to (or overriding) the claims, to imitate other issuers' tokens. */
  claims?: Record<string, unknown>;
}

export interface LocalIssuer {
  issuer: string;
  jwksUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  audience: string;
  mintToken(options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

/** Short-lived, like Cognito's default for access tokens. */
const DEFAULT_LIFETIME_SECONDS = 3600;
const ALGORITHM = 'ES256';

/** Equal-length digests, so the comparison takes the same time whatever the guess. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

// RFC 6749 §2.3.1: the Basic credentials are form-urlencoded before base64.
const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));

type ClientCredentials = { clientId: string; clientSecret: string; method: 'basic' | 'post' };

class TokenError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

function clientCredentials(request: IncomingMessage, form: URLSearchParams): ClientCredentials {
  const authorization = request.headers.authorization;
  const inForm = form.has('client_id') || form.has('client_secret');
  if (authorization) {
    // RFC 6749 §2.3: a client uses one authentication method per request.
    if (inForm) throw new TokenError(400, 'invalid_request', 'send client credentials either in the Authorization header or in the body, not both');
    const [scheme, encoded] = authorization.split(' ');
    const decoded = scheme?.toLowerCase() === 'basic' && encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new TokenError(401, 'invalid_client', 'the Authorization header must carry Basic client credentials', {
        'www-authenticate': 'Basic realm="dossier"',
      });
    }
    try {
      return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)), method: 'basic' };
    } catch {
      throw new TokenError(401, 'invalid_client', 'the Basic client credentials are not form-encoded', { 'www-authenticate': 'Basic realm="dossier"' });
    }
  }
  return { clientId: form.get('client_id') ?? '', clientSecret: form.get('client_secret') ?? '', method: 'post' };
}

export async function startLocalIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const { publicKey, privateKey } = await generateKeyPair(ALGORITHM);
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwks = { keys: [{ ...publicJwk, kid, alg: ALGORITHM, use: 'sig' }] };
  const clientId = `local-${randomBytes(10).toString('hex')}`;
  const clientSecret = randomBytes(32).toString('base64url');
  const allowedScopes = [...options.scopes];
  let issuer = '';

  async function mintToken(mint: MintOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (mint.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS);
    const audience = mint.audience === undefined ? options.audience : mint.audience;
    const claims: Record<string, unknown> = {
      iss: issuer,
      sub: mint.subject ?? clientId,
      ...(audience === null ? {} : { aud: audience }),
      client_id: clientId,
      scope: (mint.scopes ?? allowedScopes).join(' '),
      // An expired token was issued before it expired.
      iat: Math.min(now, exp),
      exp,
      jti: randomUUID(),
      ...mint.claims,
    };
    return new SignJWT(claims).setProtectedHeader({ alg: ALGORITHM, kid, typ: 'at+jwt' }).sign(privateKey);
  }

  async function issueToken(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const contentType = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/x-www-form-urlencoded') {
      throw new TokenError(400, 'invalid_request', 'the token request must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(await readBody(request));
    const client = clientCredentials(request, form);
    if (client.clientId !== clientId || !sameSecret(client.clientSecret, clientSecret)) {
      // RFC 6749 §5.2: a client that tried the Authorization header is challenged back.
      throw new TokenError(401, 'invalid_client', 'unknown client or wrong secret', client.method === 'basic' ? { 'www-authenticate': 'Basic realm="dossier"' } : {});
    }
    const grantType = form.get('grant_type');
    if (!grantType) throw new TokenError(400, 'invalid_request', 'grant_type is missing');
    if (grantType !== 'client_credentials') throw new TokenError(400, 'unsupported_grant_type', 'only the client_credentials grant is supported');
    const requested = form.get('scope')?.split(' ').filter(Boolean);
    const unknown = requested?.filter((s) => !allowedScopes.includes(s)) ?? [];
    if (unknown.length > 0) throw new TokenError(400, 'invalid_scope', `unknown scope: ${unknown.join(' ')}`);
    const scopes = requested?.length ? [...new Set(requested)] : allowedScopes;
    const accessToken = await mintToken({ scopes });
    // RFC 6749 §5.1: token responses must not be cached.
    sendJson(
      response,
      200,
      { access_token: accessToken, token_type: 'Bearer', expires_in: DEFAULT_LIFETIME_SECONDS, scope: scopes.join(' ') },
      { 'cache-control': 'no-store', pragma: 'no-cache' },
    );
  }

  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    try {
      if (request.method === 'GET' && path === '/.well-known/openid-configuration') {
        return sendJson(response, 200, {
          issuer,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          token_endpoint: `${issuer}/oauth2/token`,
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          scopes_supported: allowedScopes,
        });
      }
      if (request.method === 'GET' && path === '/.well-known/jwks.json') return sendJson(response, 200, jwks);
      if (path === '/oauth2/token') {
        if (request.method !== 'POST') return sendJson(response, 405, { error: 'invalid_request', error_description: 'use POST' }, { allow: 'POST' });
        return await issueToken(request, response);
      }
      sendJson(response, 404, { error: 'not_found' });
    } catch (error) {
      if (error instanceof TokenError) {
        sendJson(response, error.status, { error: error.error, error_description: error.message }, { 'cache-control': 'no-store', ...error.headers });
      } else {
        sendJson(response, 500, { error: 'server_error', error_description: (error as Error).message });
      }
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    tokenUrl: `${issuer}/oauth2/token`,
    clientId,
    clientSecret,
    audience: options.audience,
    mintToken,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections (fetch keeps them) would hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}

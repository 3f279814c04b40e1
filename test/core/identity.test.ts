import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { ALL_SCOPES, SCOPES } from '../../lambdas/core/scopes';
import {
  AuthError,
  AuthenticatedUser,
  createTokenVerifier,
  identityConfigFromEnvironment,
  wwwAuthenticate,
  type IdentityConfig,
  type TokenVerifier,
} from '../../lambdas/shared/identity';
import { startLocalIssuer, type LocalIssuer } from '../../local/identity-issuer';

const AUDIENCE = 'dossier-test';

let issuer: LocalIssuer;
let config: IdentityConfig;
let verifier: TokenVerifier;

beforeAll(async () => {
  issuer = await startLocalIssuer({ audience: AUDIENCE, scopes: ALL_SCOPES });
  config = { issuer: issuer.issuer, audiences: [AUDIENCE], jwksUrl: issuer.jwksUrl };
  verifier = createTokenVerifier(config);
});

afterAll(() => issuer.close());

/** The AuthError a verification throws; fails the test if it resolves or throws anything else. */
async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the verification should have been refused').toBeInstanceOf(AuthError);
  return error as AuthError;
}

async function expectInvalidToken(token: string, description: string | RegExp): Promise<AuthError> {
  const error = await refusal(verifier.verify(`Bearer ${token}`, SCOPES.research));
  expect(error).toMatchObject({ status: 401, code: 'invalid_token' });
  expect(error.description).toMatch(description);
  expect(wwwAuthenticate(error)).toMatch(/^Bearer realm="dossier", error="invalid_token", error_description="[^"]+"$/);
  // Neither the message nor the challenge ever repeats the credential.
  expect(error.message).not.toContain(token);
  expect(wwwAuthenticate(error)).not.toContain(token);
  return error;
}

async function tokenRequest(form: Record<string, string>, basic?: { id: string; secret: string }) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${basic.id}:${basic.secret}`).toString('base64')}`;
  const response = await fetch(issuer.tokenUrl, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

describe('the token verifier', () => {
  it('accepts a valid token and names its client', async () => {
    const token = await issuer.mintToken();
    const principal = await verifier.verify(`Bearer ${token}`, SCOPES.research);
    expect(principal).toEqual({ subject: issuer.clientId, clientId: issuer.clientId, scopes: [...ALL_SCOPES] });

    const user = new AuthenticatedUser(principal);
    expect(user.isAuthenticated).toBe(true);
    expect(user.userName).toBe(issuer.clientId);
    expect(user.principal).toBe(principal);
  });

  it('reads the scheme case-insensitively, as RFC 7235 says', async () => {
    const token = await issuer.mintToken({ scopes: [SCOPES.read] });
    await expect(verifier.verify(`bearer ${token}`, SCOPES.read)).resolves.toMatchObject({ scopes: [SCOPES.read] });
  });

  it('challenges a request without credentials with no error attribute', async () => {
    for (const header of [undefined, '', '   ']) {
      const error = await refusal(verifier.verify(header, SCOPES.research));
      expect(error).toMatchObject({ status: 401, code: 'invalid_request', details: { credentialsMissing: true } });
      expect(wwwAuthenticate(error)).toBe('Bearer realm="dossier"');
    }
  });

  it('refuses an Authorization header that is not one bearer token as invalid_request', async () => {
    const token = await issuer.mintToken();
    const cases: [string, RegExp][] = [
      [`Basic ${Buffer.from(`${issuer.clientId}:${issuer.clientSecret}`).toString('base64')}`, /must use the Bearer scheme/],
      [token, /must use the Bearer scheme/],
      ['Bearer', /no token/],
      [`Bearer ${token} ${token}`, /exactly one token/],
      [`Bearer "${token}"`, /exactly one token/],
    ];
    for (const [header, description] of cases) {
      const error = await refusal(verifier.verify(header, SCOPES.research));
      expect(error).toMatchObject({ status: 401, code: 'invalid_request' });
      expect(error.description).toMatch(description);
      expect(wwwAuthenticate(error)).toMatch(/^Bearer realm="dossier", error="invalid_request", error_description="/);
      expect(error.message).not.toContain(token);
      expect(error.message).not.toContain(issuer.clientSecret);
    }
  });

  it('refuses a token that is not a JWT', async () => {
    await expectInvalidToken('not-a-jwt', 'the token is not a well-formed JWT');
    await expectInvalidToken('eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln', 'the token is not a well-formed JWT');
  });

  it('refuses an expired token and says when it expired', async () => {
    const token = await issuer.mintToken({ expiresInSeconds: -3600 });
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    await expectInvalidToken(token, `the token expired at ${new Date(exp * 1000).toISOString()}`);
  });

  it('tolerates a few seconds of clock skew', async () => {
    const token = await issuer.mintToken({ expiresInSeconds: -5 });
    await expect(verifier.verify(`Bearer ${token}`, SCOPES.research)).resolves.toMatchObject({ subject: issuer.clientId });
  });

  it("refuses a token signed with another key under the issuer's key id", async () => {
    const genuine = await issuer.mintToken();
    const { kid } = decodeProtectedHeader(genuine);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ client_id: issuer.clientId, scope: ALL_SCOPES.join(' ') })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(issuer.issuer)
      .setSubject(issuer.clientId)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    await expectInvalidToken(forged, "the token's signature does not verify with the issuer's keys");
  });

  it('refuses a token signed with a key the issuer does not publish', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ scope: ALL_SCOPES.join(' ') })
      .setProtectedHeader({ alg: 'ES256', kid: 'someone-elses-key' })
      .setIssuer(issuer.issuer)
      .setSubject(issuer.clientId)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(privateKey);
    await expectInvalidToken(forged, 'the token is signed with a key the issuer does not publish');
  });

  it('refuses a token of another issuer', async () => {
    const other = await startLocalIssuer({ audience: AUDIENCE, scopes: ALL_SCOPES });
    try {
      await expectInvalidToken(await other.mintToken(), `the token was not issued by ${issuer.issuer}`);
    } finally {
      await other.close();
    }
  });

  it('refuses a token for another audience', async () => {
    await expectInvalidToken(await issuer.mintToken({ audience: 'another-service' }), "the token's audience is not this service");
  });

  it('refuses a token without an expiry', async () => {
    await expectInvalidToken(await issuer.mintToken({ claims: { exp: undefined } }), 'the token has no exp claim');
  });

  it('answers 403 insufficient_scope, naming the scope, when the token lacks it', async () => {
    const token = await issuer.mintToken({ scopes: [SCOPES.read] });
    const error = await refusal(verifier.verify(`Bearer ${token}`, SCOPES.research));
    expect(error).toMatchObject({ status: 403, code: 'insufficient_scope', description: 'the token lacks the scope dossier/research' });
    expect(wwwAuthenticate(error)).toBe(
      'Bearer realm="dossier", error="insufficient_scope", error_description="the token lacks the scope dossier/research", scope="dossier/research"',
    );
    expect(error.message).not.toContain(token);
  });

  it('reads scopes from an scp list too', async () => {
    const token = await issuer.mintToken({ claims: { scope: undefined, scp: [SCOPES.research] } });
    await expect(verifier.verify(`Bearer ${token}`, SCOPES.research)).resolves.toMatchObject({ scopes: [SCOPES.research] });
  });

  it("accepts a Cognito access token: no aud, the app client's id in client_id, token_use access", async () => {
    const token = await issuer.mintToken({ audience: null, claims: { client_id: AUDIENCE, token_use: 'access' } });
    const principal = await verifier.verify(`Bearer ${token}`, SCOPES.research);
    expect(principal).toEqual({ subject: issuer.clientId, clientId: AUDIENCE, scopes: [...ALL_SCOPES] });
  });

  it('refuses a Cognito ID token of the same client', async () => {
    const token = await issuer.mintToken({ audience: AUDIENCE, claims: { client_id: undefined, token_use: 'id' } });
    await expectInvalidToken(token, 'the token is not an access token');
  });

  it('refuses a token without aud whose client is not an accepted audience', async () => {
    await expectInvalidToken(await issuer.mintToken({ audience: null }), "the token's audience is not this service");
  });

  it('keeps the keys per container: a new verifier verifies without reaching the issuer again', async () => {
    const own = await startLocalIssuer({ audience: AUDIENCE, scopes: ALL_SCOPES });
    const ownConfig = { issuer: own.issuer, audiences: [AUDIENCE], jwksUrl: own.jwksUrl };
    await createTokenVerifier(ownConfig).verify(`Bearer ${await own.mintToken()}`, SCOPES.read);
    const later = await own.mintToken();
    await own.close();
    await expect(createTokenVerifier(ownConfig).verify(`Bearer ${later}`, SCOPES.read)).resolves.toMatchObject({ subject: own.clientId });
  });

  it("discovers the keys from the issuer's OpenID configuration when no JWKS URL is configured", async () => {
    const discovering = createTokenVerifier({ issuer: issuer.issuer, audiences: [AUDIENCE] });
    await expect(discovering.verify(`Bearer ${await issuer.mintToken()}`, SCOPES.read)).resolves.toMatchObject({ subject: issuer.clientId });
  });

  it('reports unreachable keys as its own failure, not as a bad token', async () => {
    const gone = await startLocalIssuer({ audience: AUDIENCE, scopes: ALL_SCOPES });
    const token = await gone.mintToken();
    await gone.close();
    const error = await createTokenVerifier({ issuer: gone.issuer, audiences: [AUDIENCE], jwksUrl: gone.jwksUrl })
      .verify(`Bearer ${token}`, SCOPES.read)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe(`identity: the signing keys of ${gone.issuer} could not be read`);
  });
});

describe('identityConfigFromEnvironment', () => {
  it('reads the issuer, the audiences and the optional JWKS URL', () => {
    expect(
      identityConfigFromEnvironment({ AUTH_ISSUER: 'https://issuer.example', AUTH_AUDIENCE: 'a, b,,', AUTH_JWKS_URL: 'https://issuer.example/keys' }),
    ).toEqual({ issuer: 'https://issuer.example', audiences: ['a', 'b'], jwksUrl: 'https://issuer.example/keys' });
    expect(identityConfigFromEnvironment({ AUTH_ISSUER: 'https://issuer.example', AUTH_AUDIENCE: 'a' }).jwksUrl).toBeUndefined();
  });

  it('refuses to run without an issuer or an audience', () => {
    expect(() => identityConfigFromEnvironment({ AUTH_AUDIENCE: 'a' })).toThrow('environment variable AUTH_ISSUER is not set');
    expect(() => identityConfigFromEnvironment({ AUTH_ISSUER: 'https://issuer.example' })).toThrow('environment variable AUTH_AUDIENCE is not set');
    expect(() => identityConfigFromEnvironment({ AUTH_ISSUER: 'https://issuer.example', AUTH_AUDIENCE: ' , ' })).toThrow('AUTH_AUDIENCE names no audience');
  });
});

describe('wwwAuthenticate', () => {
  it('keeps quotes and backslashes out of the quoted strings', () => {
    const header = wwwAuthenticate(new AuthError(401, 'invalid_token', 'a "quoted" \\ word'));
    expect(header).toBe(`Bearer realm="dossier", error="invalid_token", error_description="a 'quoted' ' word"`);
  });
});

describe('the local issuer', () => {
  it('publishes its discovery document', async () => {
    const document = await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json();
    expect(document).toMatchObject({
      issuer: issuer.issuer,
      jwks_uri: issuer.jwksUrl,
      token_endpoint: issuer.tokenUrl,
      grant_types_supported: ['client_credentials'],
      scopes_supported: [...ALL_SCOPES],
    });
  });

  it('grants a token the verifier accepts for valid client credentials, in the header or in the body', async () => {
    const viaBasic = await tokenRequest({ grant_type: 'client_credentials' }, { id: issuer.clientId, secret: issuer.clientSecret });
    expect(viaBasic.status).toBe(200);
    expect(viaBasic.headers.get('cache-control')).toBe('no-store');
    expect(viaBasic.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    await expect(verifier.verify(`Bearer ${viaBasic.body.access_token}`, SCOPES.research)).resolves.toEqual({
      subject: issuer.clientId,
      clientId: issuer.clientId,
      scopes: [...ALL_SCOPES],
    });

    const viaBody = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: issuer.clientId,
      client_secret: issuer.clientSecret,
      scope: SCOPES.read,
    });
    expect(viaBody.status).toBe(200);
    const principal = await verifier.verify(`Bearer ${viaBody.body.access_token}`, SCOPES.read);
    expect(principal.scopes).toEqual([SCOPES.read]);
    const error = await refusal(verifier.verify(`Bearer ${viaBody.body.access_token}`, SCOPES.research));
    expect(error.status).toBe(403);
  });

  it('refuses a wrong secret with 401 invalid_client', async () => {
    const basic = await tokenRequest({ grant_type: 'client_credentials' }, { id: issuer.clientId, secret: 'wrong' });
    expect(basic.status).toBe(401);
    expect(basic.body.error).toBe('invalid_client');
    expect(basic.headers.get('www-authenticate')).toBe('Basic realm="dossier"');
    const body = await tokenRequest({ grant_type: 'client_credentials', client_id: issuer.clientId, client_secret: 'wrong' });
    expect(body.status).toBe(401);
    expect(body.body.error).toBe('invalid_client');
    expect(body.body.access_token).toBeUndefined();
  });

  it('refuses an unknown scope with 400 invalid_scope and another grant with 400 unsupported_grant_type', async () => {
    const credentials = { id: issuer.clientId, secret: issuer.clientSecret };
    const scope = await tokenRequest({ grant_type: 'client_credentials', scope: `${SCOPES.read} dossier/admin` }, credentials);
    expect(scope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(scope.body.error_description).toContain('dossier/admin');
    const grant = await tokenRequest({ grant_type: 'password', username: 'u', password: 'p' }, credentials);
    expect(grant).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });
});

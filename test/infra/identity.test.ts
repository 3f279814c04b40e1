import { describe, expect, it } from 'vitest';
import { App, CfnWaitConditionHandle, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Identity, type IdentityProps } from '../../lib/identity';

// A fresh app per stack: Template.fromStack synthesizes the whole app.
function identityStack(props?: IdentityProps, stackName = 'IdentityTest') {
  const stack = new Stack(new App(), stackName);
  const identity = new Identity(stack, 'Identity', props);
  // With an external issuer the construct creates nothing, and CDK warns about an empty template.
  new CfnWaitConditionHandle(stack, 'Placeholder');
  return { stack, identity, template: Template.fromStack(stack) };
}

const ref = (logicalId: string) => ({ Ref: logicalId });
const onlyId = (template: Template, type: string) => {
  const ids = Object.keys(template.findResources(type));
  expect(ids, type).toHaveLength(1);
  return ids[0]!;
};

describe('Identity with Cognito', () => {
  const { stack, identity, template } = identityStack();
  const poolId = onlyId(template, 'AWS::Cognito::UserPool');
  const clientId = onlyId(template, 'AWS::Cognito::UserPoolClient');
  const resourceServerId = onlyId(template, 'AWS::Cognito::UserPoolResourceServer');
  const domainId = onlyId(template, 'AWS::Cognito::UserPoolDomain');

  it('creates a user pool nobody can sign up to', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      DeletionProtection: 'INACTIVE',
    });
  });

  it('would demand a strong password of any user added by hand', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      Policies: {
        PasswordPolicy: Match.objectLike({ MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true }),
      },
    });
  });

  it('declares the dossier resource server with both scopes', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'dossier',
      UserPoolId: ref(poolId),
      Scopes: Match.arrayWith([
        { ScopeName: 'research', ScopeDescription: 'call the agents and submit research' },
        { ScopeName: 'read', ScopeDescription: 'read tasks and jobs' },
      ]),
    });
  });

  it('creates a machine client: a secret, the client-credentials flow, both scopes, no user flows', () => {
    const scope = (name: string) => ({ 'Fn::Join': ['', [ref(resourceServerId), `/${name}`]] });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: ref(poolId),
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: [scope('research'), scope('read')],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      AccessTokenValidity: 60,
      CallbackURLs: Match.absent(),
    });
  });

  it('gives the pool a Cognito prefix domain unique per stack and account', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      UserPoolId: ref(poolId),
      Domain: { 'Fn::Join': ['', [Match.stringLikeRegexp('^dossier-[0-9a-f]{8}-$'), { Ref: 'AWS::AccountId' }]] },
    });
    const prefixOf = (t: Template) => Object.values(t.findResources('AWS::Cognito::UserPoolDomain'))[0]!.Properties.Domain['Fn::Join'][1][0];
    expect(prefixOf(identityStack(undefined, 'AnotherStack').template)).not.toBe(prefixOf(template));
  });

  it('takes the domain prefix from a prop', () => {
    identityStack({ domainPrefix: 'my-dossier' }).template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'my-dossier' });
  });

  it('tells functions the issuer, the keys and the audience, and the client secret nowhere', () => {
    const issuer = { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', ref(poolId)]] };
    expect(stack.resolve(identity.environment())).toEqual({
      AUTH_ISSUER: issuer,
      AUTH_AUDIENCE: ref(clientId),
      AUTH_JWKS_URL: {
        'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', ref(poolId), '/.well-known/jwks.json']],
      },
    });
    expect(stack.resolve(identity.tokenUrl)).toEqual({
      'Fn::Join': ['', ['https://', ref(domainId), '.auth.', { Ref: 'AWS::Region' }, '.amazoncognito.com/oauth2/token']],
    });
    expect(identity.scopes).toEqual(['dossier/research', 'dossier/read']);
    // Reading the secret in CDK would add a custom resource that copies it into the template's world.
    expect(JSON.stringify(template.toJSON())).not.toMatch(/ClientSecret|DescribeCognitoUserPoolClient/);
  });

  it('deletes the pool with the stack unless told otherwise', () => {
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Delete' });
    const { template: kept } = identityStack({ deletionProtection: true, removalPolicy: RemovalPolicy.RETAIN });
    kept.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }) });
  });
});

describe('Identity with an external OIDC issuer', () => {
  const { stack, identity, template } = identityStack({
    externalIssuer: { issuerUrl: 'https://login.example.com/tenant/', audience: 'api://dossier', tokenUrl: 'https://login.example.com/token' },
  });

  it('creates no Cognito resources', () => {
    for (const type of ['AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolDomain']) {
      template.resourceCountIs(type, 0);
    }
  });

  it('passes the issuer and audience on, and leaves the keys to discovery when no JWKS URL is given', () => {
    expect(stack.resolve(identity.environment())).toEqual({ AUTH_ISSUER: 'https://login.example.com/tenant/', AUTH_AUDIENCE: 'api://dossier' });
    expect(identity.tokenUrl).toBe('https://login.example.com/token');
  });

  it('passes a given JWKS URL on', () => {
    const { identity: withKeys } = identityStack({
      externalIssuer: { issuerUrl: 'https://issuer.example', audience: 'dossier', jwksUrl: 'https://issuer.example/keys' },
    });
    expect(withKeys.environment()).toEqual({ AUTH_ISSUER: 'https://issuer.example', AUTH_AUDIENCE: 'dossier', AUTH_JWKS_URL: 'https://issuer.example/keys' });
  });
});

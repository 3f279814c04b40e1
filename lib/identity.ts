/**
 * Who may call Dossier: OAuth 2.0 client credentials. By default a Cognito user pool with a `dossier` resource
 * server and one machine-to-machine client; or any OIDC issuer named at deploy time. Functions get only
 * non-secret settings (issuer, keys URL, audience); the client secret stays in Cognito
 * (`aws cognito-idp describe-user-pool-client` shows it).
 */
import { Aws, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  OAuthScope,
  ResourceServerScope,
  UserPool,
  UserPoolClient,
  UserPoolClientIdentityProvider,
  UserPoolDomain,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { ALL_SCOPES, RESOURCE_SERVER_ID, SCOPE_DESCRIPTIONS, scopeName, type Scope } from '../lambdas/core/scopes';

export interface ExternalIssuer {
  /** The exact `iss` of its tokens. */
  issuerUrl: string;
  /** What the tokens' `aud` (or `client_id`) must name; several separated by commas. */
  audience: string;
  /** Unset: the functions read `jwks_uri` from the issuer's OpenID configuration. */
  jwksUrl?: string;
  /** Advertised to clients (agent cards); the functions never call it. */
  tokenUrl?: string;
}

export interface IdentityProps {
  /** Trust this issuer instead of creating a Cognito user pool. It must grant the scopes in `lambdas/core/scopes.ts`. */
  externalIssuer?: ExternalIssuer;
  /**
   * The Cognito prefix domain (`{prefix}.auth.{region}.amazoncognito.com`), unique per region across all accounts.
   * Default: `dossier-{hash of this construct's path}-{account}`.
   */
  domainPrefix?: string;
  /** Default false: the pool holds no users, only the machine client, so losing it costs a new client id and secret. */
  deletionProtection?: boolean;
  /** Default DESTROY, for the same reason. */
  removalPolicy?: RemovalPolicy;
  /** Default one hour. */
  accessTokenValidity?: Duration;
}

export class Identity extends Construct {
  /** The `iss` of accepted tokens. */
  readonly issuer: string;
  /** Undefined only for an external issuer given without one: then it is discovered at run time. */
  readonly jwksUrl?: string;
  /** Where clients get tokens (client-credentials grant). */
  readonly tokenUrl?: string;
  /** The accepted audience: the Cognito app client id, or the external issuer's audience. */
  readonly audience: string;
  readonly scopes: readonly Scope[] = ALL_SCOPES;
  readonly userPool?: UserPool;
  readonly client?: UserPoolClient;
  readonly domain?: UserPoolDomain;

  constructor(scope: Construct, id: string, props: IdentityProps = {}) {
    super(scope, id);

    if (props.externalIssuer) {
      this.issuer = props.externalIssuer.issuerUrl;
      this.audience = props.externalIssuer.audience;
      this.jwksUrl = props.externalIssuer.jwksUrl;
      this.tokenUrl = props.externalIssuer.tokenUrl;
      return;
    }

    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      // Machines only: no user ever signs in, so no recovery messages and no paid threat protection.
      accountRecovery: AccountRecovery.NONE,
      featurePlan: FeaturePlan.LITE,
      // No user has a password today; should someone ever add one by hand, it has to be a strong one.
      passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
      deletionProtection: props.deletionProtection ?? false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason: 'Machines only: the one client uses the client-credentials grant, which has no second factor, and no user signs in (self sign-up off, no user flows)',
      },
      {
        id: 'AwsSolutions-COG8',
        reason: "The Plus plan's threat protection watches user sign-ins, and this pool has none; client-credentials tokens are checked by issuer, audience and scope",
      },
    );

    const scopes = ALL_SCOPES.map((s) => new ResourceServerScope({ scopeName: scopeName(s), scopeDescription: SCOPE_DESCRIPTIONS[s] }));
    const resourceServer = new UserPoolResourceServer(this, 'ResourceServer', {
      userPool: this.userPool,
      identifier: RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'Dossier',
      scopes,
    });

    this.client = new UserPoolClient(this, 'MachineClient', {
      userPool: this.userPool,
      userPoolClientName: 'dossier-machine',
      generateSecret: true,
      // Every user flow off; Cognito keeps only ALLOW_REFRESH_TOKEN_AUTH, which client credentials never use.
      authFlows: { user: false, userPassword: false, userSrp: false, adminUserPassword: false, custom: false },
      oAuth: {
        flows: { clientCredentials: true },
        scopes: scopes.map((s) => OAuthScope.resourceServer(resourceServer, s)),
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      accessTokenValidity: props.accessTokenValidity ?? Duration.hours(1),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });

    // CDK accepts tokens here (it validates only resolved prefixes). The account makes the default unique across
    // accounts; the hash of this construct's path (stack name included) tells two stacks of one account apart.
    // Hex digits and an account number cannot spell the words Cognito reserves (aws, amazon, cognito).
    const domainPrefix = props.domainPrefix ?? `dossier-${Names.uniqueId(this).slice(-8).toLowerCase()}-${Stack.of(this).account}`;
    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix } });

    this.issuer = `https://cognito-idp.${Stack.of(this).region}.${Aws.URL_SUFFIX}/${this.userPool.userPoolId}`;
    this.jwksUrl = `${this.issuer}/.well-known/jwks.json`;
    this.tokenUrl = `${this.domain.baseUrl()}/oauth2/token`;
    this.audience = this.client.userPoolClientId;
  }

  /** What a function needs to verify tokens: AUTH_ISSUER, AUTH_AUDIENCE and, when known, AUTH_JWKS_URL. */
  environment(): Record<string, string> {
    return {
      AUTH_ISSUER: this.issuer,
      AUTH_AUDIENCE: this.audience,
      ...(this.jwksUrl ? { AUTH_JWKS_URL: this.jwksUrl } : {}),
    };
  }
}

/**
 * The REST API's token authorizer: the project's one identity (lambdas/shared/identity.ts) at API Gateway.
 * A missing or bad token is 401 (API Gateway's "Unauthorized", with a Bearer challenge from the gateway response);
 * a valid token gets a policy opening the routes its scopes allow, and the handlers get who the caller is.
 */
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { ANY_API_SCOPE, parseMethodArn, policyFor } from '../core/api-access';
import { AuthError, createTokenVerifier, identityConfigFromEnvironment, type TokenVerifier } from '../shared/identity';
import { logger } from '../shared/observability';

let verifier: TokenVerifier | undefined;

export const handler = async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  verifier ??= createTokenVerifier(identityConfigFromEnvironment());
  const { stageArn } = parseMethodArn(event.methodArn);
  try {
    const principal = await verifier.verify(event.authorizationToken, ANY_API_SCOPE);
    return {
      principalId: principal.subject,
      policyDocument: policyFor(stageArn, principal.scopes),
      // What the handlers read from requestContext.authorizer: strings only.
      context: { sub: principal.subject, client_id: principal.clientId ?? '', scope: principal.scopes.join(' ') },
    };
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    if (error.status === 403) {
      return { principalId: 'unknown', policyDocument: policyFor(stageArn, []), context: { reason: error.description } };
    }
    logger.info('token refused', { reason: error.description });
    // The one answer API Gateway turns into a 401.
    throw new Error('Unauthorized');
  }
};

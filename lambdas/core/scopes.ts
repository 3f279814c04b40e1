/**
 * The OAuth scopes of Dossier, in one place: the identity construct declares them on the Cognito resource
 * server, the agent cards advertise them, and each function asks the verifier for the one it needs.
 */

/** Cognito's resource server identifier; a scope's full name is `<identifier>/<name>`. */
export const RESOURCE_SERVER_ID = 'dossier';

export const SCOPES = {
  research: `${RESOURCE_SERVER_ID}/research`,
  read: `${RESOURCE_SERVER_ID}/read`,
} as const;

export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

export const ALL_SCOPES: readonly Scope[] = Object.values(SCOPES);

/** Shown in Cognito and on the agent cards' security scheme. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  [SCOPES.research]: 'call the agents and submit research',
  [SCOPES.read]: 'read tasks and jobs',
};

/** The part after `dossier/`: what Cognito calls the scope's name within its resource server. */
export function scopeName(scope: Scope): string {
  return scope.slice(RESOURCE_SERVER_ID.length + 1);
}

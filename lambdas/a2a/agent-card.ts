/**
 * Agent cards, built from the catalog. The v1.0 card is written in the protocol's JSON form and parsed by the
 * SDK (its internal objects use `$case` shapes that must never reach the wire); v0.3 clients get the older card
 * shape with the v1.0 interfaces embedded, so either kind of client can discover the agent from the same URL.
 */
import { AgentCard } from '@a2a-js/sdk';
import { z } from 'zod';
import { SCOPES, SCOPE_DESCRIPTIONS } from '../core/scopes';
import type { AgentDescription, SkillContract } from './agent-catalog';

export const A2A_PROTOCOL_VERSION = '1.0';
export const A2A_LEGACY_PROTOCOL_VERSION = '0.3';
export const DOSSIER_VERSION = '0.2.0';

/** The card extension under which each skill's input and output JSON Schemas are published. */
export const SKILL_SCHEMAS_EXTENSION = 'urn:dossier:a2a:skill-schemas:v1';
export const SECURITY_SCHEME = 'dossier_oauth';

export interface CardIdentity {
  /** OAuth2 token endpoint for the client-credentials flow. */
  tokenUrl: string;
  /** Who runs this deployment; the card names no provider when it is not configured. */
  provider?: { organization: string; url: string };
}

/** JSON Schemas of a skill's contract; `io` picks what a caller sends (defaults optional) or receives. */
export function skillSchemas(skill: SkillContract): { input_schema: unknown; output_schema: unknown } {
  return {
    input_schema: z.toJSONSchema(skill.input, { io: 'input', unrepresentable: 'any' }),
    output_schema: z.toJSONSchema(skill.output, { io: 'output', unrepresentable: 'any' }),
  };
}

/** The card in A2A v1.0 protocol JSON. `url` is where this agent's JSON-RPC endpoint is reachable. */
export function agentCardJson(agent: AgentDescription, url: string, identity: CardIdentity) {
  return {
    name: agent.name,
    description: agent.description,
    version: DOSSIER_VERSION,
    ...(identity.provider ? { provider: identity.provider } : {}),
    supportedInterfaces: [
      { url, protocolBinding: 'JSONRPC', protocolVersion: A2A_PROTOCOL_VERSION },
      { url, protocolBinding: 'JSONRPC', protocolVersion: A2A_LEGACY_PROTOCOL_VERSION },
    ],
    capabilities: {
      streaming: agent.streaming,
      pushNotifications: true,
      extensions: [
        {
          uri: SKILL_SCHEMAS_EXTENSION,
          description: "JSON Schemas of each skill's input (a data part of the message) and output (a data part of the artifact).",
          required: false,
          params: Object.fromEntries(agent.skills.map((skill) => [skill.id, skillSchemas(skill)])),
        },
      ],
    },
    securitySchemes: {
      [SECURITY_SCHEME]: {
        oauth2SecurityScheme: {
          description: 'OAuth 2.0 client credentials: send the access token as "Authorization: Bearer <token>".',
          flows: {
            clientCredentials: {
              tokenUrl: identity.tokenUrl,
              scopes: { ...SCOPE_DESCRIPTIONS },
            },
          },
        },
      },
    },
    securityRequirements: [{ schemes: { [SECURITY_SCHEME]: { list: [SCOPES.research] } } }],
    defaultInputModes: ['application/json', 'text/plain'],
    defaultOutputModes: ['application/json'],
    skills: agent.skills.map((skill) => ({
      id: skill.id,
      name: skill.name,
      description: skill.description,
      tags: skill.tags,
      examples: skill.examples,
      inputModes: ['application/json', 'text/plain'],
      outputModes: ['application/json'],
    })),
  };
}

/** The SDK's internal form of the v1.0 card, for its request handler. */
export function agentCard(agent: AgentDescription, url: string, identity: CardIdentity): AgentCard {
  return AgentCard.fromJSON(agentCardJson(agent, url, identity));
}

/** The v0.3 card shape (url, preferredTransport, typed security schemes), with the v1.0 interfaces embedded. */
export function legacyAgentCardJson(agent: AgentDescription, url: string, identity: CardIdentity) {
  const card = agentCardJson(agent, url, identity);
  const scheme = card.securitySchemes[SECURITY_SCHEME].oauth2SecurityScheme;
  return {
    protocolVersion: '0.3.0',
    name: card.name,
    description: card.description,
    version: card.version,
    ...(card.provider ? { provider: card.provider } : {}),
    url,
    preferredTransport: 'JSONRPC',
    capabilities: card.capabilities,
    securitySchemes: { [SECURITY_SCHEME]: { type: 'oauth2', description: scheme.description, flows: scheme.flows } },
    security: [{ [SECURITY_SCHEME]: [SCOPES.research] }],
    defaultInputModes: card.defaultInputModes,
    defaultOutputModes: card.defaultOutputModes,
    skills: card.skills,
    supportedInterfaces: card.supportedInterfaces,
  };
}

/** The cards' `provider`: named only when the deployment says who runs it, in both card shapes. */
import { AgentCard } from '@a2a-js/sdk';
import { describe, expect, it } from 'vitest';
import { researchAgent } from '../../lambdas/a2a/agent-catalog';
import { agentCardJson, legacyAgentCardJson } from '../../lambdas/a2a/agent-card';

const url = 'https://agent.example/';
const tokenUrl = 'https://auth.example/oauth2/token';

describe('the agent card provider', () => {
  it('is left out when the deployment names none (the protocol needs both a name and a URL)', () => {
    const card = agentCardJson(researchAgent, url, { tokenUrl });
    expect(card).not.toHaveProperty('provider');
    expect(legacyAgentCardJson(researchAgent, url, { tokenUrl })).not.toHaveProperty('provider');
    expect(() => AgentCard.fromJSON(card)).not.toThrow();
  });

  it('names the configured organization and its URL in both shapes', () => {
    const provider = { organization: 'Acme Research', url: 'https://acme.example' };
    expect(AgentCard.fromJSON(agentCardJson(researchAgent, url, { tokenUrl, provider })).provider).toEqual(provider);
    expect(legacyAgentCardJson(researchAgent, url, { tokenUrl, provider }).provider).toEqual(provider);
  });
});

/**
 * The demo A2A agent on its own: its card follows the public URL, callers are anonymous
 * without authentication, and with it the audience is the public URL.
 */
import {describe, expect, it} from 'vitest';
import {startDemoA2aAgent, startGoogleEmulator} from '../../src/emulator/index.js';
import {jsonRpcSend} from './support/sdk-server.js';

describe('startDemoA2aAgent', () => {
  it('checks its options', async () => {
    await expect(startDemoA2aAgent({port: -1})).rejects.toThrow(/options.port must be an integer/);
    await expect(startDemoA2aAgent({publicUrl: 'http://127.0.0.1:1/path'})).rejects.toThrow(
      /publicUrl must be an http\(s\) origin without a path/,
    );
  });

  it('without authentication every caller is anonymous; the card names the public URL', async () => {
    const agent = await startDemoA2aAgent();
    try {
      const card = (await (await fetch(`${agent.origin}/.well-known/agent-card.json`)).json()) as {
        url: string;
      };
      expect(card.url).toBe(`${agent.origin}/jsonrpc`);
      agent.setPublicUrl('https://agent.example.com');
      const moved = (await (await fetch(`${agent.origin}/.well-known/agent-card.json`)).json()) as {
        url: string;
      };
      expect(moved.url).toBe('https://agent.example.com/jsonrpc');
      const reply = await fetch(`${agent.origin}/jsonrpc`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: jsonRpcSend('hi'),
      });
      expect(
        ((await reply.json()) as {result: {parts: Array<{text: string}>}}).result.parts[0]?.text,
      ).toBe('anonymous said: hi');
      expect(agent.stats).toMatchObject({messages: 1, lastCaller: 'anonymous'});
    } finally {
      await agent.close();
    }
  });

  it('with authentication the audience is the public URL', async () => {
    const emu = await startGoogleEmulator();
    const agent = await startDemoA2aAgent({authentication: {jwksUrl: emu.jwksUrl}});
    try {
      const send = async (audience: string) =>
        fetch(`${agent.origin}/jsonrpc`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${await emu.mintIdToken({audience, email: 'a@p.iam.gserviceaccount.com'})}`,
          },
          body: jsonRpcSend('hi'),
        });
      expect((await send(agent.origin)).status).toBe(200);
      agent.setPublicUrl('https://agent.example.com');
      expect((await send(agent.origin)).status).toBe(401);
      expect((await send('https://agent.example.com')).status).toBe(200);
      expect(agent.stats).toMatchObject({messages: 2, lastCaller: 'a@p.iam.gserviceaccount.com'});
    } finally {
      await agent.close();
      await emu.close();
    }
  });
});

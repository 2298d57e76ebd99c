/**
 * What `a2a card` and `a2a send` do: the same credential options, output rules and exit codes
 * as the MCP commands, over `googleA2aClientFactory`.
 */
import {randomUUID} from 'node:crypto';
import {
  authFromOptions,
  CliError,
  createLogger,
  ExitCode,
  parseTargetUrl,
  type CommonOptions,
} from '../common.js';
import {printJson, printLines} from '../format.js';
import type {A2aSendOptions} from './a2a.js';
import {cardLines, failedState, replyText} from './a2a-output.js';
import {openA2aSession} from './a2a-session.js';

/** `a2a card <url>`. */
export async function a2aCardAction(url: string, opts: CommonOptions): Promise<void> {
  const log = createLogger({verbose: opts.verbose === true});
  const target = parseTargetUrl(url);
  const auth = authFromOptions(opts, url);
  const session = await openA2aSession(target, auth, log);
  let card: Awaited<ReturnType<typeof session.factory.fetchAgentCard>>;
  try {
    card = await session.factory.fetchAgentCard();
  } catch (error) {
    throw session.translate(error);
  }
  if (opts.json) printJson(card);
  else printLines(...cardLines(card));
}

/** `a2a send <url> --message TEXT`. */
export async function a2aSendAction(url: string, opts: A2aSendOptions): Promise<number> {
  const log = createLogger({verbose: opts.verbose === true});
  const target = parseTargetUrl(url);
  if (opts.message.trim() === '') {
    throw new CliError('--message is empty.', ExitCode.USAGE, {hint: 'e.g. --message "hello"'});
  }
  const auth = authFromOptions(opts, url);
  const session = await openA2aSession(target, auth, log);
  let result: Awaited<
    ReturnType<Awaited<ReturnType<typeof session.factory.createClient>>['sendMessage']>
  >;
  try {
    const client = await session.factory.createClient();
    result = await client.sendMessage({
      message: {
        kind: 'message',
        messageId: randomUUID(),
        role: 'user',
        parts: [{kind: 'text', text: opts.message}],
      },
    });
  } catch (error) {
    throw session.translate(error);
  }
  if (opts.json) printJson(result);
  else {
    const text = replyText(result);
    if (text !== '') printLines(text);
  }
  const failed = failedState(result);
  if (failed) {
    log.error(`The agent's task ended ${failed}.`);
    return ExitCode.REMOTE;
  }
  return ExitCode.OK;
}

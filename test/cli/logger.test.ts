import {Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {createLogger} from '../../src/cli/logger.js';

function sink(isTTY: boolean): Writable & {isTTY: boolean; text: () => string} {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  }) as Writable & {isTTY: boolean; text: () => string};
  stream.isTTY = isTTY;
  stream.text = () => text;
  return stream;
}

describe('createLogger', () => {
  it('writes plain lines off a terminal and debug lines only when verbose', () => {
    const quiet = sink(false);
    const log = createLogger({stream: quiet, env: {}});
    log.warn('careful');
    log.debug('hidden');
    const step = log.progress('working');
    step.done(true, 'done');
    expect(quiet.text()).toBe('warning: careful\n');

    const loud = sink(false);
    const verbose = createLogger({stream: loud, verbose: true, env: {}});
    verbose.debug('shown');
    verbose.progress('working').done(false, 'broke');
    expect(loud.text()).toBe('shown\n… working\nfailed: broke\n');
  });

  it('animates on a terminal and honours NO_COLOR', () => {
    const tty = sink(true);
    const log = createLogger({stream: tty, env: {NO_COLOR: '1'}});
    expect(log.color).toBe(false);
    log.progress('probing').done(true, 'reachable');
    expect(tty.text()).toContain('probing');
    expect(tty.text()).toContain('✔ reachable\n');
    expect(tty.text()).not.toContain('\u001b[32m');
  });
});

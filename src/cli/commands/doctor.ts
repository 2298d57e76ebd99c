/**
 * `mcp-google-auth doctor <url>`: the definition only (what `--help` shows). The action,
 * which loads google-auth-library, is imported when the command runs.
 */
import type {Command} from 'commander';
import type {DoctorCommandOptions} from '../actions/doctor.js';
import {addCommonOptions} from '../options.js';
import {runAction} from '../run-action.js';

/** Registers `doctor` on the program. */
export function registerDoctorCommand(program: Command): void {
  const cmd = program
    .command('doctor')
    .description(
      'Explain step by step whether the credential can call the URL: credential, audience, token claims, probes, diagnosis',
    )
    .argument('<url>', 'the MCP endpoint, e.g. https://svc-abc.a.run.app/mcp')
    .option(
      '--unsafe-send-access-token',
      'UNSAFE: also send a Google access token (scopes openid, userinfo.email) to a host beyond this machine, ' +
        'to compare how it answers; that host can then act as you on those scopes (https only; default: only to 127.0.0.1/localhost)',
    );
  addCommonOptions(cmd).action(
    runAction(async (url: string, opts: DoctorCommandOptions) =>
      (await import('../actions/doctor.js')).doctorAction(url, opts),
    ),
  );
}

/**
 * A stand-in for the Google Cloud CLI, for tests: `gcloud auth print-identity-token` with
 * `--account`, `--audiences`, `--include-email` and `--impersonate-service-account`, minted
 * through the Google emulator at GOOGLE_AUTH_EMULATOR_HOST exactly as gcloud mints through
 * Google (refresh-token grant of gcloud's OAuth client for users, JWT-bearer grant for an
 * activated service-account key, IAM Credentials generateIdToken for impersonation), with
 * gcloud's own refusals and error texts.
 *
 * State lives in CLOUDSDK_CONFIG, laid out like gcloud's: `credentials.db` (here JSON, not
 * SQLite: `{accounts: {EMAIL: {type, ...}}}`), `active_config` and
 * `configurations/config_NAME` (`account = EMAIL`). Every run appends its arguments to
 * `fake-gcloud-runs.log` there, so tests can count runs.
 *
 * Test knobs (environment): MGA_FAKE_GCLOUD_HANG=1 never answers (timeouts);
 * MGA_FAKE_GCLOUD_FLOOD=1 prints 1 MiB on stdout; MGA_FAKE_GCLOUD_STDERR=TEXT fails with
 * TEXT on stderr (exit 1).
 */
import {createSign} from 'node:crypto';
import {appendFileSync, existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';

const GCLOUD_CLIENT_ID = '32555940559.apps.googleusercontent.com';
const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

const argv = process.argv.slice(2);
const configDir = process.env.CLOUDSDK_CONFIG;
if (!configDir)
  fail('fake gcloud: CLOUDSDK_CONFIG must be set (the fake never reads a real home)', 2);
appendFileSync(join(configDir, 'fake-gcloud-runs.log'), `${JSON.stringify(argv)}\n`);

if (process.env.MGA_FAKE_GCLOUD_HANG === '1') {
  setInterval(() => {}, 60_000);
} else if (process.env.MGA_FAKE_GCLOUD_FLOOD === '1') {
  process.stdout.write('x'.repeat(1024 * 1024));
} else if (process.env.MGA_FAKE_GCLOUD_STDERR) {
  fail(process.env.MGA_FAKE_GCLOUD_STDERR);
} else {
  main().catch((error) => fail(`ERROR: (gcloud) fake gcloud crashed: ${error?.message ?? error}`));
}

async function main() {
  const positional = argv.filter((arg) => !arg.startsWith('--'));
  const flags = new Map();
  for (const arg of argv.filter((a) => a.startsWith('--'))) {
    const at = arg.indexOf('=');
    flags.set(at < 0 ? arg.slice(2) : arg.slice(2, at), at < 0 ? true : arg.slice(at + 1));
  }
  if (positional[0] !== 'auth' || positional[1] !== 'print-identity-token') {
    fail(`ERROR: (gcloud) Invalid choice: '${positional.join(' ')}'.`, 2);
  }
  const command = '(gcloud.auth.print-identity-token)';
  const store = readStore();
  const account = flags.get('account') ?? positional[2] ?? activeAccount();
  if (!account) {
    fail(
      `ERROR: ${command} You do not currently have an active account selected.\nPlease run:\n\n  $ gcloud auth login\n\nto obtain new credentials.\n\nIf you have already logged in with a different account, run:\n\n  $ gcloud config set account ACCOUNT\n\nto select an already authenticated account to use.`,
    );
  }
  const cred = store.accounts?.[account];
  if (!cred) {
    fail(
      `ERROR: ${command} Your current active account [${account}] does not have any valid credentials\nPlease run:\n\n  $ gcloud auth login\n\nto obtain new credentials.`,
    );
  }
  const impersonation = flags.get('impersonate-service-account');
  const audiences = flags.get('audiences');
  if (impersonation) {
    process.stderr.write(
      `WARNING: This command is using service account impersonation. All API calls will be executed as [${impersonation.split(',').at(-1)}].\n`,
    );
  }
  if (audiences !== undefined && !impersonation && cred.type !== 'service_account') {
    fail(
      `ERROR: ${command} Invalid account type for \`--audiences\`. Requires valid service account.`,
    );
  }
  if (flags.has('include-email') && !impersonation) {
    fail(
      `ERROR: ${command} Invalid account type for \`--include-email\`. Requires an impersonate service account.`,
    );
  }
  const audience = typeof audiences === 'string' ? audiences : GCLOUD_CLIENT_ID;
  let token;
  if (impersonation) {
    const chain = impersonation.split(',').map((s) => s.trim());
    const target = chain.at(-1);
    const caller = await accessToken(cred, command, account);
    const response = await post(
      `/v1/projects/-/serviceAccounts/${encodeURIComponent(target)}:generateIdToken`,
      JSON.stringify({
        audience,
        includeEmail: flags.has('include-email'),
        delegates: chain.slice(0, -1).map((d) => `projects/-/serviceAccounts/${d}`),
      }),
      {'content-type': 'application/json', authorization: `Bearer ${caller}`},
    );
    if (!response.ok) {
      fail(
        `ERROR: ${command} Failed to impersonate [${target}]. Make sure the account that's trying to impersonate it has access to the service account itself and the "roles/iam.serviceAccountTokenCreator" role.`,
      );
    }
    token = response.json.token;
  } else if (cred.type === 'service_account') {
    const response = await post(
      '/token',
      form({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: assertion(cred, {target_audience: audience}),
      }),
    );
    if (!response.ok) refreshFailed(command, response.json, account, true);
    token = response.json.id_token;
  } else {
    const response = await refresh(cred);
    if (!response.ok) refreshFailed(command, response.json, account, false);
    token = response.json.id_token;
  }
  process.stdout.write(`${token}\n`);
}

function readStore() {
  const path = join(configDir, 'credentials.db');
  if (!existsSync(path)) return {accounts: {}};
  return JSON.parse(readFileSync(path, 'utf8'));
}

function activeAccount() {
  if (process.env.CLOUDSDK_CORE_ACCOUNT) return process.env.CLOUDSDK_CORE_ACCOUNT;
  const activeConfig = join(configDir, 'active_config');
  const name =
    process.env.CLOUDSDK_ACTIVE_CONFIG_NAME ||
    (existsSync(activeConfig) ? readFileSync(activeConfig, 'utf8').trim() : '') ||
    'default';
  const path = join(configDir, 'configurations', `config_${name}`);
  if (!existsSync(path)) return undefined;
  const match = /^\s*account\s*=\s*(\S+)\s*$/m.exec(readFileSync(path, 'utf8'));
  return match?.[1];
}

async function accessToken(cred, command, account) {
  if (cred.type === 'service_account') {
    const response = await post(
      '/token',
      form({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: assertion(cred, {scope: CLOUD_PLATFORM}),
      }),
    );
    if (!response.ok) refreshFailed(command, response.json, account, true);
    return response.json.access_token;
  }
  const response = await refresh(cred);
  if (!response.ok) refreshFailed(command, response.json, account, false);
  return response.json.access_token;
}

function refresh(cred) {
  return post(
    '/token',
    form({
      grant_type: 'refresh_token',
      client_id: cred.client_id,
      client_secret: cred.client_secret,
      refresh_token: cred.refresh_token,
    }),
  );
}

function refreshFailed(command, body, account, isServiceAccount) {
  const error = `('${body?.error ?? 'error'}: ${body?.error_description ?? 'Bad Request'}', {'error': '${body?.error ?? 'error'}', 'error_description': '${body?.error_description ?? 'Bad Request'}'})`;
  const login = isServiceAccount
    ? '$ gcloud auth activate-service-account --key-file=SERVICE_ACCOUNT_FILE_PATH'
    : '$ gcloud auth login';
  fail(
    `ERROR: ${command} There was a problem refreshing auth tokens for account ${account}: ${error}\nPlease run:\n\n  ${login}\n\nto obtain new credentials.`,
  );
}

function assertion(cred, claims) {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = encode({alg: 'RS256', typ: 'JWT', kid: cred.private_key_id});
  const payload = encode({
    iss: cred.client_email,
    aud: TOKEN_URL,
    iat: now,
    exp: now + 3600,
    ...claims,
  });
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(cred.private_key);
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

function form(fields) {
  return {
    body: new URLSearchParams(fields).toString(),
    headers: {'content-type': 'application/x-www-form-urlencoded'},
  };
}

async function post(path, body, headers) {
  const host = process.env.GOOGLE_AUTH_EMULATOR_HOST;
  if (!host)
    fail('ERROR: (gcloud) fake gcloud: GOOGLE_AUTH_EMULATOR_HOST must name the Google emulator', 2);
  const request = typeof body === 'object' ? body : {body, headers};
  const response = await fetch(`http://${host}${path}`, {method: 'POST', ...request});
  let json;
  try {
    json = await response.json();
  } catch {
    json = undefined;
  }
  return {ok: response.ok, status: response.status, json};
}

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/**
 * The fake gcloud CLI (./fake-gcloud.mjs behind the ./bin/gcloud launcher) for tests: a
 * configuration directory of its own, logins made through the Google emulator, and the
 * environment that puts it first on PATH (or leaves gcloud out, as if not installed).
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {delimiter, dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {
  EmulatorGcloudUser,
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../../../src/emulator/index.js';

/** The directory holding the `gcloud` launcher. */
export const FAKE_GCLOUD_BIN = join(dirname(fileURLToPath(import.meta.url)), 'bin');

/** A fake gcloud installation with its own configuration directory. */
export interface FakeGcloud {
  /** `CLOUDSDK_CONFIG` of this fake. */
  readonly configDir: string;
  /**
   * The environment that runs this fake: `PATH` with the launcher first (none when
   * `installed` is false), `CLOUDSDK_CONFIG`, and `GOOGLE_AUTH_EMULATOR_HOST` (the fake's
   * Google), over `base` (default: `process.env`).
   */
  env(options?: {installed?: boolean; base?: NodeJS.ProcessEnv}): NodeJS.ProcessEnv;
  /** `gcloud auth login`: a new user of gcloud's client in the emulator, made the active account unless `active` is false. */
  login(options?: {email?: string; active?: boolean}): Promise<EmulatorGcloudUser>;
  /** `gcloud auth activate-service-account --key-file`, made the active account unless `active` is false. */
  activateServiceAccount(key: EmulatorServiceAccountKey, options?: {active?: boolean}): void;
  /** `gcloud config set account` (undefined unsets it). */
  setActiveAccount(email: string | undefined): void;
  /** `gcloud auth revoke`: forgets the account's credentials. */
  logout(email: string): void;
  /** How many times gcloud ran. */
  runs(): number;
  /** The arguments of every run, oldest first. */
  runArgs(): string[][];
  /** Removes the configuration directory. */
  remove(): void;
}

interface Store {
  accounts: Record<string, Record<string, string>>;
}

/**
 * A fake gcloud whose logins live in `emulator`.
 *
 * @example
 * const gcloud = createFakeGcloud(emulator);
 * const user = await gcloud.login();
 * const source = createTokenSource({useGcloudCredential: true}, {env: gcloud.env()});
 */
export function createFakeGcloud(emulator: GoogleEmulator): FakeGcloud {
  const configDir = mkdtempSync(join(tmpdir(), 'mga-fake-gcloud-'));
  const storePath = join(configDir, 'credentials.db');
  const runsPath = join(configDir, 'fake-gcloud-runs.log');
  const read = (): Store =>
    existsSync(storePath) ? (JSON.parse(readFileSync(storePath, 'utf8')) as Store) : {accounts: {}};
  const write = (store: Store) => writeFileSync(storePath, JSON.stringify(store), {mode: 0o600});
  const setActiveAccount = (email: string | undefined) => {
    mkdirSync(join(configDir, 'configurations'), {recursive: true});
    writeFileSync(join(configDir, 'active_config'), 'default');
    writeFileSync(
      join(configDir, 'configurations', 'config_default'),
      email === undefined ? '[core]\n' : `[core]\naccount = ${email}\n`,
    );
  };
  const runArgs = (): string[][] =>
    existsSync(runsPath)
      ? readFileSync(runsPath, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as string[])
      : [];
  return {
    configDir,
    env({installed = true, base = process.env} = {}) {
      const clean = Object.fromEntries(
        Object.entries(base).filter(([name]) => !name.startsWith('MGA_FAKE_GCLOUD_')),
      );
      // Not installed: a PATH with nothing on it, so no real gcloud on the machine is found either.
      const emptyBin = join(configDir, 'empty-bin');
      mkdirSync(emptyBin, {recursive: true});
      return {
        ...clean,
        PATH: installed ? [FAKE_GCLOUD_BIN, base.PATH ?? ''].join(delimiter) : emptyBin,
        CLOUDSDK_CONFIG: configDir,
        GOOGLE_AUTH_EMULATOR_HOST: emulator.host,
        MGA_FAKE_GCLOUD_NODE: process.execPath,
      };
    },
    async login({email, active = true} = {}) {
      const user = await emulator.createGcloudUser(email === undefined ? {} : {email});
      const store = read();
      store.accounts[user.email] = {
        type: 'authorized_user',
        client_id: user.clientId,
        client_secret: user.clientSecret,
        refresh_token: user.refreshToken,
      };
      write(store);
      if (active) setActiveAccount(user.email);
      return user;
    },
    activateServiceAccount(key, {active = true} = {}) {
      const store = read();
      store.accounts[key.email] = {...key.json, type: 'service_account'};
      write(store);
      if (active) setActiveAccount(key.email);
    },
    setActiveAccount,
    logout(email) {
      const store = read();
      delete store.accounts[email];
      write(store);
    },
    runs: () => runArgs().length,
    runArgs,
    remove() {
      rmSync(configDir, {recursive: true, force: true});
    },
  };
}

/**
 * The GCE/Cloud Run metadata server under `/computeMetadata/v1`: detection, project id,
 * the default service account's email, access token and identity (ID token).
 * Requests must carry `Metadata-Flavor: Google`; every answer carries it.
 */
import {mintIdToken} from './context.js';
import type {EmulatorContext} from './context.js';
import type {EmulatorEndpoint} from './endpoints.js';
import {jsonReply, textReply} from './http.js';
import type {EmulatorReply, EmulatorRequest} from './http.js';

/** The path prefix of the metadata server. */
export const METADATA_PREFIX = '/computeMetadata/v1';

/** Header every metadata request and answer carries. */
export const METADATA_FLAVOR_HEADERS: Readonly<Record<string, string>> = {
  'metadata-flavor': 'Google',
};

/** The scopes of the default service account when a token request names none. */
export const METADATA_DEFAULT_SCOPES = [
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/userinfo.email',
];

const ZONE = 'us-central1-a';

const SA_PATH =
  /^\/instance\/service-accounts\/([^/]+)\/(email|token|identity|scopes|aliases)?\/?$/;

/** The endpoint a metadata path counts under (`path` is below the prefix). */
export function classifyMetadataPath(path: string): EmulatorEndpoint {
  const match = SA_PATH.exec(path);
  if (match?.[2] === 'email') return 'metadata.email';
  if (match?.[2] === 'token') return 'metadata.token';
  if (match?.[2] === 'identity') return 'metadata.identity';
  if (path === '/project' || path.startsWith('/project/')) return 'metadata.project';
  return 'metadata.detect';
}

function text(status: number, body: string): EmulatorReply {
  return textReply(status, body, {...METADATA_FLAVOR_HEADERS}, 'application/text');
}

function notFound(): EmulatorReply {
  return text(404, 'Not Found\n');
}

function serviceAccount(context: EmulatorContext, name: string): string | undefined {
  const decoded = decodeURIComponent(name);
  return decoded === 'default' || decoded === context.metadataServiceAccount
    ? context.metadataServiceAccount
    : undefined;
}

function accountEntry(
  context: EmulatorContext,
  request: EmulatorRequest,
  email: string,
  leaf: string | undefined,
): EmulatorReply {
  const query = request.url.searchParams;
  switch (leaf) {
    case 'email':
      return text(200, email);
    case 'aliases':
      return text(200, 'default\n');
    case 'scopes':
      return text(200, `${METADATA_DEFAULT_SCOPES.join('\n')}\n`);
    case 'token': {
      const requested = (query.get('scopes') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const scopes = requested.length > 0 ? requested : METADATA_DEFAULT_SCOPES;
      const lifetime = context.tokenLifetimeSeconds();
      const accessToken = context.identities.issueAccessToken({
        email,
        kind: 'metadata',
        scopes,
        expiresAt: context.now() + lifetime * 1000,
      });
      return jsonReply(
        200,
        {access_token: accessToken, expires_in: lifetime, token_type: 'Bearer'},
        {...METADATA_FLAVOR_HEADERS},
      );
    }
    case 'identity': {
      const audience = query.get('audience') ?? '';
      if (audience === '') return text(400, 'non-empty audience parameter required\n');
      const full = query.get('format') === 'full';
      const claims = full
        ? {
            google: {
              compute_engine: {
                instance_creation_timestamp: 1_700_000_000,
                instance_id: context.identities
                  .numericId(`instance:${context.projectId}`)
                  .slice(0, 19),
                instance_name: 'emulator-instance',
                project_id: context.projectId,
                project_number: Number(context.projectNumber),
                zone: ZONE,
              },
            },
          }
        : undefined;
      return text(200, mintIdToken(context, {email, audience, ...(claims ? {claims} : {})}));
    }
    default:
      if (query.get('recursive') === 'true') {
        return jsonReply(
          200,
          {aliases: ['default'], email, scopes: METADATA_DEFAULT_SCOPES},
          {...METADATA_FLAVOR_HEADERS},
        );
      }
      return text(200, 'aliases\nemail\nidentity\nscopes\ntoken\n');
  }
}

/** Handles `GET /computeMetadata/v1/...`. */
export function handleMetadata(context: EmulatorContext, request: EmulatorRequest): EmulatorReply {
  if (request.headers['metadata-flavor'] !== 'Google') {
    return text(403, 'Missing required header: Metadata-Flavor: Google\n');
  }
  if (request.method !== 'GET') return text(405, 'Method Not Allowed\n');
  const path = request.url.pathname.slice(METADATA_PREFIX.length);
  const account = SA_PATH.exec(path);
  if (account) {
    const email = serviceAccount(context, account[1] ?? '');
    return email ? accountEntry(context, request, email, account[2]) : notFound();
  }
  switch (path.replace(/\/+$/, '')) {
    case '':
      return text(200, 'instance/\noauth2/\nproject/\nuniverse/\n');
    case '/instance':
      return text(200, 'attributes/\nhostname\nid\nname\nservice-accounts/\nzone\n');
    case '/instance/service-accounts':
      return text(200, `default/\n${context.metadataServiceAccount}/\n`);
    case '/instance/id':
      return text(200, context.identities.numericId(`instance:${context.projectId}`).slice(0, 19));
    case '/instance/name':
      return text(200, 'emulator-instance');
    case '/instance/hostname':
      return text(200, `emulator-instance.${ZONE}.c.${context.projectId}.internal`);
    case '/instance/zone':
      return text(200, `projects/${context.projectNumber}/zones/${ZONE}`);
    case '/project':
      return text(200, 'numeric-project-id\nproject-id\n');
    case '/project/project-id':
      return text(200, context.projectId);
    case '/project/numeric-project-id':
      return text(200, context.projectNumber);
    case '/universe/universe-domain':
      return text(200, 'googleapis.com');
    default:
      return notFound();
  }
}

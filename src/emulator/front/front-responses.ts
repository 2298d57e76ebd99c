import type {ServerResponse} from 'node:http';

/** Which Google front a gateway imitates. */
export type FrontMode = 'cloud-run' | 'iap';

/** The refusals a gateway answers itself, before anything reaches the container. */
export type FrontRefusal = 401 | 403 | 502 | 503;

const TITLES: Record<FrontRefusal, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sentence(status: FrontRefusal, path: string): string {
  switch (status) {
    case 401:
      return `Your client does not have permission to the requested URL <code>${path}</code>.`;
    case 403:
      return `Your client does not have permission to get URL <code>${path}</code> from this server.`;
    case 502:
      return `The server encountered a temporary error and could not complete your request.`;
    case 503:
      return `The service is temporarily unable to check credentials. Please try again later.`;
  }
}

/**
 * Answers a refusal the way Google's front does: for Cloud Run a small HTML page (title
 * `401 Unauthorized`, `403 Forbidden`, ...) naming only the request path; for IAP a text
 * line (`Invalid IAP credentials: ...` on 401). A 401 carries
 * `WWW-Authenticate: Bearer error="invalid_token"`. Bodies never contain a token.
 */
export function sendFrontRefusal(
  res: ServerResponse,
  status: FrontRefusal,
  options: {mode: FrontMode; path: string; reason?: string},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {
    'cache-control': 'private',
    'x-content-type-options': 'nosniff',
  };
  if (status === 401) {
    headers['www-authenticate'] =
      'Bearer error="invalid_token" error_description="The access token could not be verified"';
  }
  let body: string;
  if (options.mode === 'iap') {
    // IAP marks the answers it generates itself, so that a client can tell them from the app's.
    headers['x-goog-iap-generated-response'] = 'true';
    headers['content-type'] = 'text/plain; charset=utf-8';
    body =
      status === 401
        ? `Invalid IAP credentials: ${options.reason ?? 'the token could not be verified'}\n`
        : `${status} ${TITLES[status]}: ${options.reason ?? 'the request was refused'}\n`;
  } else {
    headers['content-type'] = 'text/html; charset=UTF-8';
    const path = escapeHtml(options.path);
    body =
      `<html><head>\n<meta http-equiv="content-type" content="text/html;charset=utf-8">\n` +
      `<title>${status} ${TITLES[status]}</title>\n</head>\n<body text=#000000 bgcolor=#ffffff>\n` +
      `<h1>Error: ${TITLES[status]}</h1>\n<h2>${sentence(status, path)}</h2>\n<h2></h2>\n</body></html>\n`;
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(status, headers).end(body);
}

/**
 * What `doctor` says about the audience it chose: where it came from, and the shapes that
 * usually mean a 401 (a path, a custom domain, an IAP client id, another origin).
 */
import type {AudienceSource} from '../common.js';
import {isLoopback} from './access-token-policy.js';

/** One remark about the audience. */
export interface AudienceRemark {
  /** Stable code for `--json`. */
  code: 'path' | 'custom_domain' | 'iap_client_id' | 'other_origin' | 'not_a_url';
  /** One or two sentences. */
  message: string;
}

/** Hosts of Google's fronts whose origin is the audience by default. */
const GOOGLE_FRONT_HOST = /\.(run\.app|cloudfunctions\.net)$/i;
/** An OAuth client id, as IAP wants it. */
const OAUTH_CLIENT_ID = /\.apps\.googleusercontent\.com$/i;

/** Whether `audience` looks like an IAP OAuth client id. */
export function isOAuthClientId(audience: string): boolean {
  return OAUTH_CLIENT_ID.test(audience);
}

/** Why this audience was chosen, in words. */
export function audienceReason(source: AudienceSource | undefined): string {
  return source === 'option'
    ? 'given with --audience'
    : "the URL's origin (Cloud Run's rule: the service URL without its path)";
}

/** The remarks for `audience` used against `url`. */
export function audienceRemarks(audience: string, url: URL): AudienceRemark[] {
  const remarks: AudienceRemark[] = [];
  if (isOAuthClientId(audience)) {
    remarks.push({
      code: 'iap_client_id',
      message:
        'This audience is an OAuth client id: right for a service behind IAP, refused by Cloud Run and Cloud Run functions themselves.',
    });
    return remarks;
  }
  let aud: URL | undefined;
  try {
    aud = new URL(audience);
  } catch {
    remarks.push({
      code: 'not_a_url',
      message:
        'This audience is neither a URL nor an OAuth client id; Cloud Run accepts it only if it is set as a custom audience on the service.',
    });
    return remarks;
  }
  if (aud.origin !== url.origin) {
    remarks.push({
      code: 'other_origin',
      message: `This audience names ${aud.origin}, not the URL's origin ${url.origin}; Cloud Run accepts it only if it is the service's *.run.app URL or a custom audience set on the service.`,
    });
  }
  if (aud.pathname !== '/' || aud.search !== '') {
    remarks.push({
      code: 'path',
      message:
        'This audience has a path: right for Cloud Run functions (1st gen), which want the full function URL, but Cloud Run wants the origin only (no path).',
    });
  }
  const host = url.hostname;
  if (!GOOGLE_FRONT_HOST.test(host) && !isLoopback(host) && aud.origin === url.origin) {
    remarks.push({
      code: 'custom_domain',
      message: `${host} is a custom domain: Cloud Run checks the audience against the service's *.run.app URL (or custom audiences set on the service), so a token for ${url.origin} is refused unless that is one; if you get 401, pass --audience https://SERVICE-HASH.a.run.app (or IAP's OAuth client id behind a load balancer with IAP).`,
    });
  }
  return remarks;
}

// Sign in against an issuer with openid-client (a certified Relying Party) and report as JSON.
//
//   node client.mjs --issuer http://127.0.0.1:5123 --client-id rp --client-secret s3cret \
//     --redirect-uri http://127.0.0.1:5124/cb [--scope "openid profile offline_access"]
//
// The secret may come from OIDC_CLIENT_SECRET instead of argv. Steps:
//   1. discovery; print {"authorization_url": ...} (code flow, PKCE S256, nonce, state) as a line;
//   2. read the redirect back to --redirect-uri from stdin (the test drives the login pages);
//   3. check the authorization response (state, RFC 9207 iss), redeem the code, validate the ID
//      token with every check on (signature included, and a present azp must name us), read
//      userinfo bound to the ID token's sub;
//   4. when a refresh token came: refresh, require the same iss/sub/aud (OIDC Core §12.2), and
//      check that the old refresh token was rotated out;
//   5. print {"result": ...} and exit 0, or {"error": {name, code, message, cause, step}} and exit 1.
// Everything is bounded by --timeout seconds (exit 3).

import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import * as client from 'openid-client';

const { values: args } = parseArgs({
  options: {
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
    scope: { type: 'string', default: 'openid profile email phone offline_access' },
    timeout: { type: 'string', default: '30' },
  },
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
let step = 'arguments';

function emit(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

function report(err) {
  const inner = err?.cause;
  const cause = inner instanceof Error
    ? { name: inner.name, message: inner.message, code: inner.code }
    : undefined;
  const error = {
    name: err?.name ?? 'Error',
    code: err?.code,
    message: err?.message ?? String(err),
    error: err?.error,
    cause,
    step,
  };
  emit({ error });
  const code = error.code ? ` [${error.code}]` : '';
  const why = cause ? ` (${cause.message})` : '';
  process.stderr.write(`client.mjs: ${step}: ${error.name}${code}: ${error.message}${why}\n`);
  process.exit(1);
}

// Checks that openid-client 6 leaves to the application.
class ApplicationCheckError extends Error {
  name = 'ApplicationCheckError';
}

// A present azp must name us, even with a single audience (esia-oidc.md §3.1 rule 2; openid-client
// checks azp only when aud holds several audiences).
function authorizedParty(claims, clientId) {
  if (claims.azp !== undefined && claims.azp !== clientId) {
    throw new ApplicationCheckError('the ID token "azp" names another client');
  }
}

// A refreshed ID token keeps iss, sub and aud (OIDC Core §12.2). openid-client checks iss against
// the issuer and aud against our client_id, but never compares sub with the first ID token.
function sameIdentity(first, refreshed) {
  for (const claim of ['iss', 'sub']) {
    if (refreshed[claim] !== first[claim]) {
      throw new ApplicationCheckError(`the refreshed ID token changed "${claim}" (OIDC Core §12.2)`);
    }
  }
  if (JSON.stringify(refreshed.aud) !== JSON.stringify(first.aud)) {
    throw new ApplicationCheckError('the refreshed ID token changed "aud" (OIDC Core §12.2)');
  }
}

async function firstLine() {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line.trim();
  }
  throw new Error('stdin closed before the redirect URL arrived');
}

async function main() {
  const issuer = new URL(args.issuer);
  const clientId = args['client-id'];
  const secret = args['client-secret'] ?? process.env.OIDC_CLIENT_SECRET;
  const redirectUri = args['redirect-uri'];
  if (!clientId || !secret || !redirectUri) {
    throw new TypeError(
      '--client-id, --client-secret (or OIDC_CLIENT_SECRET) and --redirect-uri are required',
    );
  }
  // openid-client refuses plain-HTTP endpoints. The issuers under test are loopback servers
  // without TLS (the idp_mock / oidc-provider the tests start), so allowInsecureRequests is used
  // for loopback issuers only: a remote issuer still has to be https.
  const execute = [];
  if (issuer.protocol === 'http:') {
    if (!LOOPBACK.has(issuer.hostname)) {
      throw new TypeError('plain http is allowed for loopback issuers only');
    }
    execute.push(client.allowInsecureRequests);
  }

  step = 'discovery';
  const timeout = Number(args.timeout);
  const config = await client.discovery(
    issuer, clientId, { id_token_signed_response_alg: 'RS256' }, client.ClientSecretBasic(secret),
    { execute, timeout },
  );
  // openid-client skips the signature of ID tokens from the token endpoint by default, trusting
  // TLS instead (OIDC Core §3.1.3.7 item 6). There is no TLS here, and the faults under test
  // include bad signatures and unknown kids: check the JWS against the issuer's JWKS too.
  client.enableNonRepudiationChecks(config);

  step = 'authorization';
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: args.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    // oidc-provider and OIDC Core §11 release a refresh token for offline_access only with consent.
    ...(args.scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
  });
  emit({ authorization_url: url.href });

  step = 'callback';
  const callback = new URL(await firstLine());

  // The authorization response (state, RFC 9207 iss) is checked here too, before the code is used.
  step = 'code';
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  authorizedParty(claims, clientId);

  step = 'userinfo';
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

  const result = {
    issuer: config.serverMetadata().issuer,
    id_token_claims: claims,
    userinfo,
    scope: tokens.scope,
    token_type: tokens.token_type,
    refresh: null,
  };
  if (tokens.refresh_token) {
    step = 'refresh';
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    const again = refreshed.claims();
    if (again) {
      authorizedParty(again, clientId);
      sameIdentity(claims, again);
    }
    result.refresh = {
      id_token_claims: again ?? null,
      new_access_token: refreshed.access_token !== tokens.access_token,
      rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token,
      old_token_refused: await refused(() => client.refreshTokenGrant(config, tokens.refresh_token)),
    };
  }
  emit({ result });
}

async function refused(attempt) {
  try {
    await attempt();
    return null;
  } catch (err) {
    if (err instanceof client.ResponseBodyError) return err.error;
    throw err;
  }
}

const deadline = setTimeout(() => {
  process.stderr.write(`client.mjs: ${step}: timed out after ${args.timeout} s\n`);
  process.exit(3);
}, 1000 * Number(args.timeout));

main().then(() => {
  clearTimeout(deadline);
  process.exit(0);
}, report);

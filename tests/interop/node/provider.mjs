// Run oidc-provider (a certified OpenID Provider) on a loopback port for the interop tests.
//
//   node provider.mjs --port 5123 --client-id gw --client-secret s3cret \
//     --redirect-uri http://localhost/auth/callback [--redirect-uri ...] \
//     --account '{"login": ..., "password": ..., "claims": {"sub": ...}}' \
//     [--refresh-tokens offline_access|always] [--max-seconds 300]
//
// The secret may come from OIDC_CLIENT_SECRET instead of argv. One confidential client
// (client_secret_basic, PKCE S256 required), one account, and minimal HTML interaction pages
// instead of oidc-provider's devInteractions, so a test can sign in with plain HTTP requests:
// the login form has `login` and `password` fields, the consent form a `decision` button
// (allow|deny). RFC 9207 `iss` is on every authorization response (always on in oidc-provider 9).
// Out-of-the-box claims policy (conformIdTokenClaims): the code flow's ID token carries `sub` and
// protocol claims only; profile, email and phone claims come from userinfo (OIDC Core §5.4).
// Refresh tokens: by default only for offline_access, which oidc-provider grants only with
// prompt=consent (OIDC Core §11); `always` issues them on every code, as many providers do.
// Prints "ready" on stdout once listening; exits when stdin closes, on SIGTERM, or after
// --max-seconds, so a crashed test run leaves nothing behind.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    account: { type: 'string' },
    'refresh-tokens': { type: 'string', default: 'offline_access' },
    'max-seconds': { type: 'string', default: '300' },
  },
});

function fail(message) {
  process.stderr.write(`provider.mjs: ${message}\n`);
  process.exit(2);
}

const port = Number(args.port);
const clientId = args['client-id'];
const clientSecret = args['client-secret'] ?? process.env.OIDC_CLIENT_SECRET;
const redirectUris = args['redirect-uri'] ?? [];
if (!Number.isInteger(port) || port <= 0) fail('--port is required');
if (!['offline_access', 'always'].includes(args['refresh-tokens'])) {
  fail('--refresh-tokens is offline_access or always');
}
if (!clientId || !clientSecret || redirectUris.length === 0) {
  fail('--client-id, --client-secret (or OIDC_CLIENT_SECRET) and --redirect-uri are required');
}

// The one account: {"login", "password", "claims": {"sub", ...standard claims}}; the claims are
// released per scope (OIDC Core §5.4).
const ACCOUNT = JSON.parse(args.account ?? '{}');
if (!ACCOUNT.login || !ACCOUNT.password || !ACCOUNT.claims?.sub) {
  fail('--account needs login, password and claims.sub');
}
const issuer = `http://127.0.0.1:${port}`;

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

async function findAccount(ctx, sub) {
  if (sub !== ACCOUNT.claims.sub) return undefined;
  return { accountId: sub, claims: async () => ({ ...ACCOUNT.claims }) };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  claims: {
    acr: null,
    auth_time: null,
    sid: null,
    openid: ['sub'],
    profile: ['name', 'family_name', 'given_name', 'middle_name', 'birthdate'],
    email: ['email', 'email_verified'],
    phone: ['phone_number', 'phone_number_verified'],
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: false } },
  findAccount,
  issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && (args['refresh-tokens'] === 'always' || code.scopes.has('offline_access')),
  jwks: { keys: [signingKey()] },
  // RFC 9700 §2.1.1: PKCE for every client, confidential ones included (the default spares them).
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res, status, title, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><meta charset="utf-8"><title>${escape(title)}</title>${body}`);
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function showInteraction(req, res, uid) {
  const { prompt, params } = await provider.interactionDetails(req, res);
  const action = `/interaction/${escape(uid)}`;
  if (prompt.name === 'login') {
    page(res, 200, 'Sign in', `<form method="post" action="${action}">
  <input name="login" type="text"> <input name="password" type="password">
  <button type="submit">Sign in</button></form>`);
    return;
  }
  page(res, 200, 'Consent', `<p>${escape(params.client_id)} asks for ${escape(params.scope)}</p>
<form method="post" action="${action}">
  <button type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny">Deny</button></form>`);
}

async function consentGrant(interaction) {
  const { prompt: { details }, params, session, grantId } = interaction;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

async function submitInteraction(req, res, uid) {
  const interaction = await provider.interactionDetails(req, res);
  const form = await formBody(req);
  if (interaction.prompt.name === 'login') {
    const known = form.get('login') === ACCOUNT.login && form.get('password') === ACCOUNT.password;
    if (!known) {
      page(res, 200, 'Sign in', '<p>Wrong login or password</p>');
      return;
    }
    const result = { login: { accountId: ACCOUNT.claims.sub } };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    return;
  }
  if (form.get('decision') !== 'allow') {
    const result = { error: 'access_denied', error_description: 'The person said no' };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    return;
  }
  const result = { consent: { grantId: await consentGrant(interaction) } };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const oidc = provider.callback();

const server = createServer((req, res) => {
  const match = /^\/interaction\/([\w-]+)$/.exec(new URL(req.url, issuer).pathname);
  if (!match) {
    oidc(req, res);
    return;
  }
  const handle = req.method === 'POST' ? submitInteraction : showInteraction;
  handle(req, res, match[1]).catch((err) => {
    process.stderr.write(`provider.mjs: interaction failed: ${err.stack ?? err}\n`);
    if (!res.headersSent) page(res, 400, 'Error', `<p>${escape(err.message)}</p>`);
  });
});

// Why a request was refused, for the test's failure output (stderr goes to a log file).
for (const event of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error']) {
  provider.on(event, (ctx, err) => {
    process.stderr.write(`${event}: ${err.name}: ${err.message} ${err.error_description ?? ''} ${err.scope ?? ''}\n`);
  });
}

function stop() {
  server.close();
  process.exit(0);
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop).on('error', stop).resume();
setTimeout(() => fail(`ran longer than --max-seconds=${args['max-seconds']}`), 1000 * Number(args['max-seconds'])).unref();

server.listen(port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});

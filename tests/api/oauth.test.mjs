// API.md sections 10 and 11: the OAuth2 authorization code flow of datasources (`oAuth2 3-legged` connectors),
// end to end against a local mock authorization server: the link, the callback, token storage, refresh and
// revocation, and every refusal.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { databaseUrlFor } from './lib/server.mjs';
import { useServer, WeftServer, createAccount, uniq } from './lib/harness.mjs';
import { createAutomation, blendPath } from './lib/automations.mjs';

const ctx = useServer({ args: ['--allow-private-network'] });
let A;
let partnerA;
async function setup() {
    if (A) return;
    partnerA = await ctx.server.createPartner({ name: 'oauth' });
    A = ctx.server.client(partnerA);
}
/** Unix time on the server's clock (tests move it forward). */
const serverNow = async () => Math.floor(Date.now() / 1000 + (await ctx.server.advanceClock(0)));

// ---- the mock authorization server and product API
const tag = `${process.pid}-${Date.now()}`;
const mock = {
    server: null,
    base: '',
    seq: 0,
    codes: new Map(), // code -> redirect_uri it was issued for
    access: new Set(), // valid access tokens
    refresh: new Map(), // refresh token -> valid
    grants: [], // {grant_type, client_auth, client_id, code, refresh_token}
    api: [], // access tokens the API was called with
    expiresIn: 3600,
};
const CLIENT_ID = 'mock-client-id';
/** What the mock API answers for an access token (the token itself would end up in stored run outputs). */
const idOf = (token) => `id${token.slice(2)}`;
const CLIENT_SECRET = `mock-client-secret-${tag}`;

function newTokens() {
    mock.seq += 1;
    const access = `at-${tag}-${mock.seq}`;
    const refresh = `rt-${tag}-${mock.seq}`;
    mock.access.add(access);
    mock.refresh.set(refresh, true);
    return { access_token: access, refresh_token: refresh, token_type: 'bearer', expires_in: mock.expiresIn };
}

/** The authorization server's side of consent: a code for this redirect_uri (what the authorize page would issue). */
function issueCode(redirectUri) {
    mock.seq += 1;
    const code = `code-${tag}-${mock.seq}`;
    mock.codes.set(code, redirectUri);
    return code;
}

before(async () => {
    mock.server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const send = (status, body) => {
                res.writeHead(status, { 'content-type': 'application/json' });
                res.end(JSON.stringify(body));
            };
            const url = new URL(req.url, 'http://x');
            if (url.pathname === '/token' && req.method === 'POST') {
                const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
                let clientId = form.get('client_id');
                let clientSecret = form.get('client_secret');
                let clientAuth = 'body';
                const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
                if (basic) {
                    clientAuth = 'basic';
                    [clientId, clientSecret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':').map(decodeURIComponent);
                }
                const grant = { grant_type: form.get('grant_type'), client_auth: clientAuth, client_id: clientId, code: form.get('code'), refresh_token: form.get('refresh_token'), redirect_uri: form.get('redirect_uri') };
                mock.grants.push(grant);
                if (clientId !== CLIENT_ID || clientSecret !== CLIENT_SECRET) return send(401, { error: 'invalid_client' });
                if (grant.grant_type === 'authorization_code') {
                    if (grant.code === 'boom') return send(500, { error: 'server_error' });
                    const issuedFor = mock.codes.get(grant.code);
                    mock.codes.delete(grant.code);
                    if (issuedFor === undefined || issuedFor !== grant.redirect_uri) {
                        return send(400, { error: 'invalid_grant', error_description: 'The code is not valid' });
                    }
                    return send(200, newTokens());
                }
                if (grant.grant_type === 'refresh_token') {
                    if (!mock.refresh.get(grant.refresh_token)) return send(400, { error: 'invalid_grant', error_description: 'Token has been revoked' });
                    return send(200, { ...newTokens(), refresh_token: undefined }); // keeps the refresh token
                }
                return send(400, { error: 'unsupported_grant_type' });
            }
            if (url.pathname === '/api/me') {
                const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
                mock.api.push(token);
                if (!mock.access.has(token)) return send(401, { message: 'invalid access token' });
                return send(200, { token_id: idOf(token) }); // not the token itself: run outputs are stored
            }
            return send(404, { message: 'no such path' });
        });
    });
    await new Promise((r) => mock.server.listen(0, '127.0.0.1', r));
    mock.base = `http://127.0.0.1:${mock.server.address().port}`;
});
after(() => mock.server.close());

/** A partner connector authorising against the mock; `clientAuth` body or basic. */
function mockConnector({ clientAuth = 'body', tokenUrl } = {}) {
    return {
        key: uniq('mockoauth'),
        name: 'Mock OAuth',
        base_url: `${mock.base}/api`,
        authentication: {
            type: 'oAuth2 3-legged',
            authorize_url: `${mock.base}/authorize?prompt=consent`,
            token_url: tokenUrl ?? `${mock.base}/token`,
            scopes: ['read', 'write'],
            client_auth: clientAuth,
        },
        params: [
            { name: 'client_id', type: 'string', required: true },
            { name: 'client_secret', type: 'password', required: true },
        ],
        error_message_path: 'message',
        endpoints: [{ key: 'me', path: '/me' }],
    };
}

async function newDatasource(connector, fields = {}) {
    const account = await createAccount(A);
    const res = await A.post(`/v1/accounts/${account.guid}/datasources`, {
        json: { connector_guid: connector.key, params: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET }, ...fields },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.is_connected, false);
    return { account, ds: res.body };
}

const relative = (link) => {
    const u = new URL(link);
    return u.pathname + u.search;
};
const callbackUrl = () => `${ctx.server.baseUrl}/datasources/oauth/callback`;
const message = (res) => /<p id="message">([^<]*)<\/p>/.exec(res.text)?.[1] ?? '';
const getDatasource = async (account, ds) => (await A.get(`/v1/accounts/${account.guid}/datasources/${ds.guid}`)).body;

/** Opens the link: asserts the 302 to the authorize URL and returns its state and redirect_uri. */
async function openLink(link) {
    const res = await ctx.server.request('GET', relative(link));
    assert.equal(res.status, 302, res.text);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    const to = new URL(res.headers.location);
    assert.equal(to.origin + to.pathname, `${mock.base}/authorize`);
    const q = to.searchParams;
    assert.equal(q.get('prompt'), 'consent', 'the authorize URL keeps its own query');
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), CLIENT_ID);
    assert.equal(q.get('redirect_uri'), callbackUrl());
    assert.equal(q.get('scope'), 'read write');
    assert.match(q.get('state'), /^[A-Za-z0-9]{40,}$/);
    assert.ok(!res.headers.location.includes(CLIENT_SECRET), 'the client secret is not in the authorize URL');
    return { state: q.get('state'), redirectUri: q.get('redirect_uri') };
}

const callback = (query) => ctx.server.request('GET', `/datasources/oauth/callback?${new URLSearchParams(query)}`);

/** The whole flow: link -> authorize (mock consent) -> callback. Returns the callback response. */
async function authorise(link) {
    const { state, redirectUri } = await openLink(link);
    return callback({ code: issueCode(redirectUri), state });
}

/** An automation calling the connector's `me` endpoint with the datasource; returns the run outcome. */
async function runMe(account, connector, ds) {
    const blend = await createAutomation(A, account, {
        schema: 1,
        flows: { start: [{ id: 'me', type: 'connector', connector: connector.key, endpoint: 'me', datasource: ds.guid }, { id: 'out', type: 'output', value: '{$.me.body.token_id}' }] },
    });
    const res = await A.post(`${blendPath(account, blend)}/run`, { json: {} });
    const run = (await A.get(`${blendPath(account, blend)}/runs/${res.headers['x-run-guid']}`)).body;
    return { res, run };
}

/** The dev master key of the server (generated into its data folder) -> the link-signing key Weft derives. */
function linkKey() {
    const master = Buffer.from(readFileSync(path.join(ctx.server.dataDir, 'master.key'), 'utf8').trim(), 'hex');
    return createHmac('sha256', master).update('datasource-link').digest('hex');
}
const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function jwt(key, claims) {
    const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
    return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

/** Everything the database holds, as raw bytes: the SQLite files (WAL included), or a pg_dump on PostgreSQL. */
function rawDatabase(dataDir) {
    const url = databaseUrlFor(dataDir);
    if (url) return [execFileSync('pg_dump', ['--data-only', url], { maxBuffer: 256 * 1024 * 1024 })];
    return readdirSync(dataDir).filter((f) => f.startsWith('weft.db')).map((f) => readFileSync(path.join(dataDir, f)));
}

describe('OAuth2 authorization code flow: success', () => {
    it('link -> authorize -> callback connects the datasource (pop-up page); a connector block uses the token; tokens are sealed', async () => {
        await setup();
        const connector = mockConnector();
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { account, ds } = await newDatasource(connector);
        assert.match(ds.additional.link, /^http:\/\/127\.0\.0\.1:\d+\/datasources\/[0-9a-f-]+\/link\?jwt=/);
        const grantsBefore = mock.grants.length;
        const res = await authorise(ds.additional.link);
        assert.equal(res.status, 200, res.text);
        assert.match(res.headers['content-type'], /^text\/html/);
        assert.ok(res.text.includes("type: 'weft:datasource-connected'"), res.text);
        assert.ok(res.text.includes(`guid: "${ds.guid}"`), res.text);
        assert.ok(res.text.includes('window.opener.postMessage(message, \'*\')'));
        assert.ok(res.text.includes('window.close()'));
        // The code exchange: client credentials in the body (the connector's default), the same redirect_uri.
        const exchange = mock.grants.slice(grantsBefore);
        assert.equal(exchange.length, 1);
        assert.equal(exchange[0].grant_type, 'authorization_code');
        assert.equal(exchange[0].client_auth, 'body');
        assert.equal(exchange[0].redirect_uri, callbackUrl());
        const issued = `at-${tag}-${mock.seq}`;

        const got = await getDatasource(account, ds);
        assert.equal(got.is_connected, true);
        assert.equal(got.link, null);
        assert.equal(got.additional, null);

        const { res: run } = await runMe(account, connector, ds);
        assert.equal(run.status, 200, run.text);
        assert.equal(run.body, idOf(issued), 'the block called the API with the access token from the exchange');

        // Neither token nor the client secret is in the database in plain text, nor in the log.
        const files = rawDatabase(ctx.server.dataDir);
        assert.ok(files.some((buf) => buf.includes(ds.guid)), 'the datasource is in the scanned files');
        for (const secret of [issued, `rt-${tag}-${mock.seq}`, CLIENT_SECRET]) {
            for (const buf of files) assert.ok(!buf.includes(secret), `${secret} is in the database in plain text`);
            assert.ok(!ctx.server.log().includes(secret), `${secret} is in the server log`);
        }
    });

    it('client_auth basic sends the client credentials as HTTP Basic; redirect_url gets a 302 after connecting', async () => {
        await setup();
        const connector = mockConnector({ clientAuth: 'basic' });
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { account, ds } = await newDatasource(connector, { redirect_url: 'https://partner.example/connected?x=1' });
        const grantsBefore = mock.grants.length;
        const res = await authorise(ds.additional.link);
        assert.equal(res.status, 302, res.text);
        assert.equal(res.headers.location, 'https://partner.example/connected?x=1');
        assert.equal(res.headers['referrer-policy'], 'no-referrer');
        const exchange = mock.grants.slice(grantsBefore);
        assert.deepEqual(exchange.map((g) => [g.grant_type, g.client_auth]), [['authorization_code', 'basic']]);
        assert.equal((await getDatasource(account, ds)).is_connected, true);
    });

    it('refreshes the access token before it expires, and once on a 401', async () => {
        await setup();
        const connector = mockConnector();
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { account, ds } = await newDatasource(connector);
        assert.equal((await authorise(ds.additional.link)).status, 200);
        const first = `at-${tag}-${mock.seq}`;
        assert.equal((await runMe(account, connector, ds)).res.body, idOf(first));

        // 30 s before expiry (inside the refresh margin): a refresh_token grant, then the call with the new token.
        let grants = mock.grants.length;
        await ctx.server.advanceClock(mock.expiresIn - 30);
        const second = (await runMe(account, connector, ds)).res;
        assert.equal(second.status, 200, second.text);
        assert.deepEqual(mock.grants.slice(grants).map((g) => g.grant_type), ['refresh_token']);
        assert.notEqual(second.body, idOf(first));
        const secondToken = `at-${tag}-${mock.seq}`;
        assert.equal(second.body, idOf(secondToken));

        // The API stops accepting the token early: one refresh, one retry.
        mock.access.delete(secondToken);
        grants = mock.grants.length;
        const calls = mock.api.length;
        const third = (await runMe(account, connector, ds)).res;
        assert.equal(third.status, 200, third.text);
        assert.deepEqual(mock.grants.slice(grants).map((g) => g.grant_type), ['refresh_token']);
        assert.equal(third.body, idOf(`at-${tag}-${mock.seq}`));
        assert.deepEqual(mock.api.slice(calls).map(idOf), [second.body, third.body]);
    });

    it('a revoked refresh token disconnects the datasource; its new link authorises it again', async () => {
        await setup();
        const connector = mockConnector();
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { account, ds } = await newDatasource(connector);
        assert.equal((await authorise(ds.additional.link)).status, 200);
        const access = `at-${tag}-${mock.seq}`;
        // The user revokes the app at the provider: the access token and the refresh token stop working.
        mock.access.delete(access);
        mock.refresh.set(`rt-${tag}-${mock.seq}`, false);
        const { run } = await runMe(account, connector, ds);
        assert.equal(run.status, 'failed');
        assert.match(run.error.message, /authorisation was revoked .*invalid_grant.*authorise the datasource again/);
        const got = await getDatasource(account, ds);
        assert.equal(got.is_connected, false);
        assert.match(got.link, new RegExp(`/datasources/${ds.guid}/link\\?jwt=`));
        assert.equal(got.additional.link, got.link);

        const again = await authorise(got.link);
        assert.equal(again.status, 200, again.text);
        assert.equal((await getDatasource(account, ds)).is_connected, true);
        const { res } = await runMe(account, connector, ds);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body, idOf(`at-${tag}-${mock.seq}`));
    });
});

describe('OAuth2 authorization code flow: refusals leave the datasource as it was', () => {
    it('a state is single-use: a second callback (even concurrent) is refused', async () => {
        await setup();
        const connector = mockConnector();
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { ds } = await newDatasource(connector);
        const { state, redirectUri } = await openLink(ds.additional.link);
        const code = issueCode(redirectUri);
        const both = await Promise.all([callback({ code, state }), callback({ code, state })]);
        assert.deepEqual(both.map((r) => r.status).sort(), [200, 400]);
        const refused = both.find((r) => r.status === 400);
        assert.match(message(refused), /already completed, has expired or was never started/);
        const later = await callback({ code, state });
        assert.equal(later.status, 400);
        // Unknown and missing states.
        assert.equal((await callback({ code, state: 'x'.repeat(43) })).status, 400);
        const none = await callback({ code });
        assert.equal(none.status, 400);
        assert.match(message(none), /no state/);
    });

    it('a state expires after 15 minutes', async () => {
        await setup();
        const connector = mockConnector();
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { account, ds } = await newDatasource(connector);
        const { state, redirectUri } = await openLink(ds.additional.link);
        await ctx.server.advanceClock(16 * 60);
        const res = await callback({ code: issueCode(redirectUri), state });
        assert.equal(res.status, 400);
        assert.match(message(res), /took too long/);
        assert.equal((await getDatasource(account, ds)).is_connected, false);
    });

    it('expired, forged, foreign and malformed links are refused with a page, never a redirect', async () => {
        await setup();
        const connector = mockConnector();
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { account, ds } = await newDatasource(connector);
        const { ds: other } = await newDatasource(connector);
        const link = new URL(ds.additional.link);
        const token = link.searchParams.get('jwt');
        const open = (guid, jwtText) => ctx.server.request('GET', `/datasources/${guid}/link?jwt=${encodeURIComponent(jwtText)}`);

        const forged = await open(ds.guid, token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA'));
        assert.equal(forged.status, 401);
        assert.match(message(forged), /signature is not valid/);
        assert.match(forged.headers['content-type'], /^text\/html/);
        const foreign = await open(other.guid, token);
        assert.equal(foreign.status, 401);
        assert.match(message(foreign), /not for this datasource/);
        assert.equal((await open(ds.guid, 'not-a-jwt')).status, 401);
        assert.equal((await ctx.server.request('GET', `/datasources/${ds.guid}/link`)).status, 401);
        // Signed with the partner's API key (the SSO key) instead of the server's: refused.
        const now = await serverNow();
        const partnerSigned = jwt(partnerA.api_key, { sub: ds.guid, iat: now, exp: now + 600 });
        assert.equal((await open(ds.guid, partnerSigned)).status, 401);

        // Expired: 31 minutes later the same link is refused; a fresh GET has a new link that works.
        await ctx.server.advanceClock(31 * 60);
        const expired = await open(ds.guid, token);
        assert.equal(expired.status, 401);
        assert.match(message(expired), /expired/);
        const fresh = await getDatasource(account, ds);
        assert.notEqual(fresh.link, ds.additional.link);
        await openLink(fresh.link);
    });

    it('a link for a deleted datasource is 404; for a connected one 409; for a non-OAuth datasource 400', async () => {
        await setup();
        const connector = mockConnector();
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { account, ds } = await newDatasource(connector);
        const { ds: ds2 } = await newDatasource(connector);
        assert.equal((await authorise(ds.additional.link)).status, 200);
        const connected = await ctx.server.request('GET', relative(ds.additional.link));
        assert.equal(connected.status, 409);
        assert.match(message(connected), /already connected/);

        // A correctly signed link (the server's derived key) for a GitHub (token) datasource.
        const gh = (await A.post(`/v1/accounts/${account.guid}/datasources`, { json: { connector_guid: 'github', params: { token: 't' } } })).body;
        const now = await serverNow();
        const signed = (sub) => jwt(linkKey(), { sub, iat: now, exp: now + 600 });
        // The test's own signing matches the server's (so the refusals below are about the datasource).
        await openLink(`${ctx.server.baseUrl}/datasources/${ds2.guid}/link?jwt=${signed(ds2.guid)}`);
        const ghLink = await ctx.server.request('GET', `/datasources/${gh.guid}/link?jwt=${signed(gh.guid)}`);
        assert.equal(ghLink.status, 400, ghLink.text);
        assert.match(message(ghLink), /does not use OAuth2 authorisation/);

        const { account: acc2, ds: gone } = await newDatasource(connector);
        assert.equal((await A.delete(`/v1/accounts/${acc2.guid}/datasources/${gone.guid}`)).status, 204);
        const missing = await ctx.server.request('GET', relative(gone.additional.link));
        assert.equal(missing.status, 404);
        assert.match(message(missing), /no longer exists/);
    });

    it('consent denied at the authorization server: a clear page; the state is used up', async () => {
        await setup();
        const connector = mockConnector();
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { account, ds } = await newDatasource(connector);
        const { state } = await openLink(ds.additional.link);
        const grants = mock.grants.length;
        const res = await callback({ error: 'access_denied', error_description: 'The user said no', state });
        assert.equal(res.status, 400);
        assert.match(message(res), /Access was not granted at Mock OAuth: The user said no\. The datasource is not connected/);
        assert.ok(res.text.includes("type: 'weft:datasource-error'"), 'the pop-up tells its opener');
        assert.equal(mock.grants.length, grants, 'no token request');
        assert.equal((await getDatasource(account, ds)).is_connected, false);
        assert.equal((await callback({ code: 'whatever', state })).status, 400);
    });

    it('token endpoint failures (code refused, 5xx, unreachable) leave the datasource not connected', async () => {
        await setup();
        const connector = mockConnector();
        assert.equal((await A.post('/v1/connectors', { json: connector })).status, 200);
        const { account, ds } = await newDatasource(connector);
        for (const [code, pattern] of [
            ['not-issued', /Exchanging the authorisation code with Mock OAuth failed: the token endpoint answered HTTP 400: invalid_grant \(The code is not valid\)/],
            ['boom', /HTTP 500: server_error/],
        ]) {
            const { state } = await openLink((await getDatasource(account, ds)).link);
            const res = await callback({ code, state });
            assert.equal(res.status, 502, res.text);
            assert.match(message(res), pattern);
            assert.match(message(res), /the datasource is not connected/);
            const got = await getDatasource(account, ds);
            assert.equal(got.is_connected, false);
            assert.ok(got.link);
        }
        // A token URL nobody listens on.
        const closed = http.createServer();
        await new Promise((r) => closed.listen(0, '127.0.0.1', r));
        const deadPort = closed.address().port;
        await new Promise((r) => closed.close(r));
        const dead = mockConnector({ tokenUrl: `http://127.0.0.1:${deadPort}/token` });
        assert.equal((await A.post('/v1/connectors', { json: dead })).status, 200);
        const { account: acc2, ds: ds2 } = await newDatasource(dead);
        const { state, redirectUri } = await openLink(ds2.additional.link);
        const res = await callback({ code: issueCode(redirectUri), state });
        assert.equal(res.status, 502, res.text);
        assert.match(message(res), /token endpoint could not be reached/);
        assert.equal((await getDatasource(acc2, ds2)).is_connected, false);
    });

    it('the code exchange goes through the outbound address guard', async () => {
        const guarded = await WeftServer.start({ args: [] });
        try {
            const P = guarded.client(await guarded.createPartner({ name: 'guarded' }));
            const connector = mockConnector();
            assert.equal((await P.post('/v1/connectors', { json: connector })).status, 200);
            const account = await createAccount(P);
            const ds = (await P.post(`/v1/accounts/${account.guid}/datasources`, {
                json: { connector_guid: connector.key, params: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET } },
            })).body;
            const link = await guarded.request('GET', relative(ds.additional.link));
            assert.equal(link.status, 302);
            const state = new URL(link.headers.location).searchParams.get('state');
            const grants = mock.grants.length;
            const res = await guarded.request('GET', `/datasources/oauth/callback?${new URLSearchParams({ code: 'c', state })}`);
            assert.equal(res.status, 502, res.text);
            assert.match(message(res), /could not be reached .*loopback/);
            assert.equal(mock.grants.length, grants, 'the mock was never called');
        } finally {
            await guarded.stop();
            guarded.cleanup();
        }
    });
});

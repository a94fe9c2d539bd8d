// API.md section 10: connectors and datasources; secrets sealed at rest; the connector block against a local mock API.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { databaseUrlFor } from './lib/server.mjs';
import { useServer, expectError, createAccount, uniq, GUID_RE } from './lib/harness.mjs';
import { createAutomation, blendPath } from './lib/automations.mjs';

const ctx = useServer({ args: ['--allow-private-network'] });
let A, B;
async function setup() {
    if (A) return;
    A = ctx.server.client(await ctx.server.createPartner({ name: 'connectors-a' }));
    B = ctx.server.client(await ctx.server.createPartner({ name: 'connectors-b' }));
}

// A mock product API: `X-Api-Key: k-live` required; /items pages with a cursor; /echo shows what it got.
const seen = [];
let mock;
let mockBase;
before(async () => {
    mock = http.createServer((req, res) => {
        seen.push({ url: req.url, headers: req.headers });
        const send = (status, body) => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body));
        };
        if (req.headers['x-api-key'] !== 'k-live') return send(401, { message: 'bad key' });
        const url = new URL(req.url, 'http://x');
        if (url.pathname === '/items') {
            const cursor = url.searchParams.get('cursor');
            if (!cursor) return send(200, { items: [{ id: 1 }, { id: 2 }], next: 'c2' });
            if (cursor === 'c2') return send(200, { items: [{ id: 3 }], next: 'c3' });
            return send(200, { items: [{ id: 4 }], next: null });
        }
        return send(200, { path: url.pathname });
    });
    await new Promise((r) => mock.listen(0, '127.0.0.1', r));
    mockBase = `http://127.0.0.1:${mock.address().port}`;
});
after(() => mock.close());

const acmeDefinition = (key = uniq('acme')) => ({
    key,
    name: 'Acme',
    description: 'The mock product API',
    base_url: '{base_url}',
    authentication: { type: 'api_key', in: 'header', name: 'X-Api-Key', param: 'api_key' },
    params: [
        { name: 'base_url', type: 'string', required: true },
        { name: 'api_key', type: 'password', required: true },
        { name: 'region', type: 'select', options: ['eu', 'us'], default: 'eu' },
    ],
    error_message_path: 'message',
    endpoints: [
        { key: 'list_items', path: '/items', pagination: { style: 'cursor', cursor_param: 'cursor', next_path: 'next', items_path: 'items' } },
        { key: 'get_thing', path: '/things/{id}', params: [{ name: 'id', type: 'string', required: true }] },
    ],
});

/** Everything the database holds, as raw bytes: the SQLite files (WAL included), or a pg_dump on PostgreSQL. */
function rawDatabase(dataDir) {
    const url = databaseUrlFor(dataDir);
    if (url) return [execFileSync('pg_dump', ['--data-only', url], { maxBuffer: 256 * 1024 * 1024 })];
    return readdirSync(dataDir).filter((f) => f.startsWith('weft.db')).map((f) => readFileSync(path.join(dataDir, f)));
}

describe('API.md §10 connectors', () => {
    it('GET /connectors lists the built-in connectors; GET by key or guid has params and endpoints', async () => {
        await setup();
        const list = await A.get('/v1/connectors');
        assert.equal(list.status, 200);
        const keys = list.body.data.map((c) => c.key);
        for (const k of ['rest', 'slack', 'hubspot', 'salesforce', 'github', 'stripe']) assert.ok(keys.includes(k), k);
        const slack = list.body.data.find((c) => c.key === 'slack');
        assert.equal(slack.authentication_type, 'oAuth2 3-legged');
        assert.equal(slack.is_builtin, true);
        for (const id of ['slack', slack.guid]) {
            const one = await A.get(`/v1/connectors/${id}`);
            assert.equal(one.status, 200);
            assert.equal(one.body.guid, slack.guid);
            assert.ok(one.body.params.some((p) => p.name === 'client_secret' && p.type === 'password' && p.is_secret));
            assert.ok(one.body.endpoints.some((e) => e.key === 'list_channels' && e.pagination === 'cursor'));
        }
        expectError(assert, await A.get('/v1/connectors/nope'), 404, 'not_found');
        expectError(assert, await A.delete('/v1/connectors/slack'), 400, 'invalid_request');
    });

    it('POST /connectors validates the definition, with every fault keyed by path', async () => {
        await setup();
        const bad = await A.post('/v1/connectors', {
            json: { key: 'Bad Key', name: 'x', base_url: 'ftp://x', authentication: { type: 'magic' }, endpoints: [{ key: 'a', path: 'x' }] },
        });
        expectError(assert, bad, 400, 'validation_failed');
        for (const k of ['key', 'base_url', 'authentication.type', 'endpoints[0].path']) assert.ok(bad.body.errors[k], k);
        const leak = acmeDefinition();
        leak.endpoints[0].query = { k: '{api_key}' };
        const leaked = await A.post('/v1/connectors', { json: leak });
        expectError(assert, leaked, 400, 'validation_failed');
        assert.match(leaked.body.errors['endpoints[0].query.k'][0], /secret/);
        expectError(assert, await A.post('/v1/connectors', { json: { ...acmeDefinition(), key: 'slack' } }), 409, 'conflict');
    });

    it('the partner\'s own connectors: create, get, update, delete; invisible to other partners', async () => {
        await setup();
        const def = acmeDefinition();
        const created = await A.post('/v1/connectors', { json: def });
        assert.equal(created.status, 200, created.text);
        assert.match(created.body.guid, GUID_RE);
        assert.equal(created.body.is_builtin, false);
        assert.equal(created.body.authentication_type, 'api_key');
        expectError(assert, await A.post('/v1/connectors', { json: def }), 409, 'conflict');
        assert.equal((await A.get(`/v1/connectors/${def.key}`)).body.guid, created.body.guid);
        expectError(assert, await B.get(`/v1/connectors/${def.key}`), 404, 'not_found');
        expectError(assert, await B.get(`/v1/connectors/${created.body.guid}`), 404, 'not_found');
        const updated = await A.put(`/v1/connectors/${created.body.guid}`, { json: { ...def, name: 'Acme 2' } });
        assert.equal(updated.status, 200, updated.text);
        assert.equal(updated.body.name, 'Acme 2');
        const listed = await A.get('/v1/connectors', { query: { per_page: 100 } });
        assert.ok(listed.body.data.some((c) => c.guid === created.body.guid));
        assert.ok(!(await B.get('/v1/connectors')).body.data.some((c) => c.guid === created.body.guid));
        assert.equal((await A.delete(`/v1/connectors/${def.key}`)).status, 204);
        expectError(assert, await A.get(`/v1/connectors/${def.key}`), 404, 'not_found');
    });
});

describe('API.md §10 datasources', () => {
    it('create / get / list / update; secret params read back as ********; bad params get clear errors', async () => {
        await setup();
        const account = await createAccount(A);
        const base = `/v1/accounts/${account.guid}/datasources`;
        const missing = await A.post(base, { json: { name: 'GH', connector_guid: 'github', params: {} } });
        expectError(assert, missing, 400, 'validation_failed');
        assert.deepEqual(missing.body.errors['params.token'], ['is required']);
        const unknown = await A.post(base, { json: { connector_guid: 'nope', params: {} } });
        expectError(assert, unknown, 400, 'validation_failed');
        assert.ok(unknown.body.errors.connector_guid);
        const extra = await A.post(base, { json: { connector_guid: 'github', params: { token: 't', colour: 'red' } } });
        expectError(assert, extra, 400, 'validation_failed');
        assert.ok(extra.body.errors['params.colour']);

        const res = await A.post(base, { json: { name: 'GH', connector_guid: 'github', params: { token: 'ghp_plain_secret_1' } } });
        assert.equal(res.status, 200, res.text);
        const ds = res.body;
        assert.match(ds.guid, GUID_RE);
        assert.equal(ds.params.token, '********');
        assert.equal(ds.is_connected, true);
        assert.equal(ds.is_used, false);
        assert.equal(ds.additional, null);
        assert.deepEqual(ds.connector.name, 'GitHub');
        const got = await A.get(`${base}/${ds.guid}`);
        assert.equal(got.status, 200);
        assert.deepEqual(got.body.blends, []);
        assert.deepEqual(got.body.automations, []);
        assert.ok(!got.text.includes('ghp_plain_secret_1'));
        const list = await A.get(base);
        assert.deepEqual(list.body.data.map((d) => d.guid), [ds.guid]);
        // "********" keeps the stored secret; other params change.
        const renamed = await A.put(`${base}/${ds.guid}`, { json: { name: 'GitHub main', params: { token: '********' } } });
        assert.equal(renamed.status, 200, renamed.text);
        assert.equal(renamed.body.name, 'GitHub main');
        assert.equal(renamed.body.params.token, '********');
        expectError(assert, await A.put(`${base}/${ds.guid}`, { json: { connector_guid: 'stripe' } }), 400, 'validation_failed');
        // another partner sees nothing
        expectError(assert, await B.get(`${base}/${ds.guid}`), 404, 'not_found');
        assert.equal((await A.delete(`${base}/${ds.guid}`)).status, 204);
        expectError(assert, await A.get(`${base}/${ds.guid}`), 404, 'not_found');
    });

    it('OAuth 3-legged connectors answer is_connected: false with an authorisation link', async () => {
        await setup();
        const account = await createAccount(A);
        const res = await A.post(`/v1/accounts/${account.guid}/datasources`, {
            json: { connector_guid: 'slack', params: { client_id: 'cid', client_secret: 'slack-secret-xyz' } },
        });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.is_connected, false);
        assert.equal(typeof res.body.additional.message, 'string');
        assert.match(res.body.additional.link, new RegExp(`/datasources/${res.body.guid}/link\\?jwt=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
        assert.equal(res.body.link, res.body.additional.link);
        assert.equal(res.body.params.client_secret, '********');
        assert.equal(res.body.params.client_id, 'cid');
    });

    it('secrets are never stored in plain text (raw database scan) nor logged', async () => {
        await setup();
        const account = await createAccount(A);
        const secret = `plain-secret-${process.pid}-${Date.now()}`;
        const res = await A.post(`/v1/accounts/${account.guid}/datasources`, { json: { connector_guid: 'stripe', params: { secret_key: secret } } });
        assert.equal(res.status, 200, res.text);
        await A.put(`/v1/accounts/${account.guid}/datasources/${res.body.guid}`, { json: { name: 'again' } });
        const files = rawDatabase(ctx.server.dataDir);
        assert.ok(files.length >= 1);
        assert.ok(files.some((buf) => buf.includes(res.body.guid)), 'the datasource is in the scanned files');
        for (const buf of files) assert.ok(!buf.includes(secret), 'the secret is in the database file in plain text');
        assert.ok(!ctx.server.log().includes(secret), 'the secret is in the server log');
    });

    it('a datasource used by an automation cannot be deleted: 400 datasource_in_use with the blends', async () => {
        await setup();
        const account = await createAccount(A);
        const ds = (await A.post(`/v1/accounts/${account.guid}/datasources`, { json: { connector_guid: 'github', params: { token: 't' } } })).body;
        const blend = await createAutomation(A, account, {
            schema: 1,
            flows: { start: [{ id: 'c', type: 'connector', connector: 'github', endpoint: 'get_repo', datasource: ds.guid, params: { owner: 'o', repo: 'r' } }] },
        });
        const got = await A.get(`/v1/accounts/${account.guid}/datasources/${ds.guid}`);
        assert.equal(got.body.is_used, true);
        assert.deepEqual(got.body.blends.map((b) => b.guid), [blend.guid]);
        const del = await A.delete(`/v1/accounts/${account.guid}/datasources/${ds.guid}`);
        expectError(assert, del, 400, 'datasource_in_use');
        assert.deepEqual(del.body.blends.map((b) => b.guid), [blend.guid]);
        assert.equal((await A.delete(blendPath(account, blend))).status, 204);
        assert.equal((await A.delete(`/v1/accounts/${account.guid}/datasources/${ds.guid}`)).status, 204);
    });

    it('account create with `datasource` credentials fills the partner connector\'s datasource', async () => {
        const P = ctx.server.client(await ctx.server.createPartner({ name: 'own-connector' }));
        const noConnector = await P.post('/v1/accounts', { json: { name: 'x', externalid: uniq('e'), datasource: { api_key: 'k' } } });
        expectError(assert, noConnector, 400, 'validation_failed');
        assert.ok(noConnector.body.errors.datasource);
        const def = acmeDefinition();
        const own = await P.post('/v1/connectors', { json: { ...def, is_partner_connector: true } });
        assert.equal(own.status, 200, own.text);
        assert.equal(own.body.is_partner_connector, true);
        const invalid = await P.post('/v1/accounts', { json: { name: 'x', externalid: uniq('e'), credentials: { base_url: mockBase } } });
        expectError(assert, invalid, 400, 'validation_failed');
        assert.ok(invalid.body.errors['datasource.params.api_key']);
        const externalid = uniq('e');
        const acc = await P.post('/v1/accounts', { json: { name: 'Own', externalid, credentials: { base_url: mockBase, api_key: 'k-live' } } });
        assert.equal(acc.status, 200, acc.text);
        const list = (await P.get(`/v1/accounts/${acc.body.guid}/datasources`)).body.data;
        assert.equal(list.length, 1);
        assert.equal(list[0].connector.guid, own.body.guid);
        assert.equal(list[0].params.api_key, '********');
        assert.equal(list[0].params.region, 'eu');
    });
});

describe('AUTOMATIONS.md connector block', () => {
    it('calls the endpoint with the datasource\'s auth, collects every page, and masks the key in the block log', async () => {
        await setup();
        const def = acmeDefinition();
        assert.equal((await A.post('/v1/connectors', { json: def })).status, 200);
        const account = await createAccount(A);
        const ds = (await A.post(`/v1/accounts/${account.guid}/datasources`, {
            json: { connector_guid: def.key, params: { base_url: mockBase, api_key: 'k-live' } },
        })).body;
        const blend = await createAutomation(A, account, {
            schema: 1,
            inputs: [{ block_id: 'in', flow: 'start', field_name: 'acme', type: 'datasource', connector: def.key, required: true }],
            flows: {
                start: [
                    { id: 'all', type: 'connector', connector: def.key, endpoint: 'list_items', datasource: '{$.inputs.acme}' },
                    { id: 'one', type: 'connector', connector: def.key, endpoint: 'get_thing', datasource: '{$.inputs.acme}', params: { id: 'a b' } },
                    { id: 'out', type: 'output', value: { ids: '{pluck: $.all, \'id\'}', path: '{$.one.body.path}' } },
                ],
            },
        });
        seen.length = 0;
        const res = await A.post(`${blendPath(account, blend)}/run`, { json: { inputs: { acme: ds.guid } } });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { ids: [1, 2, 3, 4], path: '/things/a%20b' });
        assert.deepEqual(seen.map((s) => s.url), ['/items', '/items?cursor=c2', '/items?cursor=c3', '/things/a%20b']);
        const logs = (await A.get(`${blendPath(account, blend)}/runs/${res.headers['x-run-guid']}/logs`)).text;
        assert.ok(!logs.includes('k-live'), 'the API key is in the block log');
        assert.ok(logs.includes('********'), 'the block log shows the masked request');
    });

    it('a wrong key fails the block with the product\'s message; a wrong datasource is a clear error', async () => {
        await setup();
        const def = acmeDefinition();
        assert.equal((await A.post('/v1/connectors', { json: def })).status, 200);
        const account = await createAccount(A);
        const ds = (await A.post(`/v1/accounts/${account.guid}/datasources`, {
            json: { connector_guid: def.key, params: { base_url: mockBase, api_key: 'wrong' } },
        })).body;
        const gh = (await A.post(`/v1/accounts/${account.guid}/datasources`, { json: { connector_guid: 'github', params: { token: 't' } } })).body;
        for (const [datasource, message] of [
            [ds.guid, /Acme \(get_thing\) answered HTTP 401 \(check the datasource's credentials and permissions\): bad key/],
            [gh.guid, /is not a Acme datasource/],
        ]) {
            const blend = await createAutomation(A, account, {
                schema: 1,
                flows: { start: [{ id: 'one', type: 'connector', connector: def.key, endpoint: 'get_thing', datasource, params: { id: 'x' } }] },
            });
            const res = await A.post(`${blendPath(account, blend)}/run`, { json: {} });
            const run = (await A.get(`${blendPath(account, blend)}/runs/${res.headers['x-run-guid']}`)).body;
            assert.equal(run.status, 'failed');
            assert.match(run.error.message, message);
        }
    });

    it('a `datasource` input naming a connector refuses a datasource of another connector', async () => {
        await setup();
        const def = acmeDefinition();
        assert.equal((await A.post('/v1/connectors', { json: def })).status, 200);
        const account = await createAccount(A);
        const gh = (await A.post(`/v1/accounts/${account.guid}/datasources`, { json: { connector_guid: 'github', params: { token: 't' } } })).body;
        const blend = await createAutomation(A, account, {
            schema: 1,
            inputs: [{ block_id: 'in', flow: 'start', field_name: 'acme', type: 'datasource', connector: def.key, required: true }],
            flows: { start: [{ id: 'o', type: 'output', value: 'ran' }] },
        });
        const res = await A.post(`${blendPath(account, blend)}/run`, { json: { inputs: { acme: gh.guid } } });
        const run = (await A.get(`${blendPath(account, blend)}/runs/${res.headers['x-run-guid']}`)).body;
        assert.equal(run.status, 'failed');
        assert.equal(run.error.message, `input 'acme': the datasource '${gh.guid}' is not a Acme datasource`);
    });
});

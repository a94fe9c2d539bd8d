// DESIGN.md "Security" and docs/connectors.md "Secrets at rest": master-key rotation with `weft secrets rotate`,
// black-box through the CLI and a real server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { databaseUrlFor } from './lib/server.mjs';
import { WeftServer, runWeft, makeDataDir, createAccount, uniq } from './lib/harness.mjs';
import { createAutomation, blendPath } from './lib/automations.mjs';

const API_KEY = `k-rotate-${process.pid}-${Date.now()}`;
let api;
let apiBase;
before(async () => {
    // A product API that wants its key.
    api = http.createServer((req, res) => {
        const ok = req.headers['x-api-key'] === API_KEY;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { ok: true } : { message: 'bad key' }));
    });
    await new Promise((r) => api.listen(0, '127.0.0.1', r));
    apiBase = `http://127.0.0.1:${api.address().port}`;
});
after(() => api.close());

/** A key file (64 hex digits) and the key id SecretBox stores beside each value. */
function keyFile(dir, name) {
    const key = randomBytes(32);
    const file = path.join(dir, name);
    writeFileSync(file, `${key.toString('hex')}\n`);
    return { file, id: createHash('sha256').update(key).digest('hex').slice(0, 16) };
}

function rawDatabase(dataDir) {
    const url = databaseUrlFor(dataDir);
    if (url) return Buffer.concat([execFileSync('pg_dump', ['--data-only', url], { maxBuffer: 256 * 1024 * 1024 })]);
    return Buffer.concat(readdirSync(dataDir).filter((f) => f.startsWith('weft.db')).map((f) => readFileSync(path.join(dataDir, f))));
}

const connector = () => ({
    key: uniq('keyed'),
    name: 'Keyed',
    base_url: '{base_url}',
    authentication: { type: 'api_key', in: 'header', name: 'X-Api-Key', param: 'api_key' },
    params: [{ name: 'base_url', type: 'string', required: true }, { name: 'api_key', type: 'password', required: true }],
    error_message_path: 'message',
    endpoints: [{ key: 'ping', path: '/ping' }],
});

async function runPing(client, account, key, datasource) {
    const blend = await createAutomation(client, account, {
        schema: 1,
        flows: { start: [{ id: 'p', type: 'connector', connector: key, endpoint: 'ping', datasource }, { id: 'out', type: 'output', value: '{$.p.body.ok}' }] },
    });
    return client.post(`${blendPath(account, blend)}/run`, { json: {} });
}

describe('weft secrets rotate', () => {
    it('re-seals every secret under the new key; the old key alone no longer starts the server; idempotent', async () => {
        const dataDir = makeDataDir();
        const keys = makeDataDir();
        const A = keyFile(keys, 'a.key');
        const B = keyFile(keys, 'b.key');
        const C = keyFile(keys, 'c.key');
        const serverArgs = (...extra) => ['--allow-private-network', ...extra];
        try {
            // 1. Secrets sealed under A.
            let server = await WeftServer.start({ dataDir, args: serverArgs('--master-key-file', A.file) });
            const partner = await server.createPartner({ name: 'rotate' });
            let client = server.client(partner);
            const def = connector();
            assert.equal((await client.post('/v1/connectors', { json: def })).status, 200);
            const account = await createAccount(client);
            const dsOld = (await client.post(`/v1/accounts/${account.guid}/datasources`, { json: { connector_guid: def.key, params: { base_url: apiBase, api_key: API_KEY } } })).body;
            assert.equal((await runPing(client, account, def.key, dsOld.guid)).body, true);
            await server.stop();
            let raw = rawDatabase(dataDir);
            assert.ok(raw.includes(`${A.id}:`), 'values are sealed under A');
            assert.ok(!raw.includes(API_KEY), 'the key is not stored in plain text');

            // 2. The documented procedure: servers run with B as the key and A as the old one while rotating. A value
            //    written now is sealed under B, the older one stays under A (what an interrupted rotation leaves too).
            server = await WeftServer.start({ dataDir, args: serverArgs('--master-key-file', B.file, '--old-master-key-file', A.file) });
            client = server.client(partner);
            const dsNew = (await client.post(`/v1/accounts/${account.guid}/datasources`, { json: { connector_guid: def.key, params: { base_url: apiBase, api_key: API_KEY } } })).body;
            for (const ds of [dsOld, dsNew]) assert.equal((await runPing(client, account, def.key, ds.guid)).body, true);
            raw = rawDatabase(dataDir);
            assert.ok(raw.includes(`${A.id}:`) && raw.includes(`${B.id}:`), 'a mix of A and B values');

            // 3. Without the old key the command refuses; with a wrong old key it names what it cannot open and
            //    changes nothing.
            const rotate = (...flags) => runWeft(['secrets', 'rotate', '--data', dataDir, ...flags]);
            const noOld = await rotate('--master-key-file', B.file);
            assert.notEqual(noOld.code, 0);
            assert.match(noOld.stderr, /--old-master-key-file/);
            const wrongOld = await rotate('--master-key-file', B.file, '--old-master-key-file', C.file);
            assert.notEqual(wrongOld.code, 0);
            assert.match(wrongOld.stderr, new RegExp(`sealed under master key ${A.id}, which this server does not have`));
            assert.ok(rawDatabase(dataDir).includes(`${A.id}:`), 'nothing was changed');

            // 4. Rotate (while the server runs): only the A value is re-sealed; then again: nothing left to do.
            const first = await rotate('--master-key-file', B.file, '--old-master-key-file', A.file);
            assert.equal(first.code, 0, first.stderr);
            assert.match(first.stdout, new RegExp(`re-encrypted 1 datasource secret\\(s\\) under key ${B.id}`));
            const again = await rotate('--master-key-file', B.file, '--old-master-key-file', A.file);
            assert.equal(again.code, 0, again.stderr);
            assert.match(again.stdout, /re-encrypted 0 datasource secret/);
            await server.stop();
            raw = rawDatabase(dataDir);
            assert.ok(!raw.includes(`${A.id}:`), 'no value is sealed under A any more');
            assert.ok(raw.includes(`${B.id}:`));
            assert.ok(!raw.includes(API_KEY));

            // 5. Only A: the server refuses to start and says why.
            const onlyA = await runWeft(['serve', '--data', dataDir, '--listen', '127.0.0.1:0', '--master-key-file', A.file], { timeoutMs: 20000 });
            assert.notEqual(onlyA.code, 0);
            assert.notEqual(onlyA.code, 'SIGTERM', 'exits by itself');
            assert.match(onlyA.stderr, new RegExp(`2 datasource secret\\(s\\) are sealed under master key\\(s\\) ${B.id}, which this server was not given`));

            // 6. Only B: connector calls still authenticate with both datasources' secrets.
            server = await WeftServer.start({ dataDir, args: serverArgs('--master-key-file', B.file) });
            client = server.client(partner);
            for (const ds of [dsOld, dsNew]) {
                const res = await runPing(client, account, def.key, ds.guid);
                assert.equal(res.status, 200, res.text);
                assert.equal(res.body, true);
            }
            await server.stop();
        } finally {
            rmSync(keys, { recursive: true, force: true });
            rmSync(dataDir, { recursive: true, force: true });
        }
    });
});

// API.md section 2: authentication with X-App-Id + X-Api-Key, several keys per partner.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, expectError, createAccount, cliChangeSeen } from './lib/harness.mjs';

const ctx = useServer();

describe('API.md §2 authentication', () => {
    it('a partner created by the CLI can call /v1/accounts with its app id and key', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'auth-ok' });
        const res = await s.client(p).get('/v1/accounts');
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.data, []);
    });

    it('§2 missing X-App-Id and X-Api-Key -> 401 unauthenticated', async () => {
        const s = ctx.server;
        expectError(assert, await s.request('GET', '/v1/accounts'), 401, 'unauthenticated');
        expectError(assert, await s.request('POST', '/v1/accounts', { json: { name: 'n', externalid: 'e' } }), 401, 'unauthenticated');
    });

    it('§2 missing one of the two headers -> 401 unauthenticated', async () => {
        const s = ctx.server;
        const p = await s.createPartner();
        expectError(assert, await s.request('GET', '/v1/accounts', { headers: { 'X-App-Id': String(p.app_id) } }), 401, 'unauthenticated');
        expectError(assert, await s.request('GET', '/v1/accounts', { headers: { 'X-Api-Key': p.api_key } }), 401, 'unauthenticated');
    });

    it('§2 wrong key, or a key of another partner -> 401 unauthenticated', async () => {
        const s = ctx.server;
        const a = await s.createPartner();
        const b = await s.createPartner();
        const wrong = a.api_key.slice(0, -1) + (a.api_key.endsWith('x') ? 'y' : 'x');
        expectError(assert, await s.request('GET', '/v1/accounts', { headers: { 'X-App-Id': String(a.app_id), 'X-Api-Key': wrong } }), 401, 'unauthenticated');
        expectError(assert, await s.request('GET', '/v1/accounts', { headers: { 'X-App-Id': String(a.app_id), 'X-Api-Key': b.api_key } }), 401, 'unauthenticated');
        expectError(assert, await s.request('GET', '/v1/accounts', { headers: { 'X-App-Id': String(a.app_id), 'X-Api-Key': '' } }), 401, 'unauthenticated');
    });

    it('§2 unknown app id -> 401 unauthenticated', async () => {
        const s = ctx.server;
        const p = await s.createPartner();
        expectError(assert, await s.request('GET', '/v1/accounts', { headers: { 'X-App-Id': '999999', 'X-Api-Key': p.api_key } }), 401, 'unauthenticated');
    });

    it('§2 the app id is a positive integer: anything else -> 401 unauthenticated', async () => {
        const s = ctx.server;
        const p = await s.createPartner();
        for (const appId of ['abc', '1.5', '0', '-1', `${p.app_id}abc`, ' ', '1e2', '99999999999999999999999']) {
            const res = await s.request('GET', '/v1/accounts', { headers: { 'X-App-Id': appId, 'X-Api-Key': p.api_key } });
            expectError(assert, res, 401, 'unauthenticated');
        }
    });

    it('§2 401 also on account routes, and it reveals nothing about the account', async () => {
        const s = ctx.server;
        const p = await s.createPartner();
        const acc = await createAccount(s.client(p));
        const noAuth = await s.request('GET', `/v1/accounts/${acc.guid}`);
        const missing = await s.request('GET', '/v1/accounts/00000000-0000-7000-8000-000000000000');
        expectError(assert, noAuth, 401, 'unauthenticated');
        expectError(assert, missing, 401, 'unauthenticated');
        expectError(assert, await s.request('DELETE', `/v1/accounts/${acc.guid}`), 401, 'unauthenticated');
        // Still there.
        assert.equal((await s.client(p).get(`/v1/accounts/${acc.guid}`)).status, 200);
    });

    it('§2 key rotation: key-add works at once without a restart; a revoked key -> 401 (on SQLite within 0.1 s) while the other key still works', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'rotating' });
        const acc = await createAccount(s.client(p));
        const added = await s.addKey(p.app_id);
        assert.ok(Number.isInteger(added.key_id), `key-add printed ${JSON.stringify(added)}`);
        assert.equal(typeof added.api_key, 'string');
        assert.ok(added.api_key.length >= 32, 'keys are 32+ characters');
        assert.notEqual(added.api_key, p.api_key);
        const second = { app_id: p.app_id, api_key: added.api_key };

        // Both keys work, and see the same data.
        const viaFirst = await s.client(p).get(`/v1/accounts/${acc.guid}`);
        const viaSecond = await s.client(second).get(`/v1/accounts/${acc.guid}`);
        assert.equal(viaFirst.status, 200);
        assert.equal(viaSecond.status, 200);
        assert.deepEqual(viaSecond.body, viaFirst.body);

        // Revoke the first key (its id from `partner list`).
        const { parsed } = await s.listPartners();
        const entry = parsed.find((x) => x.app_id === p.app_id);
        assert.ok(entry, 'partner list includes the partner');
        assert.ok(Array.isArray(entry.keys), 'partner list shows the keys');
        const ids = entry.keys.map((k) => k.key_id);
        assert.ok(ids.includes(added.key_id));
        const firstKeyId = ids.find((id) => id !== added.key_id);
        assert.ok(firstKeyId !== undefined, `first key id in ${JSON.stringify(entry.keys)}`);
        await s.revokeKey(p.app_id, firstKeyId);
        await cliChangeSeen();

        expectError(assert, await s.client(p).get(`/v1/accounts/${acc.guid}`), 401, 'unauthenticated');
        const after = await s.client(second).get(`/v1/accounts/${acc.guid}`);
        assert.equal(after.status, 200);
        assert.deepEqual(after.body, viaFirst.body);
    });

    it('partner list shows partners and key ids but never a secret', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'listed' });
        const k = await s.addKey(p.app_id);
        const { parsed, stdout } = await s.listPartners();
        assert.ok(Array.isArray(parsed));
        const entry = parsed.find((x) => x.app_id === p.app_id);
        assert.ok(entry);
        assert.equal(entry.guid, p.guid);
        assert.equal(entry.name, 'listed');
        assert.ok(!stdout.includes(p.api_key), 'first key secret not printed');
        assert.ok(!stdout.includes(k.api_key), 'second key secret not printed');
    });

    it('§2 header names are case-insensitive (x-app-id / X-API-KEY)', async () => {
        const s = ctx.server;
        const p = await s.createPartner();
        const res = await s.request('GET', '/v1/accounts', { headers: { 'x-app-id': String(p.app_id), 'X-API-KEY': p.api_key } });
        assert.equal(res.status, 200);
    });
});

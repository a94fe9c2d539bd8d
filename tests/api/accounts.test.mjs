// API.md section 6: accounts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { useServer, expectError, createAccount, uniq, enc, GUID_RE, TS_RE } from './lib/harness.mjs';

const ctx = useServer();
let partner;
let api;

async function setup() {
    if (!partner) {
        partner = await ctx.server.createPartner({ name: 'accounts' });
        api = ctx.server.client(partner);
    }
}

describe('API.md §6 accounts', () => {
    it('§6 POST /accounts -> 200 + the account object (§1 guid v7 lowercase, timestamps, expired false)', async () => {
        await setup();
        const res = await api.post('/v1/accounts', { json: { name: 'Acme Corp', externalid: 'acme-1' } });
        assert.equal(res.status, 200);
        const a = res.body;
        assert.match(a.guid, GUID_RE);
        assert.equal(a.name, 'Acme Corp');
        assert.equal(a.externalid, 'acme-1');
        assert.equal(a.expired, false);
        assert.equal(a.expired_at, null);
        assert.match(a.created_at, TS_RE);
        assert.match(a.updated_at, TS_RE);
        assert.deepEqual(Object.keys(a).sort(), ['created_at', 'expired', 'expired_at', 'externalid', 'guid', 'name', 'updated_at']);
    });

    it('§6 GET /accounts/{account} by guid and by externalid returns the same account', async () => {
        await setup();
        const a = await createAccount(api, { name: 'Get Me', externalid: uniq('get') });
        const byGuid = await api.get(`/v1/accounts/${a.guid}`);
        const byExt = await api.get(`/v1/accounts/${enc(a.externalid)}`);
        assert.equal(byGuid.status, 200);
        assert.equal(byExt.status, 200);
        assert.deepEqual(byGuid.body, a);
        assert.deepEqual(byExt.body, a);
    });

    it('§6 an externalid with a space is addressable URL-encoded', async () => {
        await setup();
        const a = await createAccount(api, { externalid: 'customer 42' });
        const res = await api.get('/v1/accounts/customer%2042');
        assert.equal(res.status, 200);
        assert.equal(res.body.guid, a.guid);
    });

    it('§6 GET an unknown account -> 404 not_found', async () => {
        await setup();
        expectError(assert, await api.get('/v1/accounts/00000000-0000-7000-8000-000000000000'), 404, 'not_found');
        expectError(assert, await api.get('/v1/accounts/no-such-externalid'), 404, 'not_found');
    });

    it('§6 POST /accounts with a duplicate externalid -> 409 conflict, nothing created', async () => {
        await setup();
        const ext = uniq('dup');
        const a = await createAccount(api, { externalid: ext, name: 'First' });
        const res = await api.post('/v1/accounts', { json: { name: 'Second', externalid: ext } });
        expectError(assert, res, 409, 'conflict');
        const list = await api.get('/v1/accounts', { query: { externalid: ext } });
        assert.equal(list.body.meta.total, 1);
        assert.deepEqual(list.body.data, [a]);
    });

    it('§6 POST /accounts requires name and externalid -> 400 validation_failed naming each', async () => {
        await setup();
        let res = await api.post('/v1/accounts', { json: { externalid: uniq('noname') } });
        expectError(assert, res, 400, 'validation_failed');
        assert.ok(res.body.errors.name, JSON.stringify(res.body));
        res = await api.post('/v1/accounts', { json: { name: 'No ext' } });
        expectError(assert, res, 400, 'validation_failed');
        assert.ok(res.body.errors.externalid, JSON.stringify(res.body));
        res = await api.post('/v1/accounts', { json: {} });
        expectError(assert, res, 400, 'validation_failed');
        assert.ok(res.body.errors.name && res.body.errors.externalid, JSON.stringify(res.body));
    });

    it('§6 POST /accounts with `user` creates that user in the account', async () => {
        await setup();
        const a = await createAccount(api, {
            name: 'With user',
            user: { externalid: 'u-1', name: 'Ann', email: 'ann@example.com', locale: 'en' },
        });
        const users = await api.get(`/v1/accounts/${a.guid}/users`);
        assert.equal(users.status, 200);
        assert.equal(users.body.meta.total, 1);
        const u = users.body.data[0];
        assert.equal(u.externalid, 'u-1');
        assert.equal(u.name, 'Ann');
        assert.equal(u.email, 'ann@example.com');
        assert.equal(u.locale, 'en');
    });

    it('§6 GET /accounts filter externalid (exact) and search (case-insensitive name substring)', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'filters' });
        const c = s.client(p);
        const acme = await createAccount(c, { name: 'Acme Corp', externalid: 'f-acme' });
        const labs = await createAccount(c, { name: 'The ACME labs', externalid: 'f-labs' });
        await createAccount(c, { name: 'Globex', externalid: 'f-globex' });
        await createAccount(c, { name: 'Initech', externalid: 'f-initech' });

        let res = await c.get('/v1/accounts', { query: { externalid: 'f-labs' } });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.data, [labs]);
        assert.equal(res.body.meta.total, 1);

        res = await c.get('/v1/accounts', { query: { externalid: 'f-lab' } });
        assert.deepEqual(res.body.data, [], 'externalid is an exact match');
        assert.equal(res.body.meta.total, 0);

        res = await c.get('/v1/accounts', { query: { search: 'acme' } });
        assert.deepEqual(res.body.data, [acme, labs]);
        res = await c.get('/v1/accounts', { query: { search: 'ACm' } });
        assert.deepEqual(res.body.data.map((x) => x.guid), [acme.guid, labs.guid]);
        res = await c.get('/v1/accounts', { query: { search: 'nitec' } });
        assert.deepEqual(res.body.data.map((x) => x.name), ['Initech']);
        res = await c.get('/v1/accounts', { query: { search: 'nothing-like-this' } });
        assert.deepEqual(res.body.data, []);
        assert.equal(res.body.meta.total, 0);

        res = await c.get('/v1/accounts', { query: { search: 'acme', externalid: 'f-acme' } });
        assert.deepEqual(res.body.data, [acme], 'filters combine');

        // The filter is kept in the paging links.
        res = await c.get('/v1/accounts', { query: { search: 'acme', per_page: '1' } });
        assert.equal(res.body.meta.total, 2);
        const next = new URL(res.body.links.next);
        assert.equal(next.searchParams.get('search'), 'acme');
        assert.equal(next.searchParams.get('page'), '2');
    });

    it('§6 PUT /accounts/{account}: partial update; created_at kept, updated_at moves', async () => {
        await setup();
        const a = await createAccount(api, { name: 'Before', externalid: uniq('put') });
        await ctx.server.advanceClock(2);
        let res = await api.put(`/v1/accounts/${a.guid}`, { json: { name: 'After' } });
        assert.equal(res.status, 200);
        assert.equal(res.body.guid, a.guid);
        assert.equal(res.body.name, 'After');
        assert.equal(res.body.externalid, a.externalid, 'externalid unchanged');
        assert.equal(res.body.created_at, a.created_at);
        assert.ok(res.body.updated_at > a.updated_at, `updated_at ${res.body.updated_at} > ${a.updated_at}`);
        assert.equal(res.body.expired, false);

        const newExt = uniq('put-new');
        res = await api.put(`/v1/accounts/${enc(a.externalid)}`, { json: { externalid: newExt } });
        assert.equal(res.status, 200);
        assert.equal(res.body.externalid, newExt);
        assert.equal(res.body.name, 'After', 'name unchanged');
        assert.equal((await api.get(`/v1/accounts/${enc(newExt)}`)).body.guid, a.guid);
        expectError(assert, await api.get(`/v1/accounts/${enc(a.externalid)}`), 404, 'not_found');

        // An empty body changes nothing.
        res = await api.put(`/v1/accounts/${a.guid}`, { json: {} });
        assert.equal(res.status, 200);
        assert.equal(res.body.name, 'After');
        assert.equal(res.body.externalid, newExt);
    });

    it('§6 PUT with its own externalid is fine; with another account\'s externalid -> 409 conflict, unchanged', async () => {
        await setup();
        const a = await createAccount(api, { externalid: uniq('own') });
        const b = await createAccount(api, { externalid: uniq('other') });
        let res = await api.put(`/v1/accounts/${a.guid}`, { json: { externalid: a.externalid, name: 'Same ext' } });
        assert.equal(res.status, 200);
        assert.equal(res.body.name, 'Same ext');
        res = await api.put(`/v1/accounts/${a.guid}`, { json: { externalid: b.externalid } });
        expectError(assert, res, 409, 'conflict');
        const again = await api.get(`/v1/accounts/${a.guid}`);
        assert.equal(again.body.externalid, a.externalid);
        assert.equal(again.body.name, 'Same ext');
        assert.deepEqual((await api.get(`/v1/accounts/${b.guid}`)).body, b);
    });

    it('§6 PUT /accounts/{account}/expire sets expired true and expired_at; "expired": false re-activates (ext)', async () => {
        await setup();
        const a = await createAccount(api);
        let res = await api.put(`/v1/accounts/${a.guid}/expire`);
        assert.equal(res.status, 200);
        assert.equal(res.body.guid, a.guid);
        assert.equal(res.body.expired, true);
        assert.match(res.body.expired_at, TS_RE);
        const got = await api.get(`/v1/accounts/${a.guid}`);
        assert.equal(got.body.expired, true);
        assert.equal(got.body.expired_at, res.body.expired_at);

        // By externalid too, and it stays expired (data kept).
        res = await api.put(`/v1/accounts/${enc(a.externalid)}/expire`);
        assert.equal(res.status, 200);
        assert.equal(res.body.expired, true);

        res = await api.put(`/v1/accounts/${a.guid}`, { json: { expired: false } });
        assert.equal(res.status, 200);
        assert.equal(res.body.expired, false);
        assert.equal(res.body.expired_at, null);
        assert.equal((await api.get(`/v1/accounts/${a.guid}`)).body.expired, false);
    });

    it('§6 PUT /accounts/{account}/expire on an unknown account -> 404', async () => {
        await setup();
        expectError(assert, await api.put('/v1/accounts/nope-nope/expire'), 404, 'not_found');
    });

    it('§6 DELETE /accounts/{account} -> 204, cascades to users, GET -> 404, externalid reusable', async () => {
        await setup();
        const ext = uniq('del');
        const a = await createAccount(api, { externalid: ext, user: { externalid: 'del-user', name: 'D' } });
        const user = (await api.get(`/v1/accounts/${a.guid}/users`)).body.data[0];
        assert.ok(user);

        const res = await api.delete(`/v1/accounts/${a.guid}`);
        assert.equal(res.status, 204);
        assert.equal(res.text, '');
        expectError(assert, await api.get(`/v1/accounts/${a.guid}`), 404, 'not_found');
        expectError(assert, await api.get(`/v1/accounts/${enc(ext)}`), 404, 'not_found');
        expectError(assert, await api.get(`/v1/accounts/${a.guid}/users`), 404, 'not_found');
        expectError(assert, await api.get(`/v1/accounts/${a.guid}/users/${user.guid}`), 404, 'not_found');
        expectError(assert, await api.delete(`/v1/accounts/${a.guid}`), 404, 'not_found');
        const list = await api.get('/v1/accounts', { query: { externalid: ext } });
        assert.equal(list.body.meta.total, 0);

        // The externalid can be reused; the new account is a different one, without the old users.
        const again = await createAccount(api, { externalid: ext });
        assert.notEqual(again.guid, a.guid);
        const users = await api.get(`/v1/accounts/${enc(ext)}/users`);
        assert.equal(users.status, 200);
        assert.equal(users.body.meta.total, 0);
        expectError(assert, await api.get(`/v1/accounts/${enc(ext)}/users/del-user`), 404, 'not_found');
    });

    it('§6 DELETE by externalid works', async () => {
        await setup();
        const a = await createAccount(api);
        assert.equal((await api.delete(`/v1/accounts/${enc(a.externalid)}`)).status, 204);
        expectError(assert, await api.get(`/v1/accounts/${a.guid}`), 404, 'not_found');
    });

    it('§1 {account}: the guid is tried first, then the externalid', async () => {
        await setup();
        const a = await createAccount(api);
        // b's externalid is a's guid: addressing that string reaches a (guid first).
        const b = await createAccount(api, { externalid: a.guid });
        const res = await api.get(`/v1/accounts/${a.guid}`);
        assert.equal(res.body.guid, a.guid);
        assert.equal((await api.get(`/v1/accounts/${b.guid}`)).body.externalid, a.guid);
    });

    it('§3 GET /accounts lists oldest first', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'order' });
        const c = s.client(p);
        const made = [];
        for (let i = 0; i < 5; i++) made.push(await createAccount(c, { name: `Order ${i}` }));
        const res = await c.get('/v1/accounts');
        assert.deepEqual(res.body.data.map((x) => x.guid), made.map((x) => x.guid));
    });

    it('§1 booleans in bodies accept "true"/"false"/"1"/"0": "expired": "false" and "0" re-activate; "yes" -> 400 validation_failed', async () => {
        await setup();
        const a = await createAccount(api);
        for (const value of ['false', '0']) {
            assert.equal((await api.put(`/v1/accounts/${a.guid}/expire`)).body.expired, true);
            const res = await api.put(`/v1/accounts/${a.guid}`, { json: { expired: value } });
            assert.equal(res.status, 200, `expired: ${JSON.stringify(value)}: ${res.text}`);
            assert.equal(res.body.expired, false);
            assert.equal(res.body.expired_at, null);
        }
        const bad = await api.put(`/v1/accounts/${a.guid}`, { json: { expired: 'yes' } });
        expectError(assert, bad, 400, 'validation_failed');
        assert.ok(bad.body.errors.expired, bad.text);
        const created = await api.post('/v1/accounts', { json: { name: 'Invited', externalid: uniq('inv'), send_invite: '1' } });
        assert.equal(created.status, 200, created.text);
    });

    it('§6 concurrent creates with one externalid: exactly one 200, the rest 409 conflict', async () => {
        await setup();
        const ext = uniq('race');
        const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
        try {
            const results = await Promise.all(
                Array.from({ length: 10 }, (_, i) => api.post('/v1/accounts', { json: { name: `Racer ${i}`, externalid: ext }, agent })),
            );
            assert.deepEqual(results.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
        } finally {
            agent.destroy();
        }
        assert.equal((await api.get('/v1/accounts', { query: { externalid: ext } })).body.meta.total, 1);
    });

    it('§1 timestamps are UTC with microseconds, taken from the server clock (the test clock moves them)', async () => {
        await setup();
        const offset = await ctx.server.advanceClock(86400);
        const a = await createAccount(api);
        const serverNow = Date.now() + offset * 1000;
        const created = Date.parse(a.created_at);
        assert.ok(Math.abs(created - serverNow) < 120000, `created_at ${a.created_at} is near the server's (advanced) now ${new Date(serverNow).toISOString()}`);
        assert.equal(a.updated_at, a.created_at);
        const expired = (await api.put(`/v1/accounts/${a.guid}/expire`)).body;
        assert.ok(Date.parse(expired.expired_at) >= created);
    });
});

// API.md section 6 (ext): users of an account.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, expectError, createAccount, uniq, enc, GUID_RE, TS_RE } from './lib/harness.mjs';

const ctx = useServer();
let api;
async function setup() {
    if (!api) api = ctx.server.client(await ctx.server.createPartner({ name: 'users' }));
}

describe('API.md §6 users (ext)', () => {
    it('POST /accounts/{account}/users -> 200 + user object; GET by guid and by externalid', async () => {
        await setup();
        const a = await createAccount(api);
        const res = await api.post(`/v1/accounts/${a.guid}/users`, {
            json: { externalid: 'user-1', name: 'Ann', email: 'ann@example.com', locale: 'nl' },
        });
        assert.equal(res.status, 200);
        const u = res.body;
        assert.match(u.guid, GUID_RE);
        assert.equal(u.externalid, 'user-1');
        assert.equal(u.name, 'Ann');
        assert.equal(u.email, 'ann@example.com');
        assert.equal(u.locale, 'nl');
        assert.match(u.created_at, TS_RE);
        assert.match(u.updated_at, TS_RE);
        assert.deepEqual(Object.keys(u).sort(), ['created_at', 'email', 'externalid', 'guid', 'locale', 'name', 'updated_at']);

        for (const acc of [a.guid, enc(a.externalid)]) {
            for (const usr of [u.guid, 'user-1']) {
                const got = await api.get(`/v1/accounts/${acc}/users/${usr}`);
                assert.equal(got.status, 200, `${acc}/${usr}`);
                assert.deepEqual(got.body, u);
            }
        }
    });

    it('omitted user fields read back as explicit null (§1)', async () => {
        await setup();
        const a = await createAccount(api);
        const res = await api.post(`/v1/accounts/${a.guid}/users`, { json: { name: 'Only name' } });
        assert.equal(res.status, 200);
        assert.equal(res.body.externalid, null);
        assert.equal(res.body.email, null);
        assert.equal(res.body.locale, null);
        assert.equal(res.body.name, 'Only name');
    });

    it('duplicate user externalid within an account -> 409 conflict; the same externalid in another account is fine', async () => {
        await setup();
        const a = await createAccount(api);
        const b = await createAccount(api);
        assert.equal((await api.post(`/v1/accounts/${a.guid}/users`, { json: { externalid: 'same', name: 'One' } })).status, 200);
        expectError(assert, await api.post(`/v1/accounts/${a.guid}/users`, { json: { externalid: 'same', name: 'Two' } }), 409, 'conflict');
        assert.equal((await api.post(`/v1/accounts/${b.guid}/users`, { json: { externalid: 'same', name: 'Three' } })).status, 200);
        const list = await api.get(`/v1/accounts/${a.guid}/users`);
        assert.deepEqual(list.body.data.map((x) => x.name), ['One']);
    });

    it('GET /accounts/{account}/users is paged, oldest first', async () => {
        await setup();
        const a = await createAccount(api);
        const made = [];
        for (let i = 0; i < 3; i++) {
            made.push((await api.post(`/v1/accounts/${a.guid}/users`, { json: { externalid: `p${i}`, name: `P${i}` } })).body);
        }
        let res = await api.get(`/v1/accounts/${a.guid}/users`);
        assert.deepEqual(res.body.data, made);
        assert.equal(res.body.meta.total, 3);
        assert.equal(res.body.meta.per_page, 100);
        res = await api.get(`/v1/accounts/${a.guid}/users`, { query: { per_page: '2', page: '2' } });
        assert.deepEqual(res.body.data, [made[2]]);
        assert.equal(res.body.meta.current_page, 2);
        assert.equal(res.body.meta.last_page, 2);
        assert.equal(res.body.meta.from, 3);
        assert.equal(res.body.meta.to, 3);
        assert.equal(new URL(res.body.links.prev).pathname, `/v1/accounts/${a.guid}/users`);
        assert.equal(res.body.links.next, null);
        res = await api.get(`/v1/accounts/${a.guid}/users`, { query: { per_page: '0' } });
        expectError(assert, res, 400, 'validation_failed');
        assert.ok(res.body.errors.per_page);
    });

    it('PUT /accounts/{account}/users/{user}: partial update; duplicate externalid -> 409', async () => {
        await setup();
        const a = await createAccount(api);
        const u = (await api.post(`/v1/accounts/${a.guid}/users`, { json: { externalid: 'pu', name: 'Old', email: 'old@example.com', locale: 'en' } })).body;
        await api.post(`/v1/accounts/${a.guid}/users`, { json: { externalid: 'taken', name: 'Other' } });
        await ctx.server.advanceClock(1);
        let res = await api.put(`/v1/accounts/${a.guid}/users/pu`, { json: { name: 'New' } });
        assert.equal(res.status, 200);
        assert.equal(res.body.guid, u.guid);
        assert.equal(res.body.name, 'New');
        assert.equal(res.body.email, 'old@example.com');
        assert.equal(res.body.locale, 'en');
        assert.equal(res.body.externalid, 'pu');
        assert.equal(res.body.created_at, u.created_at);
        assert.ok(res.body.updated_at > u.updated_at);

        res = await api.put(`/v1/accounts/${a.guid}/users/${u.guid}`, { json: { externalid: 'taken' } });
        expectError(assert, res, 409, 'conflict');
        res = await api.put(`/v1/accounts/${a.guid}/users/${u.guid}`, { json: { externalid: 'pu2', locale: 'fr' } });
        assert.equal(res.status, 200);
        assert.equal(res.body.externalid, 'pu2');
        assert.equal(res.body.locale, 'fr');
        assert.equal(res.body.name, 'New');
        assert.equal((await api.get(`/v1/accounts/${a.guid}/users/pu2`)).body.guid, u.guid);
        expectError(assert, await api.get(`/v1/accounts/${a.guid}/users/pu`), 404, 'not_found');
    });

    it('DELETE /accounts/{account}/users/{user} -> 204, then 404', async () => {
        await setup();
        const a = await createAccount(api);
        const u = (await api.post(`/v1/accounts/${a.guid}/users`, { json: { externalid: 'gone', name: 'G' } })).body;
        const keep = (await api.post(`/v1/accounts/${a.guid}/users`, { json: { externalid: 'keep', name: 'K' } })).body;
        const res = await api.delete(`/v1/accounts/${a.guid}/users/gone`);
        assert.equal(res.status, 204);
        assert.equal(res.text, '');
        expectError(assert, await api.get(`/v1/accounts/${a.guid}/users/${u.guid}`), 404, 'not_found');
        expectError(assert, await api.delete(`/v1/accounts/${a.guid}/users/${u.guid}`), 404, 'not_found');
        assert.deepEqual((await api.get(`/v1/accounts/${a.guid}/users`)).body.data, [keep]);
        // The externalid is free again.
        assert.equal((await api.post(`/v1/accounts/${a.guid}/users`, { json: { externalid: 'gone' } })).status, 200);
    });

    it('a user of one account is not reachable through another account of the same partner -> 404', async () => {
        await setup();
        const a = await createAccount(api);
        const b = await createAccount(api);
        const u = (await api.post(`/v1/accounts/${a.guid}/users`, { json: { externalid: 'mine', name: 'M' } })).body;
        expectError(assert, await api.get(`/v1/accounts/${b.guid}/users/${u.guid}`), 404, 'not_found');
        expectError(assert, await api.get(`/v1/accounts/${b.guid}/users/mine`), 404, 'not_found');
        expectError(assert, await api.put(`/v1/accounts/${b.guid}/users/${u.guid}`, { json: { name: 'x' } }), 404, 'not_found');
        expectError(assert, await api.delete(`/v1/accounts/${b.guid}/users/${u.guid}`), 404, 'not_found');
        assert.deepEqual((await api.get(`/v1/accounts/${a.guid}/users/${u.guid}`)).body, u);
    });

    it('users of an unknown account -> 404; user fields of the wrong type -> 400 validation_failed', async () => {
        await setup();
        expectError(assert, await api.get('/v1/accounts/no-such/users'), 404, 'not_found');
        expectError(assert, await api.post('/v1/accounts/no-such/users', { json: { name: 'x' } }), 404, 'not_found');
        const a = await createAccount(api);
        for (const [field, value] of [['name', 5], ['email', []], ['externalid', {}], ['locale', true]]) {
            const res = await api.post(`/v1/accounts/${a.guid}/users`, { json: { [field]: value } });
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(res.body.errors[field], `errors.${field} in ${res.text}`);
        }
        assert.equal((await api.get(`/v1/accounts/${a.guid}/users`)).body.meta.total, 0);
        const bad = await api.post('/v1/accounts', { json: { name: 'n', externalid: uniq('e'), user: 'x' } });
        expectError(assert, bad, 400, 'validation_failed');
        assert.ok(bad.body.errors.user, bad.text);
    });

    it('several users without an externalid may coexist (null is not a duplicate)', async () => {
        await setup();
        const a = await createAccount(api);
        for (let i = 0; i < 3; i++) {
            const res = await api.post(`/v1/accounts/${a.guid}/users`, { json: { name: `anon ${i}` } });
            assert.equal(res.status, 200, res.text);
            assert.equal(res.body.externalid, null);
        }
        assert.equal((await api.get(`/v1/accounts/${a.guid}/users`)).body.meta.total, 3);
    });
});

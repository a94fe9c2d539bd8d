// API.md section 2: a partner sees only its own accounts; another partner's object is a 404, never 403.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, expectError, createAccount, enc } from './lib/harness.mjs';

const ctx = useServer();
let A;
let B;
let account;
let user;

describe('API.md §2 tenant isolation', () => {
    before(async () => {
        const s = ctx.server;
        A = s.client(await s.createPartner({ name: 'tenant-a' }));
        B = s.client(await s.createPartner({ name: 'tenant-b' }));
        account = await createAccount(A, { name: 'A secret', externalid: 'shared-ext', user: { externalid: 'a-user', name: 'Alice', email: 'alice@a.example' } });
        user = (await A.get(`/v1/accounts/${account.guid}/users/a-user`)).body;
        assert.ok(user?.guid);
    });

    for (const by of ['guid', 'externalid']) {
        it(`§2 partner B gets 404 not_found for partner A's account by ${by} on every account and user route; A's data is untouched`, async () => {
            const ref = by === 'guid' ? account.guid : enc(account.externalid);
            const base = `/v1/accounts/${ref}`;
            const calls = [
                ['GET', base],
                ['PUT', base, { name: 'hijacked', externalid: 'hijacked' }],
                ['PUT', `${base}`, { expired: false }],
                ['PUT', `${base}/expire`],
                ['GET', `${base}/users`],
                ['POST', `${base}/users`, { externalid: 'intruder', name: 'Mallory' }],
                ['GET', `${base}/users/${user.guid}`],
                ['GET', `${base}/users/a-user`],
                ['PUT', `${base}/users/${user.guid}`, { name: 'Mallory' }],
                ['PUT', `${base}/users/a-user`, { email: 'mallory@b.example' }],
                ['DELETE', `${base}/users/${user.guid}`],
                ['DELETE', `${base}/users/a-user`],
                ['DELETE', base],
            ];
            for (const [method, target, json] of calls) {
                const res = await B.request(method, target, json ? { json } : {});
                expectError(assert, res, 404, 'not_found');
                assert.ok(!res.text.includes('A secret'), `${method} ${target} leaks nothing`);
            }
            // B's list does not show it either.
            const list = await B.get('/v1/accounts', { query: { externalid: 'shared-ext' } });
            assert.equal(list.body.meta.total, 0);
            assert.equal((await B.get('/v1/accounts', { query: { search: 'secret' } })).body.meta.total, 0);

            // A sees everything as it was.
            assert.deepEqual((await A.get(`/v1/accounts/${account.guid}`)).body, account);
            const users = await A.get(`/v1/accounts/${account.guid}/users`);
            assert.deepEqual(users.body.data, [user]);
        });
    }

    it('§6 externalid is unique per partner: B may use the same externalid as A, and each sees its own', async () => {
        const mine = await createAccount(B, { name: 'B own', externalid: 'shared-ext' });
        assert.notEqual(mine.guid, account.guid);
        assert.equal((await B.get('/v1/accounts/shared-ext')).body.guid, mine.guid);
        assert.equal((await A.get('/v1/accounts/shared-ext')).body.guid, account.guid);
        // B addressing A's guid still gets 404 even though B has an account with that externalid.
        expectError(assert, await B.get(`/v1/accounts/${account.guid}`), 404, 'not_found');
        assert.equal((await B.delete('/v1/accounts/shared-ext')).status, 204);
        assert.deepEqual((await A.get('/v1/accounts/shared-ext')).body, account);
    });
});

// API.md section 9 run export (signed, expiring links), run retention, and section 6: deleting an account
// stops its runs.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, createAccount } from './lib/harness.mjs';
import { defs, createAutomation, blendPath, runAsync, waitRun, until } from './lib/automations.mjs';

const DAY = 86400;
const ctx = useServer({ args: ['--retention-interval', '1'] });
let A;
let account;
let hello;

const pathOf = (url) => {
    const u = new URL(url);
    return u.pathname + u.search;
};

describe('API.md §9 run export and retention; §6 account delete', () => {
    before(async () => {
        A = ctx.server.client(await ctx.server.createPartner({ name: 'export-a', rateLimit: 100000 }));
        account = await createAccount(A);
        hello = await createAutomation(A, account, defs.hello());
    });

    it('§9 export: two signed links; debug downloads the run and its whole log, display the output; no credentials needed', async () => {
        const res = await A.post(`${blendPath(account, hello)}/run`, { json: { inputs: { name: 'Ann' } } });
        assert.equal(res.status, 200);
        const guid = res.headers['x-run-guid'];
        const links = await A.get(`${blendPath(account, hello)}/runs/${guid}/export`);
        assert.equal(links.status, 200, links.text);
        assert.ok(links.body.debug.startsWith(ctx.server.baseUrl), links.body.debug);
        assert.notEqual(links.body.debug, links.body.display);
        const debug = await ctx.server.request('GET', pathOf(links.body.debug));
        assert.equal(debug.status, 200, debug.text);
        assert.match(debug.headers['content-disposition'], new RegExp(`attachment; filename="run-${guid}-debug.json"`));
        assert.equal(debug.body.run.guid, guid);
        assert.deepEqual(debug.body.run.output, { hello: 'Ann' });
        assert.deepEqual(debug.body.run.inputs, { name: 'Ann' });
        const logs = await A.get(`${blendPath(account, hello)}/runs/${guid}/logs`);
        assert.deepEqual(debug.body.logs, logs.body.data, 'the download holds the same log as the logs endpoint');
        assert.ok(debug.body.logs.length >= 1);
        const display = await ctx.server.request('GET', pathOf(links.body.display));
        assert.equal(display.status, 200);
        assert.deepEqual(display.body, { hello: 'Ann' });
        // Under /automations too.
        const again = await A.get(`/v1/accounts/${account.guid}/automations/${hello.guid}/runs/${guid}/export`);
        assert.equal(again.status, 200);
    });

    it('§9 export links refuse tampering and expire after one hour (404, same answer for every refusal)', async () => {
        const run = await runAsync(A, account, hello, { name: 'Bo' });
        await waitRun(A, account, hello, run.guid);
        const links = await A.get(`${blendPath(account, hello)}/runs/${run.guid}/export`);
        const debug = new URL(links.body.debug);
        const sig = debug.searchParams.get('signature');
        const expires = debug.searchParams.get('expires');
        const other = await runAsync(A, account, hello, { name: 'Cy' });
        const forged = [
            debug.pathname + `?expires=${expires}&signature=${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`,
            debug.pathname + `?expires=${Number(expires) + 3600}&signature=${sig}`,
            debug.pathname.replace(run.guid, other.guid) + debug.search,
            debug.pathname.replace('/debug', '/display') + debug.search,
            debug.pathname + `?expires=${expires}`,
            debug.pathname,
            `/v1/exports/runs/${run.guid}/everything` + debug.search,
        ];
        for (const target of forged) {
            const res = await ctx.server.request('GET', target);
            assert.equal(res.status, 404, `${target}: ${res.status} ${res.text}`);
            assert.equal(res.body.code, 'not_found');
        }
        assert.equal((await ctx.server.request('GET', debug.pathname + debug.search)).status, 200);
        await ctx.server.advanceClock(3601);
        const expired = await ctx.server.request('GET', debug.pathname + debug.search);
        assert.equal(expired.status, 404, 'an hour later the link no longer works');
        // A fresh link works again.
        const fresh = await A.get(`${blendPath(account, hello)}/runs/${run.guid}/export`);
        assert.equal((await ctx.server.request('GET', pathOf(fresh.body.debug))).status, 200);
    });

    it('§9 export of another partner\'s run or an unknown run is 404', async () => {
        const B = ctx.server.client(await ctx.server.createPartner({ name: 'export-b' }));
        const run = await runAsync(A, account, hello, { name: 'Di' });
        const res = await B.get(`${blendPath(account, hello)}/runs/${run.guid}/export`);
        assert.equal(res.status, 404);
        const unknown = await A.get(`${blendPath(account, hello)}/runs/00000000-0000-7000-8000-000000000000/export`);
        assert.equal(unknown.status, 404);
    });

    it('retention: ended runs older than 30 days are deleted with their logs; younger ones and queued ones stay', async () => {
        const acc = await createAccount(A);
        const b = await createAutomation(A, acc, defs.hello());
        const old = await runAsync(A, acc, b, { name: 'old' });
        await waitRun(A, acc, b, old.guid);
        await ctx.server.advanceClock(29 * DAY);
        const young = await runAsync(A, acc, b, { name: 'young' });
        await waitRun(A, acc, b, young.guid);
        assert.equal((await A.get(`${blendPath(acc, b)}/runs/${old.guid}`)).status, 200, 'not yet 30 days old');
        await ctx.server.advanceClock(2 * DAY);
        await until(async () => (await A.get(`${blendPath(acc, b)}/runs/${old.guid}`)).status === 404, { what: 'the old run pruned', timeoutMs: 15000 });
        assert.equal((await A.get(`${blendPath(acc, b)}/runs/${old.guid}/logs`)).status, 404);
        const kept = await A.get(`${blendPath(acc, b)}/runs/${young.guid}`);
        assert.equal(kept.status, 200, 'a run that ended 2 days ago is kept');
        assert.equal((await A.get(`${blendPath(acc, b)}/runs`)).body.meta.total, 1);
        const metrics = await ctx.server.request('GET', '/metrics');
        const m = /weft_runs_pruned_total (\d+)/.exec(metrics.text);
        assert.ok(m && Number(m[1]) >= 1, 'pruned runs are counted in /metrics');
    });

    it('§6 deleting an account stops its running runs at once, cancels its queued ones, and answers their sync callers', async () => {
        const P = ctx.server.client(await ctx.server.createPartner({ name: 'export-del', concurrency: 1, rateLimit: 100000 }));
        const acc = await createAccount(P);
        const slow = await createAutomation(P, acc, defs.sleep(300));
        const running = await runAsync(P, acc, slow);
        await waitRun(P, acc, slow, running.guid, (r) => r.status === 'running');
        const queued = await runAsync(P, acc, slow);
        // A sync caller waiting on a third run (queued behind the others).
        const sync = P.post(`${blendPath(acc, slow)}/run`, { json: {} });
        await until(async () => (await P.get(`${blendPath(acc, slow)}/runs`)).body.meta.total === 3, { what: 'the sync run queued' });
        const started = Date.now();
        const del = await P.delete(`/v1/accounts/${acc.guid}`);
        assert.equal(del.status, 204);
        const answer = await sync;
        assert.ok(Date.now() - started < 5000, 'the sync caller is answered promptly');
        assert.equal(answer.status, 422, answer.text);
        assert.equal(answer.body.run.status, 'stopped');
        assert.equal((await P.get(`/v1/accounts/${acc.guid}`)).status, 404);
        assert.equal((await P.get(`${blendPath(acc, slow)}/runs/${queued.guid}`)).status, 404);
        // The server goes on running other accounts' runs, and did not treat the vanished runs as failures.
        const acc2 = await createAccount(P);
        const quick = await createAutomation(P, acc2, defs.hello());
        const res = await P.post(`${blendPath(acc2, quick)}/run`, { json: { inputs: { name: 'x' } } });
        assert.equal(res.status, 200);
        const log = ctx.server.log();
        assert.ok(!/recording its end failed/.test(log), 'a run deleted with its account is not logged as an error');
    });
});

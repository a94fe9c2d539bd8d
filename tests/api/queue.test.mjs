// API.md section 4: the queue cap (400 queue_full, nothing created), per-account concurrency, FIFO start order.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, expectError, createAccount } from './lib/harness.mjs';
import { defs, createAutomation, blendPath, runAsync, waitRun, allRuns, countRuns, until, FINAL } from './lib/automations.mjs';

const ctx = useServer();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Count of runs in `running` or `must stop` across the given automations. */
async function activeCount(client, account, blends) {
    let n = 0;
    for (const b of blends) {
        n += await countRuns(client, account, b, { status: 'running' });
        n += await countRuns(client, account, b, { status: 'must stop' });
    }
    return n;
}

const micros = (ts) => Date.parse(ts) * 1000 + Number(ts.slice(23, 26));

/**
 * Most runs whose [starttime, stoptime - slackMs) intervals overlap at any instant. The server takes a run's
 * starttime when its claim is prepared and its stoptime before the final write is queued, so a run claimed
 * in the same instant as another one's end may show a few ms of overlap: `slackMs` absorbs that.
 */
function maxOverlap(runs, slackMs = 0) {
    const events = [];
    for (const r of runs) {
        events.push([micros(r.starttime), 1]);
        events.push([Math.max(micros(r.starttime), micros(r.stoptime) - slackMs * 1000), -1]);
    }
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // ends before starts at the same instant
    let cur = 0;
    let max = 0;
    for (const [, d] of events) max = Math.max(max, (cur += d));
    return max;
}

/** The runs active at the instants where more than `cap` overlap (for failure messages). */
function overlapReport(runs, cap) {
    const out = [];
    for (const r of runs) {
        const active = runs.filter((x) => x.starttime <= r.starttime && r.starttime < x.stoptime);
        if (active.length > cap) {
            out.push(`at ${r.starttime}: ` + active.map((x) => `${x.guid.slice(-6)} ${x.starttime.slice(11)}..${x.stoptime.slice(11)}`).join(', '));
        }
    }
    return out.slice(0, 5).join('\n');
}

describe('API.md §4 queue cap, concurrency and order', () => {
    it('§4 exactly queue_cap queued runs (plus the running ones) are accepted; the next is 400 queue_full and creates nothing', async () => {
        const s = ctx.server;
        const P = s.client(await s.createPartner({ name: 'cap-3', queueCap: 3, concurrency: 1, rateLimit: 100000 }));
        const acc = await createAccount(P);
        const slow = await createAutomation(P, acc, defs.sleep(30));
        const other = await createAutomation(P, acc, defs.hello());
        const running = await runAsync(P, acc, slow);
        await waitRun(P, acc, slow, running.guid, (r) => r.status === 'running');
        const queued = [];
        for (let i = 0; i < 3; i++) queued.push(await runAsync(P, acc, i === 1 ? other : slow, { name: 'q' }));
        const before = (await countRuns(P, acc, slow)) + (await countRuns(P, acc, other));
        assert.equal(before, 4);
        // Async, sync, another automation of the account, retry, idempotent-key: all refused.
        for (const [b, opts] of [
            [slow, { json: { async: true } }],
            [slow, { json: {} }],
            [other, { json: { async: true, inputs: { name: 'x' } } }],
            [other, { json: { inputs: { name: 'x' } }, query: { async: '1' }, headers: { 'Idempotency-Key': 'fresh-key' } }],
        ]) {
            const res = await P.post(`${blendPath(acc, b)}/run`, opts);
            expectError(assert, res, 400, 'queue_full');
            assert.equal(res.body.errors, undefined);
        }
        expectError(assert, await P.post(`${blendPath(acc, slow)}/runs/${running.guid}/retry`), 400, 'queue_full');
        assert.equal((await countRuns(P, acc, slow)) + (await countRuns(P, acc, other)), before, 'nothing created');
        assert.equal((await countRuns(P, acc, slow, { status: 'queued' })) + (await countRuns(P, acc, other, { status: 'queued' })), 3);
        // Another account of the same partner has its own cap.
        const acc2 = await createAccount(P);
        const b2 = await createAutomation(P, acc2, defs.empty());
        assert.equal((await P.post(`${blendPath(acc2, b2)}/run`, { json: { async: true } })).status, 202);
        // Stopping a queued run frees a place at once.
        const st = await P.post(`${blendPath(acc, slow)}/runs/${queued[0].guid}/stop`);
        assert.equal(st.status, 200);
        assert.equal(st.body.status, 'stopped');
        assert.equal(st.body.starttime, null);
        const again = await runAsync(P, acc, slow);
        expectError(assert, await P.post(`${blendPath(acc, slow)}/run`, { json: { async: true } }), 400, 'queue_full');
        // Clean up: stop everything.
        for (const r of [running, again, queued[2]]) await P.post(`${blendPath(acc, slow)}/runs/${r.guid}/stop`);
        await P.post(`${blendPath(acc, other)}/runs/${queued[1].guid}/stop`);
    });

    it('§4 the default cap is 200 queued per account (with 5 running): the 201st queued run is queue_full', async () => {
        const s = ctx.server;
        const P = s.client(await s.createPartner({ name: 'cap-default', rateLimit: 100000 }));
        const acc = await createAccount(P);
        const slow = await createAutomation(P, acc, defs.sleep(60));
        const first = [];
        for (let i = 0; i < 5; i++) first.push(await runAsync(P, acc, slow));
        await until(async () => (await countRuns(P, acc, slow, { status: 'running' })) === 5, { what: '5 running' });
        const results = [];
        for (let i = 0; i < 200; i += 20) {
            results.push(...(await Promise.all(Array.from({ length: 20 }, () => P.post(`${blendPath(acc, slow)}/run`, { json: { async: true } })))));
        }
        assert.deepEqual([...new Set(results.map((r) => r.status))], [202], 'all 200 accepted');
        assert.equal(await countRuns(P, acc, slow, { status: 'queued' }), 200);
        assert.equal(await countRuns(P, acc, slow, { status: 'running' }), 5, 'concurrency 5 by default');
        expectError(assert, await P.post(`${blendPath(acc, slow)}/run`, { json: { async: true } }), 400, 'queue_full');
        expectError(assert, await P.post(`${blendPath(acc, slow)}/run`, { json: {} }), 400, 'queue_full');
        assert.equal(await countRuns(P, acc, slow), 205, 'nothing created by the refused calls');
        // Deleting the account cancels all of it.
        assert.equal((await P.delete(`/v1/accounts/${acc.guid}`)).status, 204);
    });

    it('§4 concurrency is never exceeded while 60 short runs drain (sampled with GET runs?status=running); every run finishes', async () => {
        const s = ctx.server;
        const P = s.client(await s.createPartner({ name: 'conc-3', concurrency: 3, rateLimit: 100000 }));
        const acc = await createAccount(P);
        const a = await createAutomation(P, acc, defs.sleepN());
        // Queued all at once, each sleeping 0.2 s: the drain takes about 4 s at 3 at a time, long enough to sample
        // however slow the build (sequential submissions under ASan used to leave too little to sample).
        const runs = await Promise.all(Array.from({ length: 60 }, (_, i) => runAsync(P, acc, a, { n: i, s: 0.2 })));
        let maxSeen = 0;
        let samples = 0;
        await until(async () => {
            // One call per sample: its count is a consistent snapshot.
            const res = await P.get(`${blendPath(acc, a)}/runs`, { query: { status: 'running', per_page: 100 } });
            const n = res.body.meta.total;
            samples++;
            maxSeen = Math.max(maxSeen, n);
            assert.ok(n <= 3, `${n} runs running at once (cap 3)`);
            return (await countRuns(P, acc, a, { finishedOnly: 'true' })) === 60;
        }, { timeoutMs: 45000, intervalMs: 10, what: 'the queue to drain' });
        const ended = await allRuns(P, acc, a);
        assert.equal(ended.length, 60);
        for (const r of ended) assert.equal(r.status, 'finished', JSON.stringify(r));
        assert.ok(samples >= 5, `sampled ${samples} times`);
        assert.equal(maxSeen, 3, 'the cap is used');
        for (const [i, r] of runs.entries()) {
            const got = await P.get(`${blendPath(acc, a)}/runs/${r.guid}`);
            assert.deepEqual(got.body.output, { n: i });
        }
    });

    it('§4 with sleep runs of two automations: exactly the cap run account-wide, the rest wait queued; another account is not held up', async () => {
        const s = ctx.server;
        const P = s.client(await s.createPartner({ name: 'conc-2', concurrency: 2, rateLimit: 100000 }));
        const acc = await createAccount(P);
        const b = await createAutomation(P, acc, defs.sleepN());
        const c = await createAutomation(P, acc, defs.sleepN());
        const runs = [];
        for (let i = 0; i < 6; i++) runs.push(await runAsync(P, acc, i % 2 ? c : b, { n: i, s: 1 }));
        await until(async () => (await activeCount(P, acc, [b, c])) === 2, { what: '2 running' });
        // Hold for a while (inside the first 1 s sleeps nothing ends): 2 running, 4 queued.
        const t0 = Date.now();
        while (Date.now() - t0 < 400) {
            assert.equal(await activeCount(P, acc, [b, c]), 2);
            assert.equal((await countRuns(P, acc, b, { status: 'queued' })) + (await countRuns(P, acc, c, { status: 'queued' })), 4);
            await sleep(30);
        }
        // Another account of the same partner runs at once.
        const acc2 = await createAccount(P);
        const quick = await createAutomation(P, acc2, defs.empty());
        const t1 = Date.now();
        assert.equal((await P.post(`${blendPath(acc2, quick)}/run`)).status, 200);
        assert.ok(Date.now() - t1 < 900, 'not queued behind the other account');
        const ended = [];
        for (const [i, r] of runs.entries()) ended.push(await waitRun(P, acc, i % 2 ? c : b, r.guid, undefined, { timeoutMs: 15000 }));
        for (const [i, r] of ended.entries()) {
            assert.equal(r.status, 'finished');
            assert.deepEqual(r.output, { n: i });
        }
        const overlap = maxOverlap(ended, 100);
        assert.equal(overlap, 2, `runs of 1 s overlapped ${overlap} deep (cap 2):\n${overlapReport(ended, 2)}`);
    });

    it('§4 runs of an account start in the order they were queued (FIFO), across its automations', async () => {
        const s = ctx.server;
        const P = s.client(await s.createPartner({ name: 'fifo', concurrency: 1, rateLimit: 100000 }));
        const acc = await createAccount(P);
        const a = await createAutomation(P, acc, defs.sleepN());
        const b = await createAutomation(P, acc, defs.sleepN());
        const gate = await runAsync(P, acc, a, { n: -1, s: 0.5 });
        await waitRun(P, acc, a, gate.guid, (r) => r.status === 'running');
        const runs = [];
        for (let i = 0; i < 12; i++) runs.push([i % 3 ? a : b, await runAsync(P, acc, i % 3 ? a : b, { n: i, s: 0.01 })]);
        const ended = [];
        for (const [bl, r] of runs) ended.push(await waitRun(P, acc, bl, r.guid, (x) => FINAL.has(x.status), { timeoutMs: 15000 }));
        const byStart = [...ended].sort((x, y) => (x.starttime < y.starttime ? -1 : x.starttime > y.starttime ? 1 : 0));
        assert.deepEqual(byStart.map((r) => r.output.n), [...Array(12).keys()]);
        // One at a time (50 ms slack: see maxOverlap).
        for (let i = 1; i < byStart.length; i++) assert.ok(micros(byStart[i - 1].stoptime) - 50000 <= micros(byStart[i].starttime), 'one at a time');
    });

    it('§4 sync calls start at once only in a free slot: mixed with async runs, the cap holds and every caller gets its output', async () => {
        const s = ctx.server;
        const P = s.client(await s.createPartner({ name: 'sync-mix', concurrency: 2, rateLimit: 100000 }));
        const acc = await createAccount(P);
        const a = await createAutomation(P, acc, defs.sleepN());
        const asyncRuns = await Promise.all(Array.from({ length: 4 }, (_, i) => runAsync(P, acc, a, { n: 100 + i, s: 0.3 })));
        let maxSeen = 0;
        let sampling = true;
        const sampler = (async () => {
            while (sampling) {
                const n = (await P.get(`${blendPath(acc, a)}/runs`, { query: { status: 'running', per_page: 1 } })).body.meta.total;
                maxSeen = Math.max(maxSeen, n);
                await sleep(10);
            }
        })();
        const syncCalls = await Promise.all(
            Array.from({ length: 6 }, (_, i) => P.post(`${blendPath(acc, a)}/run`, { json: { inputs: { n: i, s: 0.2 } } })),
        );
        sampling = false;
        await sampler;
        for (const [i, res] of syncCalls.entries()) {
            assert.equal(res.status, 200, res.text);
            assert.deepEqual(res.body, { n: i });
        }
        for (const r of asyncRuns) assert.equal((await waitRun(P, acc, a, r.guid)).status, 'finished');
        assert.ok(maxSeen <= 2, `${maxSeen} running at once (cap 2)`);
        const ended = await allRuns(P, acc, a);
        assert.equal(ended.length, 10);
        assert.ok(maxOverlap(ended, 50) <= 2, overlapReport(ended, 2));
    });

    it('§4 a sync call waits behind the runs queued before it (FIFO), then answers with its output', async () => {
        const s = ctx.server;
        const P = s.client(await s.createPartner({ name: 'sync-fifo', concurrency: 1, rateLimit: 100000 }));
        const acc = await createAccount(P);
        const a = await createAutomation(P, acc, defs.sleepN());
        const gate = await runAsync(P, acc, a, { n: -1, s: 0.4 });
        await waitRun(P, acc, a, gate.guid, (r) => r.status === 'running');
        const queued = await runAsync(P, acc, a, { n: 0, s: 0.1 });
        const res = await P.post(`${blendPath(acc, a)}/run`, { json: { inputs: { n: 1, s: 0 } } });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { n: 1 });
        const first = await waitRun(P, acc, a, queued.guid);
        const sync = (await allRuns(P, acc, a)).find((r) => r.guid === res.headers['x-run-guid']);
        assert.ok(sync, 'the sync run is listed');
        assert.ok(micros(first.stoptime) - 50000 <= micros(sync.starttime), `queued first: ${first.stoptime} vs ${sync.starttime}`);
        assert.equal(sync.context, 'api_sync');
        assert.equal(sync.attempt, 1);
    });
});

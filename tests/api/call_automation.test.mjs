// The call_automation block through the real queue and workers (AUTOMATIONS.md section 2): sync calls return the
// called run's output, async ones its run, calls stay inside the account, and a sync call never deadlocks on the
// account's concurrency limit.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, createAccount, GUID_RE } from './lib/harness.mjs';
import { defs, createAutomation, blendPath, waitRun, allRuns } from './lib/automations.mjs';

const ctx = useServer();

const caller = (automation, { async = false, inputs = { name: '{$.inputs.who}' } } = {}) => ({
    schema: 1,
    inputs: [{ block_id: 'in', flow: 'start', field_name: 'who', type: 'string', default: 'Zed' }],
    flows: {
        start: [
            { id: 'call', type: 'call_automation', automation, inputs, async },
            { id: 'out', type: 'output', value: { got: '{$.call}' } },
        ],
    },
});

describe('call_automation through the queue', () => {
    let A;
    let account;
    let hello;
    before(async () => {
        A = ctx.server.client(await ctx.server.createPartner({ name: 'calls-a', rateLimit: 100000 }));
        account = await createAccount(A);
        hello = await createAutomation(A, account, defs.hello(), { name: 'greeter' });
    });

    it('sync: the block outputs the called run\'s output; the called run is recorded with context call_automation', async () => {
        const parent = await createAutomation(A, account, caller('greeter'));
        const res = await A.post(`${blendPath(account, parent)}/run`, { json: { inputs: { who: 'Ida' } } });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { got: { hello: 'Ida' } });
        const runs = await allRuns(A, account, hello);
        assert.equal(runs.length, 1);
        assert.equal(runs[0].context, 'call_automation');
        assert.equal(runs[0].status, 'finished');
        // By guid too.
        const byGuid = await createAutomation(A, account, caller(hello.guid));
        const r2 = await A.post(`${blendPath(account, byGuid)}/run`, { json: {} });
        assert.deepEqual(r2.body, { got: { hello: 'Zed' } });
    });

    it('async: the block outputs the queued run, which then finishes on its own', async () => {
        const parent = await createAutomation(A, account, caller('greeter', { async: true }));
        const res = await A.post(`${blendPath(account, parent)}/run`, { json: { inputs: { who: 'Jo' } } });
        assert.equal(res.status, 200, res.text);
        assert.match(res.body.got.guid, GUID_RE);
        assert.equal(res.body.got.context, 'call_automation');
        const child = await waitRun(A, account, hello, res.body.got.guid);
        assert.equal(child.status, 'finished');
        assert.deepEqual(child.output, { hello: 'Jo' });
    });

    it('with a concurrency limit of 1 a sync call still completes: the sub-run runs in its waiting parent\'s slot', async () => {
        const P = ctx.server.client(await ctx.server.createPartner({ name: 'calls-one', concurrency: 1, rateLimit: 100000 }));
        const acc = await createAccount(P);
        await createAutomation(P, acc, defs.hello(), { name: 'greeter' });
        const mid = await createAutomation(P, acc, caller('greeter'), { name: 'middle' });
        const top = await createAutomation(P, acc, caller('middle', { inputs: { who: '{$.inputs.who}' } }));
        const res = await P.post(`${blendPath(acc, top)}/run`, { json: { inputs: { who: 'Kim' } }, timeoutMs: 15000 });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { got: { got: { hello: 'Kim' } } });
        assert.equal((await allRuns(P, acc, mid))[0].status, 'finished');
        // Other runs of the account still wait for the limit: two async runs of the slow kind run one at a time.
        const slow = await createAutomation(P, acc, defs.sleep(1));
        const r1 = await P.post(`${blendPath(acc, slow)}/run`, { json: { async: true } });
        const r2 = await P.post(`${blendPath(acc, slow)}/run`, { json: { async: true } });
        const second = await waitRun(P, acc, slow, r2.body.guid, (r) => r.status !== 'queued');
        const first = await waitRun(P, acc, slow, r1.body.guid);
        assert.ok(second.starttime >= first.stoptime, 'the limit still holds for runs that are not sub-runs');
    });

    it('a missing automation, or one in another account, fails the calling block with a clear message', async () => {
        const other = await createAccount(A);
        await createAutomation(A, other, defs.hello(), { name: 'elsewhere' });
        for (const name of ['no such thing', 'elsewhere']) {
            const parent = await createAutomation(A, account, caller(name));
            const res = await A.post(`${blendPath(account, parent)}/run`, { json: {} });
            assert.equal(res.status, 422, res.text);
            assert.equal(res.body.code, 'run_failed');
            assert.match(res.body.error, new RegExp(`no automation "${name}" in this account`));
        }
    });

    it('a failing called run fails the calling block', async () => {
        await createAutomation(A, account, defs.fail('inner trouble'), { name: 'breaks' });
        const parent = await createAutomation(A, account, caller('breaks', { inputs: {} }));
        const res = await A.post(`${blendPath(account, parent)}/run`, { json: {} });
        assert.equal(res.status, 422, res.text);
        assert.match(res.body.error, /called run ended failed/);
    });
});

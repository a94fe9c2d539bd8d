// API.md section 3: paging of GET /accounts with 0, 1, 100, 101 and 250 accounts.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, expectError } from './lib/harness.mjs';

const ctx = useServer();
const SIZES = [0, 1, 100, 101, 250];
const partners = {}; // size -> {client, guids}

async function fill(n) {
    const s = ctx.server;
    // Creating accounts counts against the partner's window: give these partners room.
    const p = await s.createPartner({ name: `paging-${n}`, rateLimit: 100000 });
    const client = s.client(p);
    const guids = [];
    // Sequential creation: the order of creation is the order the list must return.
    for (let i = 0; i < n; i++) {
        const res = await client.post('/v1/accounts', { json: { name: `Paged ${i}`, externalid: `paged-${n}-${i}` } });
        assert.equal(res.status, 200, res.text);
        guids.push(res.body.guid);
    }
    partners[n] = { client, guids };
}

function expectedMeta(n, perPage, page) {
    const lastPage = Math.max(1, Math.ceil(n / perPage));
    const first = (page - 1) * perPage + 1;
    const nonEmpty = first <= n;
    return {
        current_page: page,
        from: nonEmpty ? first : null,
        last_page: lastPage,
        per_page: perPage,
        to: nonEmpty ? Math.min(page * perPage, n) : null,
        total: n,
    };
}

function paramsWithout(searchParams, name) {
    return [...searchParams.entries()].filter(([k]) => k !== name).map(([k, v]) => `${k}=${v}`).sort();
}

// §3: absolute URL to the same collection, keeping the caller's other parameters, with page=N.
function checkUrl(label, url, { port, pathname, callerQuery, page }) {
    assert.equal(typeof url, 'string', `${label} is a URL`);
    const u = new URL(url);
    assert.equal(u.origin, `http://127.0.0.1:${port}`, `${label} origin`);
    assert.equal(u.pathname, pathname, `${label} path`);
    assert.equal(u.searchParams.getAll('page').length, 1, `${label} has one page param: ${url}`);
    assert.equal(u.searchParams.get('page'), String(page), `${label} page: ${url}`);
    assert.deepEqual(paramsWithout(u.searchParams, 'page'), paramsWithout(new URLSearchParams(callerQuery), 'page'), `${label} keeps the caller's other params: ${url}`);
}

async function checkPage(n, query, { perPage, page }) {
    const { client, guids } = partners[n];
    const res = await client.get('/v1/accounts', { query });
    assert.equal(res.status, 200, res.text);
    const { data, links, meta } = res.body;
    const want = expectedMeta(n, perPage, page);
    const { path, ...metaRest } = meta;
    assert.deepEqual(metaRest, want, `meta for n=${n} ${JSON.stringify(query)}`);
    const port = ctx.server.port;
    const opts = { port, pathname: '/v1/accounts', callerQuery: query };
    checkUrl('meta.path', path, { ...opts, page });
    checkUrl('links.first', links.first, { ...opts, page: 1 });
    checkUrl('links.last', links.last, { ...opts, page: want.last_page });
    // API.md is silent on prev past the end; Weft points it at the last page that exists.
    if (page === 1) assert.equal(links.prev, null, 'prev is null on the first page');
    else checkUrl('links.prev', links.prev, { ...opts, page: Math.min(page - 1, want.last_page) });
    if (page >= want.last_page) assert.equal(links.next, null, 'next is null on the last page');
    else checkUrl('links.next', links.next, { ...opts, page: page + 1 });
    const start = (page - 1) * perPage;
    assert.deepEqual(data.map((a) => a.guid), guids.slice(start, start + perPage), 'items, oldest first');
    return res.body;
}

describe('API.md §3 paging', () => {
    before(async () => {
        for (const n of SIZES) await fill(n);
    });

    for (const n of SIZES) {
        it(`§3 ${n} accounts: default page 1, per_page 100; exact meta and links`, async () => {
            await checkPage(n, {}, { perPage: 100, page: 1 });
        });

        it(`§3 ${n} accounts: every page in turn covers all accounts exactly once, oldest first, stable`, async () => {
            const lastPage = Math.max(1, Math.ceil(n / 100));
            const seen = [];
            for (let page = 1; page <= lastPage; page++) {
                const body = await checkPage(n, { page: String(page) }, { perPage: 100, page });
                seen.push(...body.data.map((a) => a.guid));
            }
            assert.deepEqual(seen, partners[n].guids);
            // Asking again gives the same order.
            const again = await checkPage(n, { page: '1' }, { perPage: 100, page: 1 });
            assert.deepEqual(again.data.map((a) => a.guid), partners[n].guids.slice(0, 100));
        });

        it(`§3 ${n} accounts: a page past the end -> data [], from/to null, correct meta`, async () => {
            const lastPage = Math.max(1, Math.ceil(n / 100));
            await checkPage(n, { page: String(lastPage + 1) }, { perPage: 100, page: lastPage + 1 });
            await checkPage(n, { page: '1000' }, { perPage: 100, page: 1000 });
        });
    }

    it('§3 per_page (ext) 1..100 with other parameters kept in every link', async () => {
        await checkPage(250, { per_page: '1' }, { perPage: 1, page: 1 });
        await checkPage(250, { per_page: '1', page: '250' }, { perPage: 1, page: 250 });
        await checkPage(250, { per_page: '7', page: '3' }, { perPage: 7, page: 3 });
        await checkPage(250, { per_page: '100', page: '3' }, { perPage: 100, page: 3 });
        await checkPage(250, { page: '2', per_page: '50', search: 'Paged' }, { perPage: 50, page: 2 });
        await checkPage(101, { search: 'paged', per_page: '25', page: '5' }, { perPage: 25, page: 5 });
        await checkPage(1, { per_page: '1' }, { perPage: 1, page: 1 });
        await checkPage(0, { per_page: '1', page: '2' }, { perPage: 1, page: 2 });
    });

    it('§3 walking links.next from page 1 visits every account once', async () => {
        const { client, guids } = partners[250];
        let target = '/v1/accounts?per_page=40';
        const seen = [];
        let pages = 0;
        while (target) {
            const res = await client.get(target);
            assert.equal(res.status, 200);
            seen.push(...res.body.data.map((a) => a.guid));
            pages += 1;
            const next = res.body.links.next;
            target = next ? new URL(next).pathname + new URL(next).search : null;
            assert.ok(pages <= 7);
        }
        assert.equal(pages, 7);
        assert.deepEqual(seen, guids);
    });

    for (const [param, values] of [
        ['page', ['0', '-1', 'abc', '1.5', '']],
        ['per_page', ['0', '-1', '101', 'abc', '1.5', '']],
    ]) {
        for (const v of values) {
            it(`§3 ${param}=${JSON.stringify(v)} is not an integer in range -> 400 validation_failed with errors.${param}`, async () => {
                const { client } = partners[101];
                const res = await client.get(`/v1/accounts?${param}=${encodeURIComponent(v)}`);
                expectError(assert, res, 400, 'validation_failed');
                assert.ok(Array.isArray(res.body.errors[param]) && res.body.errors[param].length > 0, res.text);
            });
        }
    }

    it('§3 links are built from the request\'s Host by default', async () => {
        const { client } = partners[101];
        const res = await client.get('/v1/accounts', { query: { per_page: '50', page: '2' }, headers: { Host: 'api.example.test:8443' } });
        assert.equal(res.status, 200);
        for (const url of [res.body.links.first, res.body.links.last, res.body.links.prev, res.body.links.next, res.body.meta.path]) {
            const u = new URL(url);
            assert.equal(u.host, 'api.example.test:8443', url);
            assert.equal(u.pathname, '/v1/accounts');
        }
    });

    it('§3 other parameters with reserved characters survive in the links, URL-encoded', async () => {
        const { client } = partners[250];
        // Names "Paged 1", "Paged 10".."Paged 19", "Paged 100".."Paged 199" contain "paged 1": 111 of them.
        const query = { search: 'paged 1', per_page: '10', page: '2' };
        const res = await client.get('/v1/accounts', { query });
        assert.equal(res.status, 200);
        assert.equal(res.body.meta.total, 111);
        assert.equal(res.body.meta.last_page, 12);
        assert.equal(new URL(res.body.links.next).searchParams.get('search'), 'paged 1');
        const odd = await client.get('/v1/accounts', { query: { search: 'a&b=c+d%e/f?g#h', page: '1' } });
        assert.equal(odd.status, 200);
        assert.equal(odd.body.meta.total, 0);
        assert.equal(new URL(odd.body.links.first).searchParams.get('search'), 'a&b=c+d%e/f?g#h');
        assert.equal(new URL(odd.body.meta.path).searchParams.get('search'), 'a&b=c+d%e/f?g#h');
    });
});

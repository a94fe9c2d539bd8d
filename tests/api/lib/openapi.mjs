// Validates every response the tests receive against src/api/openapi.json.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { OPENAPI_PATH } from './paths.mjs';

const DOC_ID = 'https://weft.invalid/openapi.json';

export const openapiDoc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...openapiDoc, $id: DOC_ID });

const compiled = new Map();
function validatorFor(pointer) {
    let v = compiled.get(pointer);
    if (!v) {
        v = ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
        compiled.set(pointer, v);
    }
    return v;
}

const escapePointer = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function resolve(obj) {
    let pointer = null;
    while (obj && obj.$ref) {
        pointer = obj.$ref.slice(1);
        obj = pointer
            .split('/')
            .slice(1)
            .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
            .reduce((o, k) => o[k], openapiDoc);
    }
    return { obj, pointer };
}

// Documented paths as regexes, literal paths before templated ones.
const routes = Object.keys(openapiDoc.paths)
    .map((template) => {
        const segments = template.split('/');
        const regex = new RegExp(
            '^' + segments.map((s) => (/^\{.+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '$',
        );
        const literal = segments.filter((s) => !/^\{.+\}$/.test(s)).length;
        return { template, regex, literal };
    })
    .sort((a, b) => b.literal - a.literal);

export function findPath(pathname) {
    return routes.find((r) => r.regex.test(pathname))?.template ?? null;
}

export function documentedMethods(template) {
    return Object.keys(openapiDoc.paths[template]).filter((k) =>
        ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(k),
    );
}

function mediaTypeOf(headers) {
    return String(headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function fail(ctx, message) {
    throw new Error(`OpenAPI contract violation for ${ctx}: ${message}`);
}

function checkHeaders(ctx, docHeaders, headers) {
    for (const [name, h0] of Object.entries(docHeaders ?? {})) {
        const { obj: h } = resolve(h0);
        const value = headers[name.toLowerCase()];
        if (value === undefined) {
            if (h.required) fail(ctx, `missing required header ${name}`);
            continue;
        }
        const schema = h.schema ?? {};
        if (schema.type === 'integer') {
            if (!/^\d+$/.test(String(value))) fail(ctx, `header ${name}=${JSON.stringify(value)} is not an integer`);
            const n = Number(value);
            if (schema.minimum !== undefined && n < schema.minimum) fail(ctx, `header ${name}=${n} < ${schema.minimum}`);
        } else if (schema.minLength && String(value).length < schema.minLength) {
            fail(ctx, `header ${name} is empty`);
        }
    }
}

function checkBodyAgainst(ctx, pointer, body) {
    const v = validatorFor(pointer);
    if (!v(body)) {
        fail(ctx, `body does not match ${pointer}: ${ajv.errorsText(v.errors, { separator: '; ' })}\nbody: ${JSON.stringify(body).slice(0, 2000)}`);
    }
}

function parseJson(ctx, text) {
    try {
        return JSON.parse(text);
    } catch {
        fail(ctx, `body is not JSON: ${text.slice(0, 300)}`);
    }
}

/**
 * Checks one response against the document.
 * res: {status, headers (lower-case keys), text}. Returns the parsed JSON body (or null).
 */
export function validateResponse(method, pathname, res) {
    const ctx = `${method} ${pathname} -> ${res.status}`;
    const { status, headers, text } = res;
    if (!headers['x-request-id']) fail(ctx, 'missing X-Request-Id header');
    if (pathname === '/_test/clock') return text && mediaTypeOf(headers) === 'application/json' ? JSON.parse(text) : null;

    const template = findPath(pathname);
    const operation = template ? openapiDoc.paths[template][method.toLowerCase()] : undefined;
    let body = null;
    if (!operation) {
        // Unknown path (404) or a method the path lacks (405): only the generic error shape can apply.
        if (status < 400) fail(ctx, `${template ? 'method' : 'path'} not documented, yet status ${status}`);
        if (!template && status === 405) fail(ctx, '405 for a path that does not exist');
        if (template && status === 405) {
            if (!headers.allow) fail(ctx, '405 without an Allow header');
        }
        if (mediaTypeOf(headers) !== 'application/json') fail(ctx, `error response with content-type ${headers['content-type']}`);
        body = parseJson(ctx, text);
        checkBodyAgainst(ctx, '/components/schemas/Error', body);
        if (status === 405 && body.code !== 'method_not_allowed') fail(ctx, `code ${body.code} with 405`);
        if (status === 404 && body.code !== 'not_found') fail(ctx, `code ${body.code} with 404`);
    } else {
        // `default` documents statuses chosen at run time (an Output block's status on a triggered call).
        const key = operation.responses[String(status)] ? String(status) : 'default';
        const { obj: response } = resolve(operation.responses[key]);
        if (!response) fail(ctx, `status ${status} is not documented for this operation`);
        checkHeaders(ctx, response.headers, headers);
        if (!response.content) {
            if (text.length !== 0) fail(ctx, `expected no body, got ${text.slice(0, 200)}`);
        } else {
            const mt = mediaTypeOf(headers);
            const media = response.content[mt];
            if (!media) fail(ctx, `content-type ${headers['content-type']} not documented (have ${Object.keys(response.content)})`);
            if (mt === 'application/json') {
                body = parseJson(ctx, text);
                const responseRef = operation.responses[key].$ref;
                const pointer = responseRef
                    ? `${responseRef.slice(1)}/content/${escapePointer(mt)}/schema`
                    : `/paths/${escapePointer(template)}/${method.toLowerCase()}/responses/${key}/content/${escapePointer(mt)}/schema`;
                checkBodyAgainst(ctx, pointer, body);
            }
        }
    }
    if (body && typeof body === 'object' && 'request_id' in body && body.request_id !== headers['x-request-id']) {
        fail(ctx, `request_id ${body.request_id} differs from X-Request-Id ${headers['x-request-id']}`);
    }
    return body;
}

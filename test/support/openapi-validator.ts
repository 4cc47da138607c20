import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TestApp } from './test-app.js';

// ajv-formats is CommonJS with a default export, which ESM sees as the module or its default.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

/**
 * Checks answers against the service's own OpenAPI document: the schema documented for the
 * route, method and status must accept the body.
 */
export class OpenApiValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly cache = new Map<string, ValidateFunction | null>();

  constructor(private readonly document: { paths: Record<string, Record<string, Operation>> }) {
    addFormats(this.ajv);
    this.ajv.addSchema(withNullAsType(structuredClone(document)) as object, 'openapi.json');
  }

  static async of(app: TestApp): Promise<OpenApiValidator> {
    const res = await app.http.get('/api/openapi.json').expect(200);
    return new OpenApiValidator(res.body);
  }

  /** Errors of a body against the documented schema; undefined when nothing is documented. */
  check(method: string, path: string, status: number, body: unknown): string[] | undefined {
    const key = `${method} ${path} ${status}`;
    if (!this.cache.has(key)) {
      this.cache.set(key, this.compile(method, path, status));
    }
    const validate = this.cache.get(key);
    if (!validate) {
      return undefined;
    }
    return validate(body)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  }

  private compile(method: string, path: string, status: number): ValidateFunction | null {
    const response = this.document.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
    const content = response?.content ?? {};
    const media = Object.keys(content).find((type) => type.includes('json'));
    if (!media || !content[media].schema) {
      return null;
    }
    const pointer = `openapi.json#/paths/${escape(path)}/${method.toLowerCase()}/responses/${status}/content/${escape(media)}/schema`;
    return this.ajv.compile({ $ref: pointer });
  }
}

/**
 * OpenAPI 3.0 says `nullable: true` beside a schema; JSON Schema, which ajv speaks, says
 * "this or null". Rewrites the one into the other, everywhere in the document.
 */
function withNullAsType(node: unknown): unknown {
  if (Array.isArray(node)) {
    return node.map(withNullAsType);
  }
  if (node && typeof node === 'object') {
    const entries = Object.entries(node).map(([k, v]) => [k, withNullAsType(v)] as const);
    const object = Object.fromEntries(entries) as Record<string, unknown>;
    if (object.nullable === true) {
      const { nullable: _nullable, ...schema } = object;
      return { anyOf: [schema, { type: 'null' }] };
    }
    return object;
  }
  return node;
}

const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

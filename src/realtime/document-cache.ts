import {
  BREAK,
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  OperationTypeNode,
  parse,
  SelectionSetNode,
  specifiedRules,
  validate,
  ValidationContext,
  ValidationRule,
  visit,
} from 'graphql';
import { Errors, GatewayError, parseFailure, validationFailure } from '../common/errors';

const MAX_DOCUMENTS = 500;

/** The one root field an end user's (Clerk) connection may ask for. */
const USER_ROOT_FIELD = 'usageChanged';
const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/** Who sends a document: an admin sees the whole schema, an end user only `usageChanged`. */
export type Audience = 'admin' | 'user';

/**
 * Parsed and validated subscription documents, shared by every connection that sends the same text.
 * Thousands of apps subscribe with one document; parsing it once (without locations) instead of per
 * subscriber is most of a subscriber's memory. Bounded, oldest out first.
 */
export class DocumentCache {
  private readonly documents = new Map<string, DocumentNode>();
  private readonly verdicts = new WeakMap<DocumentNode, ReadonlyArray<GraphQLError>>();
  private readonly userVerdicts = new WeakMap<DocumentNode, GatewayError[]>();
  private readonly rules: ReadonlyArray<ValidationRule>;

  constructor(
    extraRules: ReadonlyArray<ValidationRule>,
    private readonly maxTokens: number,
  ) {
    this.rules = [...specifiedRules, noConditionalSubscriptionRoot, ...extraRules];
  }

  /** The document, or the catalogue's errors for it (as HTTP answers them, or as an end user may see them). */
  prepare(schema: GraphQLSchema, text: unknown, audience: Audience): DocumentNode | GatewayError[] {
    if (typeof text !== 'string') return [Errors.badRequest('the subscribe message has no query')];
    let document = this.documents.get(text);
    if (!document) {
      try {
        document = parse(text, { noLocation: true, maxTokens: this.maxTokens });
      } catch (error) {
        return [parseFailure((error as Error).message)];
      }
      if (this.documents.size >= MAX_DOCUMENTS) this.documents.delete(this.documents.keys().next().value!);
      this.documents.set(text, document);
    }
    const errors = audience === 'user' ? this.userErrors(schema, document) : this.validate(schema, document).map(asGatewayError);
    return errors.length > 0 ? errors : document;
  }

  /**
   * An end user's document is checked for its shape before the schema is consulted at all, and a
   * validation failure says nothing about the schema: no "Did you mean", no type or field names
   * (which would tell an existing admin type from a missing one).
   */
  private userErrors(schema: GraphQLSchema, document: DocumentNode): GatewayError[] {
    let errors = this.userVerdicts.get(document);
    if (!errors) {
      if (!isUsageChangedOnly(document)) {
        errors = [Errors.forbidden(`a user token may only subscribe to ${USER_ROOT_FIELD}`)];
      } else {
        const invalid = this.validate(schema, document);
        // Our own limit rules report catalogue errors, which name no part of the schema; keep those.
        const ours = invalid.map(ourError).filter((error): error is GatewayError => error !== undefined);
        errors = ours.length < invalid.length ? [...ours, Errors.invalidQuery(`not a valid ${USER_ROOT_FIELD} subscription`)] : ours;
      }
      this.userVerdicts.set(document, errors);
    }
    return errors;
  }

  private validate(schema: GraphQLSchema, document: DocumentNode): ReadonlyArray<GraphQLError> {
    let errors = this.verdicts.get(document);
    if (!errors) {
      errors = validate(schema, document, this.rules);
      this.verdicts.set(document, errors);
    }
    return errors;
  }
}

/** One subscription operation whose only root selection is a plain `usageChanged` field, and no introspection anywhere. */
function isUsageChangedOnly(document: DocumentNode): boolean {
  const [operation, ...others] = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (!operation || others.length > 0 || operation.operation !== OperationTypeNode.SUBSCRIPTION) return false;
  const [root, ...siblings] = operation.selectionSet.selections;
  if (siblings.length > 0 || root.kind !== Kind.FIELD || root.name.value !== USER_ROOT_FIELD) return false;
  // @skip/@include on the root field leaves graphql-js no field to subscribe to (it throws inside graphql-ws).
  if (root.directives?.length) return false;
  let introspects = false;
  visit(document, {
    Field(node) {
      if (!INTROSPECTION_FIELDS.has(node.name.value)) return undefined;
      introspects = true;
      return BREAK;
    },
  });
  return !introspects;
}

/**
 * `@skip`/`@include` on a subscription's root selection can leave graphql-js no field to subscribe to,
 * and graphql-ws then throws inside its message handler ("undefined is not iterable") instead of
 * answering. graphql-js 17 refuses these documents in its own rule; until then, this one does.
 */
export function noConditionalSubscriptionRoot(context: ValidationContext) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const conditional = (selectionSet: SelectionSetNode, seen: Set<string>): boolean =>
    selectionSet.selections.some((selection) => {
      if (selection.directives?.some((directive) => directive.name.value === 'skip' || directive.name.value === 'include')) return true;
      if (selection.kind === Kind.INLINE_FRAGMENT) return conditional(selection.selectionSet, seen);
      if (selection.kind !== Kind.FRAGMENT_SPREAD || seen.has(selection.name.value)) return false;
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      return fragment !== undefined && conditional(fragment.selectionSet, seen);
    });
  return {
    OperationDefinition(node: { operation: string; selectionSet: SelectionSetNode }) {
      if (node.operation === 'subscription' && conditional(node.selectionSet, new Set())) {
        context.reportError(Errors.invalidQuery('a subscription cannot use @skip or @include on its root field'));
      }
    },
  };
}

function ourError(error: GraphQLError): GatewayError | undefined {
  if (error instanceof GatewayError) return error;
  if (error.originalError instanceof GatewayError) return error.originalError;
  return undefined;
}

function asGatewayError(error: GraphQLError): GatewayError {
  return ourError(error) ?? validationFailure(error.message);
}

import { DocumentNode, GraphQLError, GraphQLSchema, parse, specifiedRules, validate, ValidationRule } from 'graphql';
import { Errors, GatewayError, parseFailure } from '../common/errors';

const MAX_DOCUMENTS = 500;

/**
 * Parsed and validated subscription documents, shared by every connection that sends the same text.
 * Thousands of apps subscribe with one document; parsing it once (without locations) instead of per
 * subscriber is most of a subscriber's memory. Bounded, oldest out first.
 */
export class DocumentCache {
  private readonly documents = new Map<string, DocumentNode>();
  private readonly verdicts = new WeakMap<DocumentNode, ReadonlyArray<GraphQLError>>();
  private readonly rules: ReadonlyArray<ValidationRule>;

  constructor(extraRules: ReadonlyArray<ValidationRule>, private readonly maxTokens: number) {
    this.rules = [...specifiedRules, ...extraRules];
  }

  /** The document, or the catalogue's errors for it (as HTTP answers them). */
  prepare(schema: GraphQLSchema, text: unknown): DocumentNode | GatewayError[] {
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
    const errors = this.validate(schema, document);
    return errors.length > 0 ? errors.map(asGatewayError) : document;
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

function asGatewayError(error: GraphQLError): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error.originalError instanceof GatewayError) return error.originalError;
  return Errors.invalidQuery(error.message);
}

import { DocumentNode, GraphQLError, GraphQLSchema, parse, specifiedRules, validate, ValidationRule } from 'graphql';

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

  parse(text: string): DocumentNode {
    const cached = this.documents.get(text);
    if (cached) return cached;
    const document = parse(text, { noLocation: true, maxTokens: this.maxTokens });
    if (this.documents.size >= MAX_DOCUMENTS) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(text, document);
    return document;
  }

  validate(schema: GraphQLSchema, document: DocumentNode): ReadonlyArray<GraphQLError> {
    let errors = this.verdicts.get(document);
    if (!errors) {
      errors = validate(schema, document, this.rules);
      this.verdicts.set(document, errors);
    }
    return errors;
  }
}

// GraphQL Code Generator: TypeScript types for the schema and for each operation in
// operations/, with typed documents to hand to Apollo Client (or any client that takes a
// TypedDocumentNode). Run `npx graphql-codegen --config codegen.ts` here.
//
// generated/client/ is the client preset's output with persisted documents: typed documents
// carrying their hash (`__meta__.hash`) and persisted-documents.json, the list a server
// started with WORKGRAPH_TRUSTED_DOCUMENTS runs (and nothing else).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["operations/*.graphql"],
  generates: {
    "generated/graphql.ts": {
      plugins: ["typescript", "typescript-operations", "typed-document-node"],
      config: {
        // The schema's custom scalars, RFC 3339 strings on the wire (`Date` a full-date).
        scalars: { DateTime: "string", Date: "string" },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
      },
    },
    "generated/client/": {
      preset: "client",
      presetConfig: {
        // The preset hashes with SHA-1 unless told; the server takes SHA-256 only (the hash
        // Apollo's persisted-queries link sends too).
        persistedDocuments: { hashAlgorithm: "sha256" },
        fragmentMasking: false,
      },
      config: {
        scalars: { DateTime: "string", Date: "string" },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;

// GraphQL Code Generator: TypeScript types for the schema and for each operation in
// operations/, with typed documents to hand to Apollo Client (or any client that takes a
// TypedDocumentNode). Run `npx graphql-codegen --config codegen.ts` here.
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
  },
};

export default config;

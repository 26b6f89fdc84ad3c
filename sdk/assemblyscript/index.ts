// Package entry for `import { ... } from "tidemark-sdk"` (asc resolves a
// package import to <package>/index.ts).
export * from "./assembly/index";

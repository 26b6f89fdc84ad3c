// Tidemark AssemblyScript SDK: the guest side of abi/ABI.md.
export * from "./status";
export * from "./input";
export * from "./alert";
export * from "./options";
export * from "./analyzer";
export { JSONValue, parseJSON, JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } from "./json";

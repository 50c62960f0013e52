package douke

// DecodePageInParts exposes decodePageInParts to the external benchmarks.
var DecodePageInParts = decodePageInParts

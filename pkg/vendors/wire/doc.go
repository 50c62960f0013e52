// Package wire is what the vendor packages share to read their vendors' JSON
// and map it to canonical events, so that each rule has one implementation:
//
//   - scalar.go: tolerant scalar types that survive type drift (an integer
//     sent as a string, a 19-digit ID sent as a bare number) and the helpers
//     that classify raw JSON values (IsNull, IsEmpty, KindOf);
//   - time.go: China Standard Time wall-clock parsing (CST, ParseTime);
//   - record.go: decoding one wire record or a list of them so that the
//     error names the element and the field that broke, the malformed-page
//     error, and Clip for error texts;
//   - normalize.go: the steps every Normalize shares: checking a raw page's
//     account label and a record's ID, checking a record's fields in order
//     (Fields), and turning mapped orders into envelopes (OrderEnvelopes).
//
// Nothing here goes through float64: integers and IDs are parsed from their
// literal text, so every int64 and every decimal ID survives exactly.
//
// Vendors differ in how much drift they forgive. The Strict dialect (Int,
// String, ID) accepts the JSON kinds a field's documented type can take; the
// Lax dialect (LaxInt, LaxString) also forgives what PHP-backed APIs send.
// Anything more vendor-specific (money strings, percentages, placeholders
// such as "-", required envelope codes) stays in the vendor's package, built
// on these helpers.
package wire

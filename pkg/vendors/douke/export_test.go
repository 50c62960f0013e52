package douke

// DecodePageInParts and DecodePageReference expose the encoding/json paths
// to the external benchmarks.
var (
	DecodePageInParts   = decodePageInParts
	DecodePageReference = decodePageReference
)

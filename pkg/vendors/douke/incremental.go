package douke

import "time"

// IncrementalTimeTypes implements vendors.Incremental: veapi filters on the
// alliance-side update time, which moves whenever an order changes.
func (Vendor) IncrementalTimeTypes() []string { return []string{"update"} }

// Earliest implements vendors.Horizon: veapi serves nothing before
// 2021-10-01 00:00:00 CST.
func (Vendor) Earliest() time.Time { return earliest }

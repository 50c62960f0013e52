package douke

// IncrementalTimeTypes implements vendors.Incremental: veapi filters on the
// alliance-side update time, which moves whenever an order changes.
func (Vendor) IncrementalTimeTypes() []string { return []string{"update"} }

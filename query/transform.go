// Operator: transformations (derivative, difference, moving_average,
// cumulative_sum, elapsed...). Over raw values they read a group's points as one
// window (call.go); over aggregates they run on the filled per-window points
// (fill.go), and the range is extended back by the windows they need first,
// those rows dropped again before projection.
package query

// transformLead is how many GROUP BY time windows before the range a
// transformation of an aggregate needs, as InfluxDB 1.x reads them: one for
// derivative, difference and elapsed, N-1 for moving_average(_, N).
func transformLead(c *callPlan) int64 {
	if c.rawTrans {
		return 0
	}
	switch c.transform {
	case "derivative", "non_negative_derivative", "difference", "non_negative_difference", "elapsed":
		return 1
	case "moving_average":
		if len(c.targs) > 0 {
			if n, ok := c.targs[0].(int64); ok && n > 1 {
				return n - 1
			}
		}
	}
	return 0
}

// extendForTransforms moves the start of a GROUP BY time range back by the
// windows the transformations need, so that the first window of the range has
// its predecessors (filled as the statement says); rows before the range are
// dropped again in aggregateRows.
func (r *selectRun) extendForTransforms() {
	p := r.plan
	if p.interval <= 0 || !p.tr.HasMin() || r.implicitStart || !p.ascending {
		return
	}
	var lead int64
	for _, c := range p.calls {
		lead = max(lead, transformLead(c))
	}
	if lead == 0 {
		return
	}
	first := r.windowOf(p.tr.Min)
	ext := first - lead*int64(p.interval)
	if ext > first { // overflow near the start of time: leave the range alone
		return
	}
	r.keepFrom = &first
	p.tr.Min = ext
}

// dropLead drops the rows of the windows extendForTransforms added before the
// statement's range: they were read only as the transformations' predecessors.
func (r *selectRun) dropLead(rows []Row) []Row {
	if r.keepFrom == nil {
		return rows
	}
	i := 0
	for i < len(rows) && rows[i].Time < *r.keepFrom {
		i++
	}
	return rows[i:]
}

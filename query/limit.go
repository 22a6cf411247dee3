// Operator: limits. SLIMIT/SOFFSET choose among a statement's output series
// before any is computed; OFFSET/LIMIT cut each aggregate series' rows (raw
// groups apply them while they merge, in merge.go).
package query

// limitSeries applies SLIMIT and SOFFSET: they choose among the output series
// before any is computed.
func (p *selectPlan) limitSeries(groups []*group) []*group {
	if off := p.stmt.SOffset; off > 0 {
		if off >= len(groups) {
			return nil
		}
		groups = groups[off:]
	}
	if lim := p.stmt.SLimit; lim > 0 && len(groups) > lim {
		groups = groups[:lim]
	}
	return groups
}

// limitRows applies OFFSET and LIMIT to one aggregate series' rows, in output
// order.
func limitRows(rows []Row, offset, limit int) []Row {
	if offset > 0 {
		if offset >= len(rows) {
			return nil
		}
		rows = rows[offset:]
	}
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return rows
}

package httpapi

import "github.com/strata-db/strata/query"

// The result types the tests build, unqualified as the tests were written.
type (
	Row             = query.Row
	ResultSeries    = query.ResultSeries
	StatementResult = query.StatementResult
	ResponseMessage = query.ResponseMessage
)

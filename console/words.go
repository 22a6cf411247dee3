package console

import (
	"encoding/json"
	"net/http"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
)

// words is what the editor highlights and completes: InfluxQL's keywords from
// the parser's token table and the functions of query/funcs' registry, so the
// page offers exactly what the server parses and keeps no list of its own.
type words struct {
	Keywords  []string `json:"keywords"`
	Functions []string `json:"functions"`
}

// Words returns InfluxQL's keywords (upper case) and function names (lower
// case), for editors that complete them (this page, strata shell).
func Words() (keywords, functions []string) {
	for tok := influxql.ALL; tok <= influxql.WRITE; tok++ {
		keywords = append(keywords, tok.String())
	}
	return keywords, funcs.Names()
}

func wordsJSON() []byte {
	var w words
	w.Keywords, w.Functions = Words()
	b, _ := json.Marshal(w)
	return b
}

func serveWords(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(body)
	}
}

package serve

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// maxPage bounds the n of a paginated list.
const maxPage = 10000

// pageSize reads the n parameter (-1 when absent).
func pageSize(r *http.Request) (int, error) {
	v := r.URL.Query().Get("n")
	if v == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("n=%q: want a number of at least 0", v)
	}
	return min(n, maxPage), nil
}

// page returns the names (sorted) after the last parameter, at most n of
// them, and the query of the next page ("" when this is the last).
func page(sorted []string, r *http.Request) ([]string, string) {
	last := r.URL.Query().Get("last")
	start := 0
	if last != "" {
		start = sort.SearchStrings(sorted, last)
		if start < len(sorted) && sorted[start] == last {
			start++
		}
	}
	rest := sorted[start:]
	n, err := pageSize(r)
	if err != nil || n < 0 || n >= len(rest) {
		return rest, ""
	}
	out := rest[:n]
	if n == 0 {
		return out, ""
	}
	return out, url.Values{"n": {strconv.Itoa(n)}, "last": {out[n-1]}}.Encode()
}

package config

import "strings"

// suggestKey returns the known key that key was probably meant to be, or ""
// when none is close. Keys match when they are equal after lower-casing and
// turning "_" into "-", or when they differ by at most two edits.
func suggestKey(key string, known []string) string {
	norm := strings.ReplaceAll(strings.ToLower(key), "_", "-")
	best, bestDistance := "", 3
	for _, k := range known {
		if norm == k {
			return k
		}
		if d := editDistance(norm, k); d < bestDistance && len(k) > 3 {
			best, bestDistance = k, d
		}
	}
	return best
}

// editDistance returns the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

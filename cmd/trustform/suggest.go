package main

// suggest is the option closest to word within two edits (a typo: plna,
// sate), or "".
func suggest(word string, options []string) string {
	best, bestD := "", 3
	for _, o := range options {
		if d := distance(word, o); d < bestD {
			best, bestD = o, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b, with a transposition
// of two neighbours counting as one edit (Damerau's restricted form).
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// didYouMean is ` Did you mean "x"?` for a typo of one of options, or "".
func didYouMean(word string, options []string) string {
	if s := suggest(word, options); s != "" {
		return " Did you mean \"" + s + "\"?"
	}
	return ""
}

package mail

import "strings"

// unflow undoes format=flowed (RFC 3676), which Thunderbird and Apple Mail
// use for plain text: the sender wraps long lines at about 72 characters and
// ends every line it wrapped with a space. Such a line continues on the next
// line of the same quote depth; with DelSp=yes the space itself was added by
// the wrapping and goes too. A leading space added to protect a line
// ("space-stuffing") is removed, and quoted lines keep their '>' marks, so
// quoted history is still recognised as such. A signature separator ("-- ")
// never continues.
func unflow(s string, delSp bool) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	trailingNewline := strings.HasSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\n")

	var (
		out   strings.Builder
		para  strings.Builder // the paragraph being joined
		depth = -1            // its quote depth; -1 when none is open
	)
	out.Grow(len(s))
	end := func() {
		if depth < 0 {
			return
		}
		if depth > 0 {
			out.WriteString(strings.Repeat(">", depth))
			out.WriteByte(' ')
		}
		out.WriteString(para.String())
		out.WriteByte('\n')
		para.Reset()
		depth = -1
	}
	for line := range strings.SplitSeq(s, "\n") {
		d := 0
		for d < len(line) && line[d] == '>' {
			d++
		}
		text := strings.TrimPrefix(line[d:], " ")
		if depth >= 0 && (d != depth || text == "") {
			// A change of quote depth ends a paragraph, wrapped or not;
			// so does a blank line, which a sender that put a space before
			// it still meant as one.
			end()
		}
		flowed := strings.HasSuffix(text, " ") && text != "-- "
		if flowed && delSp {
			text = text[:len(text)-1]
		}
		para.WriteString(text)
		depth = d
		if !flowed {
			end()
		}
	}
	end()
	if !trailingNewline {
		return strings.TrimSuffix(out.String(), "\n")
	}
	return out.String()
}

package mail

import "testing"

func TestUnflow(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		delSp bool
		want  string
	}{
		{"fixed lines stay", "Buy 10 Dec corn.\nAt 4.52 limit.\n", false, "Buy 10 Dec corn.\nAt 4.52 limit.\n"},
		{"wrapped lines join", "Buy 10 Dec corn at 4.52 \nlimit, good till \ncancelled.\n", false,
			"Buy 10 Dec corn at 4.52 limit, good till cancelled.\n"},
		{"DelSp drops the wrapping space", "Buy 10 Dec corn at 4.52lim \nit.\n", true, "Buy 10 Dec corn at 4.52limit.\n"},
		{"CRLF, no final newline", "one \r\ntwo\r\nthree", false, "one two\nthree"},
		{"space-stuffing undone", " From Monday on.\n  indented\n", false, "From Monday on.\n indented\n"},
		{"quoted lines join at their depth", "> Corn closed \n> higher.\n>> Older \n>> text.\nNew.\n", false,
			"> Corn closed higher.\n>> Older text.\nNew.\n"},
		{"a change of depth ends a paragraph", "> wrapped but \n>> deeper\n", false, "> wrapped but \n>> deeper\n"},
		{"signature separator never joins", "Lena\n-- \nBrandt Agrar\n", false, "Lena\n-- \nBrandt Agrar\n"},
		{"blank lines end paragraphs", "first \n\nsecond\n", false, "first \n\nsecond\n"},
		{"a last wrapped line is kept", "dangling ", false, "dangling "},
		{"empty", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unflow(tt.in, tt.delSp); got != tt.want {
				t.Errorf("unflow(%q, %v) = %q, want %q", tt.in, tt.delSp, got, tt.want)
			}
		})
	}
}

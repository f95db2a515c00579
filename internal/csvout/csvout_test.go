package csvout

import "testing"

func TestText(t *testing.T) {
	for in, want := range map[string]string{"=SUM(A1)": "'=SUM(A1)", "@x": "'@x", "-1": "'-1", "Acme": "Acme", "": ""} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncode(t *testing.T) {
	b, err := Encode([]string{"key", "label"}, [][]string{{"a", "x,y"}, {"", `say "hi"`}})
	if err != nil {
		t.Fatal(err)
	}
	want := "key,label\r\na,\"x,y\"\r\n,\"say \"\"hi\"\"\"\r\n"
	if string(b) != want {
		t.Errorf("Encode = %q, want %q", b, want)
	}
}

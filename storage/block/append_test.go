package block

import "testing"

func TestAppendRowsAndOwnStrings(t *testing.T) {
	src := &Column{Type: String, Times: []int64{1, 2, 3}, Strings: [][]byte{[]byte("a"), []byte("b"), []byte("c")}}
	var dst Column
	dst.Type = String
	dst.AppendRows(src, 1, 3)
	dst.AppendRow(src, 0)
	if dst.Len() != 3 || dst.Times[0] != 2 || dst.Times[2] != 1 || string(dst.Strings[1]) != "c" || string(dst.Strings[2]) != "a" {
		t.Fatalf("appended %+v", dst)
	}
	dst.OwnStrings(1)
	src.Strings[1][0] = 'x' // shared with dst row 0
	src.Strings[2][0] = 'y' // copied into dst row 1
	src.Strings[0][0] = 'z' // copied into dst row 2
	if string(dst.Strings[0]) != "x" || string(dst.Strings[1]) != "c" || string(dst.Strings[2]) != "a" {
		t.Fatalf("ownership: %q", dst.Strings)
	}
	f := &Column{Type: Float, Times: []int64{5, 6}, Floats: []float64{0.5, 0.6}}
	var g Column
	g.Type = Float
	g.AppendRows(f, 0, 2)
	if g.Len() != 2 || g.Floats[1] != 0.6 {
		t.Fatalf("floats %+v", g)
	}
}

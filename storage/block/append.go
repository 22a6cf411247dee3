package block

// AppendRow appends row i of src to c; both must have src's type. String values
// are shared, not copied: a caller keeping them past src's lifetime (a decoder
// buffer is reused by the next Decode) must copy them.
func (c *Column) AppendRow(src *Column, i int) {
	c.AppendRows(src, i, i+1)
}

// AppendRows appends rows [i, j) of src to c in bulk; both must have src's type.
// String values are shared as with AppendRow.
func (c *Column) AppendRows(src *Column, i, j int) {
	c.Times = append(c.Times, src.Times[i:j]...)
	switch src.Type {
	case Float:
		c.Floats = append(c.Floats, src.Floats[i:j]...)
	case Integer:
		c.Ints = append(c.Ints, src.Ints[i:j]...)
	case Unsigned:
		c.Uints = append(c.Uints, src.Uints[i:j]...)
	case Boolean:
		c.Bools = append(c.Bools, src.Bools[i:j]...)
	case String:
		c.Strings = append(c.Strings, src.Strings[i:j]...)
	}
}

// OwnStrings replaces the string values from row i on with copies, so that c no
// longer shares them with the column they were appended from.
func (c *Column) OwnStrings(i int) {
	for k := i; k < len(c.Strings); k++ {
		c.Strings[k] = append([]byte(nil), c.Strings[k]...)
	}
}
